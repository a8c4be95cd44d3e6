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

from store.auditlog import trim
from store.migrate import backend_of
from store.partitions import drop_before, ensure_partitions
from store.schema import TABLES, TIMESERIES, RetentionKind

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

    def __post_init__(self) -> None:
        short = {k: getattr(self, k) for k in ("raw_detections", "tracks", "vehicle_reports")}
        if any(v <= timedelta(0) for v in (*short.values(), self.aggregates, self.events, self.audit, self.batch_log)):
            raise ValueError("retention periods must be positive")
        longer = [k for k, v in short.items() if v > self.aggregates]
        if longer:
            raise ValueError(
                f"aggregates ({self.aggregates.days} d) must be kept at least as long as raw data;"
                f" {', '.join(longer)} are kept longer"
            )

    @property
    def vehicle_horizon(self) -> timedelta:
        """The longest any row naming a vehicle is kept (how far back a revocation searches)."""
        kinds = {spec.retention for spec in TABLES.values() if spec.holds_vehicles}
        return max(self.keep(k) for k in kinds)

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
        return cls(**{k: timedelta(days=v) for k, v in days.items()})


def enforce_retention(conn: psycopg.Connection[Any], now: float, policy: RetentionPolicy) -> dict[str, tuple[int, int]]:
    """Remove data older than ``policy`` allows, as of ``now`` (s since the Unix epoch).

    The audit trail is trimmed as a prefix of its hash chain (:func:`store.auditlog.trim`), so
    verification can anchor on the first entry kept.

    Returns
    -------
    dict
        table -> (partitions or chunks dropped, rows deleted).
    """
    timescale = backend_of(conn) == "timescale"
    out: dict[str, tuple[int, int]] = {}
    for name, spec in TABLES.items():
        cutoff = now - policy.keep(spec.retention).total_seconds()
        if name == "audit":
            out[name] = (0, trim(conn, datetime.fromtimestamp(cutoff, UTC), keep_days=policy.audit.days))
        elif spec.timeseries and timescale:
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


def timescale_policies(conn: psycopg.Connection[Any], policy: RetentionPolicy) -> None:
    """Register TimescaleDB retention policies matching ``policy`` (its own jobs then drop chunks).

    Only on the ``timescale`` backend (not testable on plain PostgreSQL); :func:`enforce_retention`
    drops the same chunks itself whenever maintenance runs.
    """
    for name in TIMESERIES:
        keep = policy.keep(TABLES[name].retention)
        conn.execute("SELECT remove_retention_policy(%s::regclass, if_exists => true)", (name,))
        conn.execute("SELECT add_retention_policy(%s::regclass, drop_after => %s)", (name, keep))


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
    from store.privacy import expire_revocation_records, reapply_revocations

    got = conn.execute("SELECT pg_try_advisory_lock(%s)", (MAINTENANCE_LOCK,)).fetchone()
    if got != (True,):
        return False
    try:
        if backend_of(conn) == "native":
            created = ensure_partitions(conn, now, days_ahead=days_ahead)
            if created:
                _log.info("created partitions %s", ", ".join(created))
        if policy is not None:
            if backend_of(conn) == "timescale":
                timescale_policies(conn, policy)
            enforce_retention(conn, now, policy)
        keep = (policy or RetentionPolicy()).batch_log
        prune_batch_log(conn, now, keep)
        reapply_revocations(conn)
        expire_revocation_records(conn, now, keep)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MAINTENANCE_LOCK,))
    return True
