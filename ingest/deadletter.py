"""Dead letters: rejected messages kept aside with their reason, in a bounded in-memory ring."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from ingest.reasons import Reason

#: Default dead-letter topic; ``{reason}`` becomes the :class:`Reason` value.
DEADLETTER_TOPIC: Final = "v2x/v1/deadletter/{reason}"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected message: the raw payload as received, where from, when, and why."""

    reason: Reason
    detail: str
    topic: str
    sender: str
    payload: bytes
    recv_ns: int


class DeadLetterRing:
    """The last ``maxlen`` dead letters, oldest dropped first; counts all it was given.

    Parameters
    ----------
    maxlen
        Dead letters kept (payloads included: bound the memory as ``maxlen`` times the largest
        accepted payload).
    """

    def __init__(self, maxlen: int = 1000) -> None:
        self._ring: deque[DeadLetter] = deque(maxlen=maxlen)
        #: Dead letters added since start.
        self.total = 0

    def add(self, dl: DeadLetter) -> None:
        """Keep one dead letter."""
        self._ring.append(dl)
        self.total += 1

    def recent(self, n: int | None = None, *, reason: Reason | None = None) -> list[DeadLetter]:
        """Newest first: up to ``n`` dead letters (all kept when ``None``), optionally of one reason."""
        out = [d for d in reversed(self._ring) if reason is None or d.reason is reason]
        return out if n is None else out[:n]

    def __len__(self) -> int:
        return len(self._ring)
