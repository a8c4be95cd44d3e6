"""Per-sender clock-offset estimate from receive time minus sent time."""

from __future__ import annotations

_INF = float("inf")


class ClockOffsets:
    """Running minimum of ``receive_ns - sent_ns`` per sender, over the last ``window`` to ``2 window`` messages.

    The minimum is the sender's clock offset plus the least network delay; it follows a clock
    step within ``2 * window`` messages. Two block minima make each update O(1).

    Parameters
    ----------
    window
        Messages per block (>= 1).
    deadband_ns
        :meth:`correction_ns` is 0 while the offset's magnitude is below this (a synchronised
        clock seen through network delay).
    """

    __slots__ = ("_state", "deadband_ns", "window")

    def __init__(self, *, window: int = 200, deadband_ns: int = 20_000_000) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self.deadband_ns = deadband_ns
        # sender -> [current block min, previous block min, count in current block]
        self._state: dict[str, list[float]] = {}

    def observe(self, sender: str, lateness_ns: int) -> int:
        """Add one sample (``receive_ns - sent_ns``) and return the sender's offset estimate in ns."""
        s = self._state.get(sender)
        if s is None:
            self._state[sender] = [float(lateness_ns), _INF, 1.0]
            return lateness_ns
        if lateness_ns < s[0]:
            s[0] = float(lateness_ns)
        s[2] += 1.0
        est = s[0] if s[0] < s[1] else s[1]
        if s[2] >= self.window:
            s[1] = s[0]
            s[0] = _INF
            s[2] = 0.0
        return int(est)

    def offset_ns(self, sender: str) -> int | None:
        """The sender's offset estimate (platform clock minus sender clock plus least delay), ns."""
        s = self._state.get(sender)
        if s is None:
            return None
        return int(min(s[0], s[1]))

    def correction_ns(self, offset_ns: int) -> int:
        """What to add to a sender timestamp to bring it to the platform clock, ns."""
        return offset_ns if abs(offset_ns) >= self.deadband_ns else 0

    def snapshot(self) -> dict[str, float]:
        """Every sender's offset estimate in seconds."""
        return {k: min(s[0], s[1]) / 1e9 for k, s in self._state.items()}
