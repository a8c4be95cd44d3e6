"""Per-sender sequence tracking: gaps counted, duplicates dropped, reordering within a bounded window."""

from __future__ import annotations

from typing import Generic, TypeVar

from ingest.reasons import Reason

T = TypeVar("T")


class SequenceTracker(Generic[T]):
    """Puts one sender's messages back in sequence order.

    A message with the next expected number is released at once. One that arrives ahead of a
    gap is held until the gap fills, until it is ``window`` numbers ahead, or until
    :meth:`release` is called at least ``hold_ns`` after it arrived; then the gap is given up
    (counted in :attr:`gaps`) and the held messages are released in order. Up to ``history``
    numbers behind the expected one, a number already released is a duplicate and one whose
    gap was given up is stale; further behind, the sender restarted its count (old replays
    beyond that are the skew window's to catch).

    Parameters
    ----------
    window
        Reorder window, in sequence numbers (>= 1).
    hold_ns
        Least time a message waits behind a gap before :meth:`release` gives the gap up.
    history
        Duplicate horizon, in sequence numbers (>= ``window``).
    """

    __slots__ = (
        "_held",
        "_next",
        "_skipped",
        "_started",
        "duplicates",
        "gaps",
        "history",
        "hold_ns",
        "reordered",
        "resets",
        "stale",
        "window",
    )

    def __init__(self, *, window: int = 64, hold_ns: int = 0, history: int = 1024) -> None:
        if not 1 <= window <= history:
            raise ValueError(f"need 1 <= window <= history, got {window}, {history}")
        self.window = window
        self.history = history
        self.hold_ns = hold_ns
        self._started = False
        self._next = 0
        self._held: dict[int, tuple[int, T]] = {}
        self._skipped: set[int] = set()
        #: Messages given up as lost.
        self.gaps = 0
        #: Duplicates dropped.
        self.duplicates = 0
        #: Late messages dropped because their gap had been given up.
        self.stale = 0
        #: Late messages that filled a gap in time (arrived out of order, released in order).
        self.reordered = 0
        #: Times the sender restarted its count.
        self.resets = 0

    @property
    def held(self) -> int:
        """Messages waiting behind a gap."""
        return len(self._held)

    @property
    def expected(self) -> int | None:
        """The next sequence number to release (``None`` before the first message)."""
        return self._next if self._started else None

    def offer(self, seq: int, now_ns: int, item: T) -> list[T] | Reason:
        """Take one message.

        Returns
        -------
        list or Reason
            The messages now released in order (possibly empty while ``item`` is held), or
            :attr:`Reason.DUPLICATE` / :attr:`Reason.STALE_REORDER` when ``item`` is dropped.
        """
        nxt = self._next
        out: list[T] = []
        if not self._started:
            self._started = True
            nxt = self._next = seq
        elif seq < nxt:
            if nxt - seq <= self.history:
                if seq in self._skipped:
                    self.stale += 1
                    return Reason.STALE_REORDER
                self.duplicates += 1
                return Reason.DUPLICATE
            # far behind: the sender restarted its count; what it sent before goes out first
            self.resets += 1
            out = self._release_all()
            self._skipped.clear()
            nxt = self._next = seq
        if seq == nxt and not self._held:
            self._next = seq + 1
            out.append(item)
            return out
        if seq in self._held:
            self.duplicates += 1
            return Reason.DUPLICATE
        if seq == nxt:
            self.reordered += 1
        self._held[seq] = (now_ns, item)
        self._pop_ready(out)
        while self._held and max(self._held) - self._next >= self.window:
            self._skip_to(min(self._held))
            self._pop_ready(out)
        return out

    def release(self, now_ns: int) -> list[T]:
        """Give up gaps behind messages held for at least ``hold_ns``; return what that releases."""
        out: list[T] = []
        while self._held and min(t for t, _ in self._held.values()) <= now_ns - self.hold_ns:
            self._skip_to(min(self._held))
            self._pop_ready(out)
        return out

    def _release_all(self) -> list[T]:
        out: list[T] = []
        while self._held:
            self._skip_to(min(self._held))
            self._pop_ready(out)
        return out

    def _pop_ready(self, out: list[T]) -> None:
        while self._next in self._held:
            out.append(self._held.pop(self._next)[1])
            self._next += 1

    def _skip_to(self, seq: int) -> None:
        self.gaps += seq - self._next
        self._skipped.update(range(max(self._next, seq - self.history), seq))
        self._next = seq
        if len(self._skipped) > 2 * self.history:
            floor = seq - self.history
            self._skipped = {s for s in self._skipped if s >= floor}
