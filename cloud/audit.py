"""The audit log: who (in which role) did what, when, why, with which outcome.

:meth:`AuditLog.record` is the one place an entry is made. Entries go to an in-memory ring (what
the API shows when there is no database, and what is not yet stored), to every sink, and, with
a database, to the hash chain (:class:`store.AuditWriter`: one appender thread; the chain lives
in the store's ``audit`` table and ``xj audit verify`` checks it). :meth:`record_durable` waits
until the entry is in the chain, for actions that must not happen unaudited (an identity lookup
discloses a vehicle only once its lookup is stored).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NotRequired, Protocol, Required, TypedDict, Unpack

AuditEntry = dict[str, Any]
AuditSink = Callable[[AuditEntry], None]
LOG = logging.getLogger("xiangjiang.cloud.audit")


class EntryFields(TypedDict):
    """The keywords of :meth:`AuditLog.entry` and :meth:`AuditLog.record` besides actor and action."""

    role: NotRequired[str]
    target: NotRequired[str]
    reason: NotRequired[str]
    outcome: Required[str]
    details: NotRequired[dict[str, Any] | None]
    #: s since the epoch (default now)
    time: NotRequired[float | None]


class AuditChain(Protocol):
    """Where entries are chained and stored (:class:`store.AuditWriter`)."""

    def submit(self, entry: Mapping[str, Any]) -> concurrent.futures.Future[dict[str, Any]]:
        """Queue one entry; the future gives the stored row."""
        ...


def _log_failure(fut: concurrent.futures.Future[dict[str, Any]]) -> None:
    exc = fut.exception()
    if exc is not None:
        LOG.error("audit entry not stored: %s", exc)


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
        #: the hash chain in the database (None without one)
        self.chain: AuditChain | None = None
        self._clock = clock

    def entry(self, actor: str, action: str, **fields: Unpack[EntryFields]) -> AuditEntry:
        """A new entry (not yet recorded); ``audit_id`` in its details identifies it everywhere."""
        t = fields.get("time")
        return {
            "time": self._clock() if t is None else t,
            "actor": actor,
            "role": fields.get("role", ""),
            "action": action,
            "target": fields.get("target", ""),
            "reason": fields.get("reason", ""),
            "outcome": fields["outcome"],
            "details": {"audit_id": uuid.uuid4().hex, **(fields.get("details") or {})},
        }

    def record(self, actor: str, action: str, **fields: Unpack[EntryFields]) -> AuditEntry:
        """Append one entry (at ``time``, s since the epoch, default now) and return it."""
        e = self.entry(actor, action, **fields)
        fut = self._publish(e)
        if fut is not None:
            fut.add_done_callback(_log_failure)
        return e

    async def record_durable(self, entry: AuditEntry) -> AuditEntry:
        """Record an :meth:`entry`, returning once it is in the chain (at once without a database).

        Raises
        ------
        Exception
            The chain could not store the entry (the database is away): the caller must not go on.
        """
        fut = self._publish(entry)
        if fut is not None:
            await asyncio.wrap_future(fut)
        return entry

    def remember(self, entry: AuditEntry) -> None:
        """Show an entry already stored in the chain by someone else (e.g. in a revocation's transaction)."""
        self._ring.append(entry)
        for sink in self.sinks:
            sink(entry)

    def _publish(self, entry: AuditEntry) -> concurrent.futures.Future[dict[str, Any]] | None:
        self.remember(entry)
        return self.chain.submit(entry) if self.chain is not None else None

    def recent(self, t0: float = 0.0, t1: float = float("inf"), actor: str | None = None) -> list[AuditEntry]:
        """Entries in [t0, t1) of ``actor`` (all when None), oldest first."""
        return [e for e in self._ring if t0 <= e["time"] < t1 and (actor is None or e["actor"] == actor)]
