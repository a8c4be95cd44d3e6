"""Exponential back-off with jitter for reconnects."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Backoff:
    """Delay before reconnect attempt ``n`` (0-based): ``min(max_s, initial_s * factor**n)``, jittered.

    Jitter takes away up to a fraction ``jitter`` of the delay at random, so that many clients
    dropped together by one broker restart do not all come back in the same instant.
    """

    initial_s: float = 0.2
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt``."""
        d = min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))
        return d * (1.0 - self.jitter * (rng or random).random())
