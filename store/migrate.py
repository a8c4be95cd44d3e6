"""Versioned schema migrations: numbered SQL files applied in order, once, with checksums.

Files are ``store/migrations/NNNN_name.sql``. Each pending file runs in its own transaction and is
recorded in ``schema_migrations`` (version, name, SHA-256 of the file, backend, time). A database
whose applied file has since changed, or that is at a version this code does not know, is
refused. A session advisory lock makes two processes racing to migrate the same database safe:
the second waits, then finds nothing to do.

The time-series backend is chosen at the first migration and kept: ``timescale`` when the
``timescaledb`` extension is available and preloaded on the server, else ``native`` (declarative
daily partitions).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psycopg

#: Where the SQL files live.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Advisory lock key held while migrating (advisory locks are per database).
LOCK_KEY = 0x586A_5354_4F52  # "XjSTOR"

Backend = Literal["native", "timescale"]

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_log = logging.getLogger(__name__)


class MigrationError(RuntimeError):
    """The database and the migration files disagree; the message says how."""


@dataclass(frozen=True)
class Migration:
    """One SQL file: ``version`` from its number, its ``sql`` text and SHA-256 ``checksum``."""

    version: int
    name: str
    sql: str
    checksum: str


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in ``directory``, by version; MigrationError on gaps or stray names."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _FILE.match(path.name)
        if m is None:
            raise MigrationError(f"{path}: migration files are named NNNN_name.sql (lower case)")
        data = path.read_bytes()
        found.append(Migration(int(m[1]), m[2], data.decode("utf-8"), hashlib.sha256(data).hexdigest()))
    for i, mig in enumerate(found, start=1):
        if mig.version != i:
            raise MigrationError(f"migration {mig.version:04d}_{mig.name}.sql: expected version {i:04d}")
    return found


def detect_backend(conn: psycopg.Connection[tuple[object, ...]]) -> Backend:
    """``timescale`` when the server can load TimescaleDB (available and preloaded), else ``native``."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'),"
        " current_setting('shared_preload_libraries')"
    ).fetchone()
    assert row is not None
    available, preload = bool(row[0]), str(row[1])
    return "timescale" if available and "timescaledb" in preload else "native"


def _applied(conn: psycopg.Connection[tuple[object, ...]]) -> dict[int, tuple[str, str, str]]:
    rows = conn.execute("SELECT version, name, checksum, backend FROM schema_migrations ORDER BY version")
    return {int(str(v)): (str(n), str(c), str(b)) for v, n, c, b in rows.fetchall()}


def apply_migrations(
    conninfo: str,
    *,
    backend: Literal["auto", "native", "timescale"] = "auto",
    directory: Path = MIGRATIONS_DIR,
) -> list[int]:
    """Bring the database at ``conninfo`` up to the newest migration; idempotent.

    Parameters
    ----------
    conninfo
        libpq connection string or URL.
    backend
        Time-series backend for a new database (``auto`` detects TimescaleDB). Ignored once the
        database has been migrated: its recorded backend is kept.
    directory
        Folder of ``NNNN_name.sql`` files (tests pass their own).

    Returns
    -------
    list of int
        Versions applied by this call (empty when the database was up to date).

    Raises
    ------
    MigrationError
        An applied file's checksum changed, or the database is newer than these files.
    """
    migrations = discover(directory)
    done: list[int] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " backend text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = _applied(conn)
            by_version = {m.version: m for m in migrations}
            for version, (name, checksum, _) in applied.items():
                mig = by_version.get(version)
                if mig is None:
                    raise MigrationError(
                        f"database has migration {version:04d}_{name} that this code does not know;"
                        " upgrade the code or use the database it belongs to"
                    )
                if mig.checksum != checksum:
                    raise MigrationError(
                        f"migration {version:04d}_{name}.sql changed after it was applied"
                        f" (checksum {checksum[:12]} in the database, {mig.checksum[:12]} on disk);"
                        " restore the file and put the change in a new migration"
                    )
            if applied:
                chosen = next(iter(applied.values()))[2]
            else:
                chosen = detect_backend(conn) if backend == "auto" else backend
            for mig in migrations:
                if mig.version in applied:
                    continue
                with conn.transaction():
                    conn.execute("SELECT set_config('xj.timeseries_backend', %s, true)", (chosen,))
                    conn.execute(mig.sql.encode("utf-8"))
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum, backend) VALUES (%s, %s, %s, %s)",
                        (mig.version, mig.name, mig.checksum, chosen),
                    )
                _log.info("applied migration %04d_%s (%s)", mig.version, mig.name, chosen)
                done.append(mig.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return done


def backend_of(conn: psycopg.Connection[tuple[object, ...]]) -> Backend:
    """The time-series backend recorded in a migrated database."""
    row = conn.execute("SELECT value FROM store_settings WHERE key = 'timeseries_backend'").fetchone()
    if row is None:
        raise MigrationError("database is not migrated; run apply_migrations (xj store migrate)")
    return "timescale" if row[0] == "timescale" else "native"
