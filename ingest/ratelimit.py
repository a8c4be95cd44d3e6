"""Token-bucket rate limit per sender."""

from __future__ import annotations


class RateLimiter:
    """One token bucket per sender key.

    Parameters
    ----------
    rate_per_s
        Tokens added per second (sustained messages/s per sender).
    burst
        Bucket size: messages a sender may send at once after being idle.
    """

    __slots__ = ("_buckets", "_per_ns", "burst")

    def __init__(self, *, rate_per_s: float, burst: float) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError(f"need rate_per_s > 0 and burst >= 1, got {rate_per_s}, {burst}")
        self._per_ns = rate_per_s / 1e9
        self.burst = float(burst)
        # sender -> [tokens, last refill time ns]
        self._buckets: dict[str, list[float]] = {}

    def allow(self, sender: str, now_ns: int) -> bool:
        """Take one token from ``sender``'s bucket; ``False`` when it is empty.

        A clock that steps back (wall-clock receive times) adds no tokens and costs none.
        """
        b = self._buckets.get(sender)
        if b is None:
            self._buckets[sender] = [self.burst - 1.0, float(now_ns)]
            return True
        tokens = b[0]
        if now_ns > b[1]:
            tokens = min(self.burst, tokens + (now_ns - b[1]) * self._per_ns)
            b[1] = float(now_ns)
        if tokens < 1.0:
            b[0] = tokens
            return False
        b[0] = tokens - 1.0
        return True

    def __len__(self) -> int:
        return len(self._buckets)
