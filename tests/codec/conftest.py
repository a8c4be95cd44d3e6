"""Real captures of the standards' messages, from ../shared/data/v2x-samples."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class CsaeSample:
    """One Changsha capture: the RSU frame bytes and the exact decode of its MessageFrame(s)."""

    name: str
    frame: bytes
    rsu_id: str
    utc_ms: int
    uper: list[bytes]
    decoded: list[Any]


@dataclass(frozen=True)
class J2735Sample:
    """One JPO ODE capture: the UPER hex and the decoded MessageFrame in XER."""

    name: str
    uper: bytes
    xer: ET.Element  # the <MessageFrame> element


def _frames(path: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(SPAT|BSM|RSM|RSI|MAP)\S*：([0-9a-f]{40,})$", line.strip())
        if m:
            out[m.group(1)] = bytes.fromhex(m.group(2))
    return out


@pytest.fixture(scope="session")
def csae_samples(shared_data: Path) -> list[CsaeSample]:
    """The six Changsha messages grouped by capture (the two BSMs share one frame)."""
    folder = shared_data / "v2x-samples" / "csae-changsha"
    values = json.loads((folder / "decoded_values.json").read_text(encoding="utf-8"))
    frames = _frames(folder / "rsu_captures.txt")
    out = []
    for name, frame in frames.items():
        mine = [v for v in values if v["sample"] == name]
        out.append(
            CsaeSample(
                name,
                frame,
                mine[0]["rsuId_ascii"],
                mine[0]["timestamp_ms_le"],
                [bytes.fromhex(v["messageframe_uper_hex"]) for v in mine],
                [v["decoded"] for v in mine],
            )
        )
    assert sorted(s.name for s in out) == ["BSM", "MAP", "RSI", "RSM", "SPAT"]
    return out


@pytest.fixture(scope="session")
def j2735_samples(shared_data: Path) -> dict[str, J2735Sample]:
    """The J2735 captures of the types the platform reads (and the SSM it writes), by type."""
    folder = shared_data / "v2x-samples" / "j2735-jpo-ode"
    out = {}
    for name in ("bsm", "spat", "map", "srm", "ssm"):
        root = ET.parse(folder / f"decoder-output-{name}.xml").getroot()
        hex_text = "".join((root.findtext("metadata/asn1") or "").split())
        frame = root.find("payload/data/MessageFrame")
        assert frame is not None
        out[name.upper()] = J2735Sample(name.upper(), bytes.fromhex(hex_text), frame)
    return out


@pytest.fixture(scope="session")
def tim_hex(shared_data: Path) -> bytes:
    """A J2735 TIM (a type the platform does not read), without its 1609.2 wrapper."""
    root = ET.parse(shared_data / "v2x-samples" / "j2735-jpo-ode" / "decoder-output-tim.xml").getroot()
    return bytes.fromhex("".join((root.findtext("metadata/asn1") or "").split())[16:])
