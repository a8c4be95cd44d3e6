"""Log rejections without flooding: the first per reason at once, then one summary line per interval."""

from __future__ import annotations

import logging

from ingest.items import Rejection
from ingest.reasons import Reason


class RejectionLog:
    """Logs a rejection at WARNING unless one of the same reason was logged less than ``interval_s`` ago.

    Suppressed ones are counted and reported with the next line of that reason.
    """

    def __init__(self, logger: logging.Logger, *, interval_s: float = 10.0) -> None:
        self.logger = logger
        self.interval_ns = int(interval_s * 1e9)
        self._last: dict[Reason, int] = {}
        self._suppressed: dict[Reason, int] = {}

    def __call__(self, rej: Rejection, now_ns: int) -> None:
        """Log ``rej`` (received at ``now_ns``) or count it as suppressed."""
        last = self._last.get(rej.reason)
        if last is not None and now_ns - last < self.interval_ns:
            self._suppressed[rej.reason] = self._suppressed.get(rej.reason, 0) + 1
            return
        self._last[rej.reason] = now_ns
        more = self._suppressed.pop(rej.reason, 0)
        self.logger.warning(
            "ingest rejected %s from %s on %s: %s%s",
            rej.reason.value,
            rej.sender or "?",
            rej.topic,
            rej.detail,
            f" ({more} more {rej.reason.value} since the last report)" if more else "",
        )
