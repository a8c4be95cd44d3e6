"""Standard-message frames (v2x/v1/rsu/{id}/frame/up) go through the codec package: real Changsha captures."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ingest import IngestPipeline, Limits, Reason, load_std_decoder
from tests.ingest.messages import FRAME

TOPIC = "v2x/v1/rsu/cs-rsu-1/frame/up"


@pytest.fixture(scope="module")
def captures(shared_data: Path) -> dict[str, bytes]:
    """The Changsha RSU-to-centre frames by message name."""
    text = (shared_data / "v2x-samples" / "csae-changsha" / "rsu_captures.txt").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(SPAT|BSM|RSM|RSI|MAP)\S*：([0-9a-f]{40,})$", line.strip())
        if m:
            out[m.group(1)] = bytes.fromhex(m.group(2))
    assert sorted(out) == ["BSM", "MAP", "RSI", "RSM", "SPAT"]
    return out


def _utc_ns(frame: bytes) -> int:
    return int.from_bytes(frame[8:16], "little") * 1_000_000


def _pipeline() -> IngestPipeline:
    decoder = load_std_decoder()
    assert decoder is not None, "the codec package is part of this tree"
    # The captures are from 2020 and are received here "just after" their frame time. Their
    # clocks disagree: the SPAT is stamped 2.9 s and the RSM 28 s after the frame's UTC time,
    # beyond the default 2 s future tolerance (see test_inconsistent_capture_clock_is_skew).
    return IngestPipeline(frame=FRAME, limits=Limits(max_age_s=600.0, max_future_s=60.0), std_decoder=decoder)


def test_changsha_frames_become_batches(captures: dict[str, bytes]) -> None:
    p = _pipeline()
    batches = {}
    for name in ("SPAT", "BSM", "RSM", "RSI", "MAP"):  # captured days apart: one drain each
        frame = captures[name]
        assert p.feed(TOPIC, frame, _utc_ns(frame) + 50_000_000) is None, name
        batches[name] = p.drain(_utc_ns(frame) + 100_000_000)
    assert list(batches["SPAT"].spat) == ["255-9"]
    reports = batches["BSM"].reports
    assert sorted(reports["vehicle_id"]) == ["0000000000000000", "bea9423838383838"]
    assert np.isfinite(reports["x"]).all()
    det = batches["RSM"].detections
    assert len(det) == 1 and batches["RSM"].sensors == ("rsu/cs-rsu-1:12345",)
    assert det["cls"][0] == 6  # cyclist
    assert all(len(batches[n].detections) + len(batches[n].reports) == 0 for n in ("RSI", "MAP"))
    assert p.metrics.accepted["std_frame"] == 5 and p.metrics.counters["std_ignored"] == 2  # RSI, MAP
    assert p.metrics.rejected_total == 0


@pytest.mark.parametrize("cut", [3, 20, -5], ids=["header", "body", "tail"])
def test_broken_frames_are_std_decode_errors(captures: dict[str, bytes], cut: int) -> None:
    p = _pipeline()
    frame = captures["SPAT"][:cut]
    rej = p.feed(TOPIC, frame, _utc_ns(captures["SPAT"]))
    assert rej is not None and rej.reason is Reason.STD_DECODE_ERROR
    assert re.match(r"(frame|truncated|malformed): ", rej.detail)  # the codec's own reason leads
    assert p.dead_letters.recent(1)[0].payload == frame


def test_inconsistent_capture_clock_is_skew(captures: dict[str, bytes]) -> None:
    p = IngestPipeline(frame=FRAME, std_decoder=load_std_decoder())
    rej = p.feed(TOPIC, captures["RSM"], _utc_ns(captures["RSM"]) + 50_000_000)
    assert rej is not None and rej.reason is Reason.CLOCK_SKEW and "+28." in rej.detail


def test_stale_std_frame_is_clock_skew(captures: dict[str, bytes]) -> None:
    p = IngestPipeline(frame=FRAME, std_decoder=load_std_decoder())  # received now, years later
    rej = p.feed(TOPIC, captures["BSM"], _utc_ns(captures["BSM"]) + 3_600_000_000_000)
    assert rej is not None and rej.reason is Reason.CLOCK_SKEW
