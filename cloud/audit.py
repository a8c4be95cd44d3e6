"""The audit log: who did what, when, why, with which outcome.

Entries go to an in-memory ring (what the API shows when there is no database, and what is not
yet flushed) and to every sink (the store writer's ``audit`` table). The trust stage will chain
them (``prev_hash``/``hash``): :meth:`AuditLog.record` is the one place an entry is made.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

AuditEntry = dict[str, Any]
AuditSink = Callable[[AuditEntry], None]


class AuditLog:
    """Append-only audit entries with a bounded in-memory ring.

    Parameters
    ----------
    ring
        Entries kept in memory.
    clock
        Time source, s since the epoch.
    """

    def __init__(self, ring: int = 2000, clock: Callable[[], float] = time.time) -> None:
        self._ring: deque[AuditEntry] = deque(maxlen=ring)
        self.sinks: list[AuditSink] = []
        self._clock = clock

    def record(
        self,
        actor: str,
        action: str,
        *,
        target: str = "",
        reason: str = "",
        outcome: str,
        details: dict[str, Any] | None = None,
        time: float | None = None,
    ) -> AuditEntry:
        """Append one entry (at ``time``, s since the epoch, default now); returns it
        (``audit_id`` in its details identifies it everywhere)."""
        entry: AuditEntry = {
            "time": self._clock() if time is None else time,
            "actor": actor,
            "action": action,
            "target": target,
            "reason": reason,
            "outcome": outcome,
            "details": {"audit_id": uuid.uuid4().hex, **(details or {})},
        }
        self._ring.append(entry)
        for sink in self.sinks:
            sink(entry)
        return entry

    def recent(self, t0: float = 0.0, t1: float = float("inf"), actor: str | None = None) -> list[AuditEntry]:
        """Entries in [t0, t1) of ``actor`` (all when None), oldest first."""
        return [e for e in self._ring if t0 <= e["time"] < t1 and (actor is None or e["actor"] == actor)]
