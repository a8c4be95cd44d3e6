"""SequenceTracker: in order, duplicates, reordering within the window, gaps, restarts."""

from __future__ import annotations

import pytest

import proto
from ingest import IngestPipeline, Reason, SequenceTracker
from proto import pb
from tests.ingest.messages import FRAME, perception_env


def _feed(tr: SequenceTracker[int], seqs: list[int], now: int = 0) -> tuple[list[int], list[Reason]]:
    out: list[int] = []
    dropped: list[Reason] = []
    for s in seqs:
        r = tr.offer(s, now, s)
        if isinstance(r, Reason):
            dropped.append(r)
        else:
            out += r
    return out, dropped


@pytest.mark.parametrize(
    "seqs,released,dropped,held",
    [
        ([5, 6, 7], [5, 6, 7], [], 0),
        ([1, 3, 2, 4], [1, 2, 3, 4], [], 0),
        ([1, 4, 3, 2], [1, 2, 3, 4], [], 0),
        ([1, 2, 2, 1], [1, 2], [Reason.DUPLICATE, Reason.DUPLICATE], 0),
        ([1, 3, 3], [1], [Reason.DUPLICATE], 1),
    ],
    ids=["in-order", "swap", "reverse", "duplicates", "duplicate-held"],
)
def test_offer_puts_messages_in_order(seqs: list[int], released: list[int], dropped: list[Reason], held: int) -> None:
    tr: SequenceTracker[int] = SequenceTracker(window=8)
    out, drop = _feed(tr, seqs)
    assert out == released and drop == dropped and tr.gaps == 0 and tr.held == held


def test_gap_given_up_when_window_overflows_then_late_one_is_stale() -> None:
    tr: SequenceTracker[int] = SequenceTracker(window=4)
    out, _ = _feed(tr, [1, 3, 4, 5])
    assert out == [1] and tr.held == 3
    out, _ = _feed(tr, [6])  # 6 - 2 >= window: give up 2
    assert out == [3, 4, 5, 6] and tr.gaps == 1
    assert tr.offer(2, 0, 2) is Reason.STALE_REORDER and tr.stale == 1


def test_release_gives_up_gaps_after_hold_time() -> None:
    tr: SequenceTracker[int] = SequenceTracker(window=64, hold_ns=50)
    assert tr.offer(1, 0, 1) == [1]
    assert tr.offer(3, 10, 3) == []
    assert tr.release(40) == []  # held 30 ns < 50
    assert tr.release(60) == [3] and tr.gaps == 1 and tr.expected == 4


def test_zero_hold_releases_everything_at_the_next_drain() -> None:
    tr: SequenceTracker[int] = SequenceTracker(window=64, hold_ns=0)
    _feed(tr, [10, 13, 12])
    assert tr.release(0) == [12, 13] and tr.gaps == 1


def test_far_behind_is_a_restart_not_a_duplicate() -> None:
    tr: SequenceTracker[int] = SequenceTracker(window=4, history=16)
    out, drop = _feed(tr, [100, 101, 103, 0, 1])
    assert drop == [] and out == [100, 101, 103, 0, 1]
    assert tr.resets == 1 and tr.gaps == 1


def test_reordered_counts_late_fills() -> None:
    tr: SequenceTracker[int] = SequenceTracker(window=8)
    _feed(tr, [1, 3, 2, 5, 4])
    assert tr.reordered == 2 and tr.gaps == 0


@pytest.mark.parametrize("shared_counter", [False, True], ids=["counter-per-channel", "one-counter"])
def test_lamp_post_channels_are_sequenced_apart(shared_counter: bool) -> None:
    t0 = 1_800_000_000_000_000_000
    p = IngestPipeline(frame=FRAME, std_decoder=None)
    seq = iter(range(100))
    for k in range(3):
        s_perc = next(seq) if shared_counter else k
        env = perception_env("L1", s_perc, t0)
        assert p.feed(proto.topic("lamp", "L1", "perception", "up"), env.SerializeToString(), t0) is None
        s_park = next(seq) if shared_counter else k
        park = proto.envelope("L1", s_park, t0, parking=pb.ParkingStatus(area_id="a", capacity=5, occupied=k))
        assert p.feed(proto.topic("lamp", "L1", "parking", "up"), park.SerializeToString(), t0) is None
    b = p.drain(t0)
    assert p.metrics.rejected_total == 0 and len(b.detections) == 6 and b.parking["a"].occupied == 2
