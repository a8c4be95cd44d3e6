"""Decode time per real capture: the codec against asn1tools decoding the same bytes alone.

Run: ``.venv/bin/python -m tests.codec.perf_decode`` (not collected by pytest; prints, asserts
nothing). "ours" is ``codec.decode_message``: UPER with constraint checks, the unknown-extension
scan and the mapping to contract messages; the peer is asn1tools' unchecked decode of the
MessageFrame (and, for J2735, of its open types), measured in the same run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import codec
from codec import j2735, schema
from codec.j2735.bsm import PART_II_TYPES
from codec.message import Context
from tests.conftest import V2X_SAMPLES


def _captures() -> list[tuple[str, bytes]]:
    out = []
    for line in (V2X_SAMPLES / "csae-changsha" / "rsu_captures.txt").read_text(encoding="utf-8").splitlines():
        m = re.search(r"：([0-9a-f]{40,})$", line.strip())
        if m:
            out += [("csae", u) for u in codec.decode_rsu_frame(bytes.fromhex(m.group(1))).messages]
    for name in ("bsm", "spat", "map", "srm", "ssm"):
        text = Path(V2X_SAMPLES / "j2735-jpo-ode" / f"decoder-output-{name}.xml").read_text(encoding="utf-8")
        hx = re.search(r"<asn1>\s*([0-9A-Fa-f]+)\s*</asn1>", text)
        assert hx is not None
        out.append(("j2735", bytes.fromhex(hx.group(1))))
    return out


def _best_us(fn: Callable[[], object], n: int, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def _peer(std: str, uper: bytes) -> None:
    spec = schema.spec(std)
    frame = spec.decode("MessageFrame", uper)
    if std == "j2735":
        inner = spec.decode(j2735.MESSAGES[frame["messageId"]][1], frame["value"])
        for part in inner.get("partII", ()):
            spec.decode(PART_II_TYPES[part["partII-Id"]], part["partII-Value"])


def main() -> None:
    """Print one line per capture and the overall ratio."""
    ctx = Context(1_700_000_000 * 10**9)
    total_ours = total_peer = 0.0
    caps = _captures()
    for std, uper in caps:
        n = max(20, 20000 // len(uper))
        m = codec.decode_message(std, uper, ctx)
        ours = _best_us(lambda: codec.decode_message(std, uper, ctx), n)  # noqa: B023
        peer = _best_us(lambda: _peer(std, uper), n)  # noqa: B023
        total_ours, total_peer = total_ours + ours, total_peer + peer
        print(f"{std:5} {m.msg_type:4} {len(uper):4d} B  ours {ours:7.1f} us  asn1tools alone {peer:7.1f} us  "
              f"ours/peer = {ours / peer:.2f}")  # fmt: skip
    print(f"all {len(caps)} captures: ours/peer = {total_ours / total_peer:.2f} (best of 3 runs each)")


if __name__ == "__main__":
    main()
