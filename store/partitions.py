"""Daily RANGE partitions of the time-series tables (the native backend, without TimescaleDB).

Each time-series table is ``PARTITION BY RANGE (time)`` with a DEFAULT partition that takes any
row no daily partition covers, so a write is never refused. :func:`ensure_partitions` creates the
days around ``now`` ahead of time; when the DEFAULT partition already holds rows of a day being
created, they are moved into the new partition in the same transaction. :func:`drop_before`
drops whole days past a cut-off and deletes older rows from the DEFAULT partition.

Days are UTC; a partition is named ``<table>_pYYYYMMDD``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from store.schema import TIMESERIES

_NAME = re.compile(r"_p(\d{8})$")


def partition_name(table: str, day: date) -> str:
    """``<table>_pYYYYMMDD``."""
    return f"{table}_p{day:%Y%m%d}"


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def partitions(conn: psycopg.Connection[Any], table: str) -> dict[date, str]:
    """The daily partitions of ``table``: day (UTC) -> partition name."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        (table,),
    ).fetchall()
    out: dict[date, str] = {}
    for (name,) in rows:
        m = _NAME.search(str(name))
        if m and str(name) == f"{table}_p{m[1]}":
            out[datetime.strptime(m[1], "%Y%m%d").replace(tzinfo=UTC).date()] = str(name)
    return out


def create_day(conn: psycopg.Connection[Any], table: str, day: date, *, lock_timeout_s: float = 5.0) -> None:
    """Create ``table``'s partition for ``day``, moving that day's rows out of DEFAULT.

    Takes an ACCESS EXCLUSIVE lock on ``table`` for the few milliseconds it needs (waiting at
    most ``lock_timeout_s``), so concurrent writers wait rather than deadlock.
    """
    name, default = partition_name(table, day), f"{table}_default"
    lo, hi = _day_start(day), _day_start(day + timedelta(days=1))
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'")
        conn.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone() == (True,):
            return
        bounds = f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')"
        stray = conn.execute(
            f'SELECT EXISTS (SELECT 1 FROM "{default}" WHERE time >= %s AND time < %s)', (lo, hi)
        ).fetchone()
        if stray != (True,):
            conn.execute(f'CREATE TABLE "{name}" PARTITION OF "{table}" {bounds}')
            return
        conn.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        conn.execute(
            f'WITH moved AS (DELETE FROM "{default}" WHERE time >= %s AND time < %s RETURNING *)'
            f' INSERT INTO "{name}" SELECT * FROM moved',
            (lo, hi),
        )
        conn.execute(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" {bounds}')


def _utc_day(t: float) -> date:
    return datetime.fromtimestamp(t, UTC).date()


def ensure_partitions(
    conn: psycopg.Connection[Any],
    now: float,
    *,
    days_ahead: int = 2,
    days_behind: int = 1,
    tables: Iterable[str] = TIMESERIES,
) -> list[str]:
    """Create the daily partitions from ``days_behind`` before to ``days_ahead`` after ``now``.

    Parameters
    ----------
    conn
        Autocommit connection to a migrated database (native backend).
    now
        Seconds since the Unix epoch.
    days_ahead, days_behind
        Days around today (UTC) to cover.
    tables
        Time-series tables to cover (default: all).

    Returns
    -------
    list of str
        Names of the partitions created.
    """
    today = _utc_day(now)
    created: list[str] = []
    for table in tables:
        have = partitions(conn, table)
        for k in range(-days_behind, days_ahead + 1):
            day = today + timedelta(days=k)
            if day not in have:
                create_day(conn, table, day)
                created.append(partition_name(table, day))
    return created


def drop_before(conn: psycopg.Connection[Any], table: str, cutoff: float) -> tuple[int, int]:
    """Drop ``table``'s partitions that end at or before ``cutoff`` (s since the Unix epoch).

    Rows older than ``cutoff`` in the DEFAULT partition are deleted too.

    Returns
    -------
    tuple of int
        (partitions dropped, rows deleted from DEFAULT).
    """
    cut = datetime.fromtimestamp(cutoff, UTC)
    dropped = 0
    for day, name in sorted(partitions(conn, table).items()):
        if _day_start(day + timedelta(days=1)) <= cut:
            with conn.transaction():
                conn.execute(f'DROP TABLE "{name}"')
            dropped += 1
    cur = conn.execute(f'DELETE FROM "{table}_default" WHERE time < %s', (cut,))
    return dropped, max(cur.rowcount, 0)
