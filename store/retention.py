"""Retention per kind of data, and the periodic maintenance that enforces it.

Each table belongs to one retention kind (:data:`store.schema.TABLES`): raw detections, tracks,
vehicle reports (BSMs, and the advisories sent to vehicles), aggregates (lane, edge and signal
states), events, audit (audit trail and overrides). :class:`RetentionPolicy` says how long each
kind is kept. :func:`enforce_retention` drops whole days (native partitions) or chunks
(TimescaleDB ``drop_chunks``) and deletes older rows from the plain tables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from store.migrate import backend_of
from store.partitions import drop_before, ensure_partitions
from store.schema import TABLES, RetentionKind

#: Advisory lock held while maintaining, so two writers do not maintain at once.
MAINTENANCE_LOCK = 0x586A_4D41_494E  # "XjMAIN"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data is kept.

    Attributes
    ----------
    raw_detections, tracks, vehicle_reports, aggregates, events, audit
        Age beyond which rows of that kind are removed.
    batch_log
        How long the writer's chunk ids are kept; a spooled chunk replayed later than this could
        be written twice.
    """

    raw_detections: timedelta = timedelta(days=2)
    tracks: timedelta = timedelta(days=7)
    vehicle_reports: timedelta = timedelta(days=7)
    aggregates: timedelta = timedelta(days=90)
    events: timedelta = timedelta(days=365)
    audit: timedelta = timedelta(days=5 * 365)
    batch_log: timedelta = timedelta(days=14)

    def keep(self, kind: RetentionKind) -> timedelta:
        """How long ``kind`` is kept."""
        value: timedelta = getattr(self, kind)
        return value

    @classmethod
    def from_days(cls, days: dict[str, float]) -> RetentionPolicy:
        """A policy from ``{kind: days}`` (settings files); unknown kinds raise ValueError."""
        known = {f.name for f in fields(cls)}
        bad = sorted(set(days) - known)
        if bad:
            raise ValueError(f"unknown retention kind(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        if any(v <= 0 for v in days.values()):
            raise ValueError("retention days must be positive")
        return cls(**{k: timedelta(days=v) for k, v in days.items()})


def enforce_retention(conn: psycopg.Connection[Any], now: float, policy: RetentionPolicy) -> dict[str, tuple[int, int]]:
    """Remove data older than ``policy`` allows, as of ``now`` (s since the Unix epoch).

    Returns
    -------
    dict
        table -> (partitions or chunks dropped, rows deleted).
    """
    timescale = backend_of(conn) == "timescale"
    out: dict[str, tuple[int, int]] = {}
    for name, spec in TABLES.items():
        cutoff = now - policy.keep(spec.retention).total_seconds()
        if spec.timeseries and timescale:
            rows = conn.execute(
                "SELECT count(*) FROM drop_chunks(%s::regclass, older_than => %s)",
                (name, datetime.fromtimestamp(cutoff, UTC)),
            ).fetchone()
            out[name] = (int(rows[0]) if rows else 0, 0)
        elif spec.timeseries:
            out[name] = drop_before(conn, name, cutoff)
        else:
            cur = conn.execute(
                f'DELETE FROM "{name}" WHERE "{spec.time_column}" < %s', (datetime.fromtimestamp(cutoff, UTC),)
            )
            out[name] = (0, max(cur.rowcount, 0))
    return out


def prune_batch_log(conn: psycopg.Connection[Any], now: float, keep: timedelta) -> int:
    """Forget writer chunk ids older than ``keep``; returns how many."""
    cur = conn.execute("DELETE FROM store_batches WHERE committed_at < %s", (datetime.fromtimestamp(now, UTC) - keep,))
    return max(cur.rowcount, 0)


def maintain(conn: psycopg.Connection[Any], now: float, policy: RetentionPolicy | None, *, days_ahead: int = 2) -> bool:
    """Periodic upkeep: partitions ahead, retention, chunk-id pruning, revocation sweep.

    Parameters
    ----------
    conn
        Autocommit connection to a migrated database.
    now
        Seconds since the Unix epoch.
    policy
        Retention to enforce; None keeps everything (partitions are still created).
    days_ahead
        Daily partitions to create ahead of today (native backend).

    Returns
    -------
    bool
        False when another process held the maintenance lock and nothing was done.
    """
    from store.privacy import reapply_revocations

    got = conn.execute("SELECT pg_try_advisory_lock(%s)", (MAINTENANCE_LOCK,)).fetchone()
    if got != (True,):
        return False
    try:
        if backend_of(conn) == "native":
            created = ensure_partitions(conn, now, days_ahead=days_ahead)
            if created:
                _log.info("created partitions %s", ", ".join(created))
        if policy is not None:
            enforce_retention(conn, now, policy)
        prune_batch_log(conn, now, (policy or RetentionPolicy()).batch_log)
        reapply_revocations(conn)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MAINTENANCE_LOCK,))
    return True
