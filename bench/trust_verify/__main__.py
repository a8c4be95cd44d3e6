"""µs per frame to verify signed device frames, against the cost of decoding the same frames.

Typical uplinks: RSU perception frames of ``--objects`` objects and single-vehicle BSMs, signed
with Ed25519 and with ECDSA P-256 (``trust.sign_envelope``). For each it times, per frame:

- ``verify``: :meth:`trust.FrameVerifier.verify` (parse, key lookup, signature, replay memory);
- ``decode``: ingest's :meth:`ingest.Decoder.decode` (parse, checks, numpy conversion) of the
  same payload, the peer it is compared with (``verify/decode``);
- ``ingest signed`` and ``ingest plain``: :meth:`ingest.IngestPipeline.feed` with the signature
  step on signed frames, and without it on the same frames unsigned (``signed/plain``): what
  signing adds to ingest per message, the envelope parsed once either way.

Each figure is the median over ``--runs`` runs (the runs interleave the variants, so all see the
same machine). Results go to ``bench/trust_verify/result.json``.

Run: ``.venv/bin/python -m bench.trust_verify [--frames 2000] [--runs 5] [--objects 20] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import proto
from ingest import Decoder, IngestPipeline, Limits
from proto import pb
from roadnet.frames import DEFAULT_ORIGIN, Frame
from trust import DeviceKey, FrameVerifier, KeyRegistry, LiveIdentities, Pseudonymizer, SignedFrames
from trust.signing import Algorithm, PrivateKey, generate_key, public_bytes, sign_envelope

FRAME = Frame.around(*DEFAULT_ORIGIN)
RESULT = Path(__file__).resolve().parent / "result.json"
T0 = 1_800_000_000_000_000_000


def perception_envelopes(n: int, n_obj: int) -> list[pb.Envelope]:
    """``n`` perception frames of ``n_obj`` objects from one RSU, 100 ms apart."""
    rng = np.random.default_rng(7)
    out = []
    for seq in range(n):
        t = T0 + seq * 100_000_000
        a = np.zeros(n_obj, dtype=proto.PERCEPTION_DTYPE)
        a["lat"], a["lon"] = FRAME.to_wgs84(rng.uniform(-200, 200, n_obj), rng.uniform(-200, 200, n_obj))
        a["local_id"] = np.arange(n_obj)
        a["speed"], a["heading"] = rng.uniform(0, 20, n_obj), rng.uniform(0, 6.28, n_obj)
        a["length"], a["width"], a["cls"], a["confidence"] = 4.5, 1.8, 1, 0.9
        a["cov_ee"], a["cov_nn"] = 0.25, 0.25
        out.append(proto.envelope("rsu-1", seq, sent_ns=t, perception=proto.array_to_perception(a, "rsu-1", t)))
    return out


def bsm_envelopes(n: int) -> list[pb.Envelope]:
    """``n`` BSMs of one vehicle, 100 ms apart."""
    lat0, lon0 = DEFAULT_ORIGIN
    out = []
    for seq in range(n):
        t = T0 + seq * 100_000_000
        b = pb.Bsm(
            vehicle_id="bus-17",
            measured_ns=t,
            lat_e7=int(lat0 * 1e7) + seq,
            lon_e7=int(lon0 * 1e7),
            speed_002=600,
            heading_00125=9000,
            length_cm=1200,
            width_cm=250,
            object_class=pb.OBJECT_CLASS_BUS,
        )
        out.append(proto.envelope("bus-17", seq, sent_ns=t, bsm=b))
    return out


def _per_frame_us(fn: Callable[[], object], n: int) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) / n * 1e6


def measure(kind: str, envs: list[pb.Envelope], key: PrivateKey) -> dict[str, float]:
    """One run: µs per frame of each variant on ``envs``."""
    kind_, device = ("rsu", "rsu-1") if kind == "perception" else ("obu", "bus-17")
    topic = proto.topic(kind_, device, kind if kind == "perception" else "bsm", "up")
    signed = [sign_envelope(e, key, "k1") for e in envs]
    plain = [e.SerializeToString() for e in envs]
    recv = [e.sent_ns + 5_000_000 for e in envs]
    n = len(envs)
    ids = LiveIdentities(Pseudonymizer(b"bench-secret-" + b"x" * 32))
    reg = KeyRegistry()
    name = SignedFrames(FrameVerifier(reg), ids).registry_name(kind_, device)  # an OBU: its keyed tag
    reg.register(name, DeviceKey("k1", public_bytes(key)))
    verifier = FrameVerifier(reg, max_age_s=1e9)
    frames = SignedFrames(FrameVerifier(reg, max_age_s=1e9), ids)  # its own replay memory
    decoder = Decoder(limits=Limits(max_age_s=1e9))
    lim = Limits(rate_per_s=1e9, burst=1e9, max_age_s=1e9)

    def verify() -> None:
        for p, r in zip(signed, recv, strict=True):
            assert verifier.verify(name, p, r / 1e9).ok

    def decode() -> None:
        for p, r in zip(signed, recv, strict=True):
            decoder.decode(topic, p, r)

    def feed(payloads: list[bytes], check: SignedFrames | None) -> Callable[[], None]:
        pipe = IngestPipeline(frame=FRAME, limits=lim, std_decoder=None, signatures=check)

        def run() -> None:
            for p, r in zip(payloads, recv, strict=True):
                pipe.feed(topic, p, r)
            assert pipe.metrics.rejected_total == 0, dict(pipe.metrics.rejected)

        return run

    return {
        "verify_us": _per_frame_us(verify, n),
        "decode_us": _per_frame_us(decode, n),
        "ingest_signed_us": _per_frame_us(feed(signed, frames), n),
        "ingest_plain_us": _per_frame_us(feed(plain, None), n),
        "payload_bytes": float(np.mean([len(p) for p in signed])),
        "signature_bytes": float(np.mean([len(s) - len(p) for s, p in zip(signed, plain, strict=True)])),
    }


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.trust_verify", description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=2000, help="frames per run and variant")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--objects", type=int, default=20, help="objects per perception frame")
    ap.add_argument("--quick", action="store_true", help="200 frames, 3 runs")
    args = ap.parse_args()
    n, runs = (200, 3) if args.quick else (args.frames, args.runs)
    keys: dict[Algorithm, PrivateKey] = {"ed25519": generate_key("ed25519"), "p256": generate_key("p256")}
    envs = {"perception": perception_envelopes(n, args.objects), "bsm": bsm_envelopes(n)}
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(runs):
        for kind, e in envs.items():
            for alg, key in keys.items():
                samples.setdefault((kind, alg), []).append(measure(kind, e, key))
    rows = []
    py = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"trust_verify: {n} frames x {runs} runs, medians; {py}")
    head = f"{'frame':<22}{'alg':<9}{'bytes':>7}{'sig':>5}{'verify µs':>11}{'decode µs':>11}"
    print(head + f"{'verify/decode':>15}{'ingest plain':>14}{'ingest signed':>15}{'signed/plain':>14}")
    for (kind, algo), runs_ in samples.items():
        med = {k: statistics.median(r[k] for r in runs_) for k in runs_[0]}
        label = f"perception ({args.objects} obj)" if kind == "perception" else "BSM"
        row = {"frame": label, "algorithm": algo, **{k: round(v, 2) for k, v in med.items()}}
        row["verify/decode"] = round(med["verify_us"] / med["decode_us"], 2)
        row["signed/plain"] = round(med["ingest_signed_us"] / med["ingest_plain_us"], 2)
        rows.append(row)
        print(
            f"{label:<22}{algo:<9}{med['payload_bytes']:>7.0f}{med['signature_bytes']:>5.0f}"
            f"{med['verify_us']:>11.1f}{med['decode_us']:>11.1f}{row['verify/decode']:>15.2f}"
            f"{med['ingest_plain_us']:>14.1f}{med['ingest_signed_us']:>15.1f}{row['signed/plain']:>14.2f}"
        )
    print("ours/peer: verify/decode = verification cost per frame over ingest's decode of the same frame")
    RESULT.write_text(json.dumps({"frames": n, "runs": runs, "objects": args.objects, "rows": rows}, indent=2) + "\n")
    print(f"saved {RESULT.relative_to(Path.cwd()) if RESULT.is_relative_to(Path.cwd()) else RESULT}")


if __name__ == "__main__":
    main()
