"""Clock-offset estimate, token bucket, back-off."""

from __future__ import annotations

import random

import numpy as np

from ingest import Backoff, ClockOffsets, IngestPipeline, RateLimiter
from tests.ingest.messages import FRAME, perception_env, rsu_topic

T0 = 1_800_000_000_000_000_000
MS = 1_000_000


def test_offset_is_the_least_delay_and_follows_a_clock_step() -> None:
    c = ClockOffsets(window=10, deadband_ns=20 * MS)
    rng = np.random.default_rng(0)
    for d in rng.uniform(3, 40, 50):  # clock 500 ms behind, delays 3..40 ms
        c.observe("rsu/a", int((500 + d) * MS))
    assert 500 * MS <= c.offset_ns("rsu/a") <= 510 * MS  # type: ignore[operator]
    for d in rng.uniform(3, 40, 20):  # the clock is corrected: offset ~0
        c.observe("rsu/a", int(d * MS))
    assert c.offset_ns("rsu/a") < 40 * MS  # type: ignore[operator]
    assert c.correction_ns(c.offset_ns("rsu/a") or 0) == 0  # within the dead band
    assert c.correction_ns(500 * MS) == 500 * MS
    assert c.offset_ns("rsu/unknown") is None


def test_sender_clock_offset_is_removed_from_capture_times() -> None:
    p = IngestPipeline(frame=FRAME, std_decoder=None)
    behind = 1_500 * MS  # the RSU's clock is 1.5 s behind the platform
    for seq in range(20):
        true_t = T0 + seq * 100 * MS
        env = perception_env("r1", seq, true_t - behind)
        assert p.feed(rsu_topic("r1"), env.SerializeToString(), true_t + 2 * MS) is None
    d = p.drain(T0 + 3_000 * MS).detections
    want = (T0 + np.repeat(np.arange(20), 2) * 100 * MS) / 1e9
    np.testing.assert_allclose(d["t"], want, atol=0.003)


def test_token_bucket_allows_burst_then_rate() -> None:
    r = RateLimiter(rate_per_s=10.0, burst=3)
    assert [r.allow("a", 0) for _ in range(4)] == [True, True, True, False]
    assert r.allow("b", 0)  # per sender
    assert not r.allow("a", 50 * MS)  # half a token
    assert r.allow("a", 100 * MS)
    assert [r.allow("a", 10_000 * MS) for _ in range(4)] == [True, True, True, False]


def test_token_bucket_survives_a_clock_stepping_back() -> None:
    r = RateLimiter(rate_per_s=10.0, burst=2)
    assert r.allow("a", 10_000 * MS) and r.allow("a", 10_000 * MS)
    assert not r.allow("a", 5_000 * MS)  # back in time: no tokens added, none owed
    assert r.allow("a", 10_100 * MS)  # a token 100 ms after the latest time seen


def test_backoff_grows_is_capped_and_jittered() -> None:
    b = Backoff(initial_s=0.1, max_s=2.0, factor=2.0, jitter=0.5)
    rng = random.Random(1)
    delays = [b.delay(n, rng) for n in range(10)]
    assert all(0.05 <= d <= 0.1 for d in delays[:1])
    assert all(1.0 <= d <= 2.0 for d in delays[5:])
    assert len({round(d, 6) for d in delays[5:]}) > 1
    assert b.delay(10_000, rng) <= 2.0
