"""The outage spool on disk: order, segments, durability across reopen, torn and corrupt files."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.spool import Record, Spool


def _rec(i: int, size: int = 100) -> Record:
    return Record("tracks", ("time", "x"), f"chunk-{i}", i, bytes([i % 256]) * size)


def _drain(spool: Spool) -> list[str]:
    out = []
    while (rec := spool.peek()) is not None:
        out.append(rec.chunk_id)
        spool.commit()
    return out


def test_records_come_back_in_order_across_segments(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=500)
    for i in range(10):
        spool.append(_rec(i))
    assert len(spool) == 10 and len(list(tmp_path.glob("*.seg"))) > 2
    assert [r.chunk_id for r in spool] == [f"chunk-{i}" for i in range(10)]
    assert _drain(spool) == [f"chunk-{i}" for i in range(10)]
    assert len(spool) == 0 and spool.bytes == 0
    assert list(tmp_path.glob("*.seg")) == []  # consumed segments are deleted


def test_appends_after_draining_and_peek_without_commit_repeats(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=250)
    spool.append(_rec(0))
    assert _drain(spool) == ["chunk-0"]
    spool.append(_rec(1))
    spool.append(_rec(2))
    first = spool.peek()
    assert first is not None and first == spool.peek()
    assert first.payload == _rec(1).payload
    assert _drain(spool) == ["chunk-1", "chunk-2"]


def test_what_is_spooled_survives_reopening(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=300)
    for i in range(6):
        spool.append(_rec(i))
    assert spool.peek() is not None
    spool.commit()  # chunk-0 committed; the process then "dies"
    spool.close()
    again = Spool(tmp_path, segment_bytes=300)
    # chunk-0 may come back (its segment was not finished): the writer's chunk ids dedupe it
    got = _drain(again)
    assert got[-5:] == [f"chunk-{i}" for i in range(1, 6)] and len(got) in (5, 6)
    again.append(_rec(9))
    assert _drain(again) == ["chunk-9"]


def test_a_torn_tail_is_cut_and_the_rest_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(3):
        spool.append(_rec(i))
    spool.close()
    seg = next(tmp_path.glob("*.seg"))
    data = seg.read_bytes()
    seg.write_bytes(data + _rec(3).to_bytes()[:-7])  # crash in the middle of an append
    again = Spool(tmp_path)
    assert len(again) == 3 and seg.stat().st_size == len(data)
    assert _drain(again) == ["chunk-0", "chunk-1", "chunk-2"]


def test_a_corrupt_older_segment_is_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path, segment_bytes=100)
    for i in range(3):
        spool.append(_rec(i))
    spool.close()
    first = sorted(tmp_path.glob("*.seg"))[0]
    data = bytearray(first.read_bytes())
    data[-1] ^= 0xFF  # flip a payload bit: checksum mismatch
    first.write_bytes(bytes(data))
    again = Spool(tmp_path, segment_bytes=100)
    assert _drain(again) == ["chunk-1", "chunk-2"]
    assert (tmp_path / "corrupt" / first.name).exists()
    assert "unreadable" in caplog.text
