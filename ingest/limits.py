"""The tunable bounds of ingest: skew window, reorder window, rate limit, value ranges."""

from __future__ import annotations

from dataclasses import dataclass

#: Nanoseconds per second.
NS = 1_000_000_000


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """Bounds applied to every message.

    Parameters
    ----------
    max_payload_bytes
        Larger payloads are rejected (``too_large``) before decoding.
    max_age_s
        A message sent more than this many seconds before it was received is rejected
        (``clock_skew``): it is stale, replayed, or its sender's clock is behind.
    max_future_s
        A message stamped more than this many seconds after it was received is rejected
        (``clock_skew``): its sender's clock is ahead.
    reorder_window
        How many sequence numbers ahead of the next expected one a sender's messages are held
        for reordering; further ahead, the gap is given up.
    duplicate_history
        Sequence numbers behind the next expected one that are still recognised as duplicates
        or stale; a number further behind is taken as the sender restarting its count.
    reorder_hold_s
        A message held behind a gap is released (the gap given up) at the first
        :meth:`ingest.IngestPipeline.drain` at least this long after it arrived. ``0`` reorders
        within one drain period and never delays a batch.
    rate_per_s, burst
        Token bucket per sender: sustained messages/s and the bucket size.
    clock_window
        Messages per sender over which the clock offset (minimum of receive - sent) is taken.
    clock_deadband_s
        Offsets smaller than this are taken as network delay on a synchronised clock and not
        corrected; larger ones are subtracted from the sender's timestamps.
    region
        Optional ``(lat_min, lat_max, lon_min, lon_max)`` in degrees; positions outside are
        ``out_of_range``. ``None`` accepts the whole globe.
    max_length_m, max_width_m
        Largest plausible object size.
    """

    max_payload_bytes: int = 1 << 20
    max_age_s: float = 5.0
    max_future_s: float = 2.0
    reorder_window: int = 64
    duplicate_history: int = 1024
    reorder_hold_s: float = 0.0
    rate_per_s: float = 100.0
    burst: float = 200.0
    clock_window: int = 200
    clock_deadband_s: float = 0.02
    region: tuple[float, float, float, float] | None = None
    max_length_m: float = 60.0
    max_width_m: float = 6.0

    @property
    def max_age_ns(self) -> int:
        """:attr:`max_age_s` in ns."""
        return int(self.max_age_s * NS)

    @property
    def max_future_ns(self) -> int:
        """:attr:`max_future_s` in ns."""
        return int(self.max_future_s * NS)
