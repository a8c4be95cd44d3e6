"""``xj store``: migrate, maintain, inspect, revoke.

- ``xj store migrate [--backend auto|native|timescale]``: apply pending migrations.
- ``xj store maintain [--retain KIND=DAYS ...] [--days-ahead N]``: partitions ahead, retention,
  chunk-id pruning, revocation sweep.
- ``xj store status [--spool DIR] [--json]``: backend, migrations, rows and partitions per table,
  what waits in a writer's spool.
- ``xj store revoke PSEUDONYM``: delete one vehicle's history everywhere.

The database comes from ``--db`` or the environment variable ``XJ_DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from store.migrate import MigrationError, apply_migrations, backend_of
from store.partitions import partitions
from store.privacy import delete_vehicle_history
from store.retention import RetentionPolicy, maintain
from store.schema import TABLES
from store.spool import Spool


class _UserError(Exception):
    """A mistake the user can fix; printed as ``xj: error: ...``."""


def _db(args: argparse.Namespace) -> str:
    url: str | None = args.db or os.environ.get("XJ_DATABASE_URL")
    if not url:
        raise _UserError("no database: pass --db URL or set XJ_DATABASE_URL")
    return url


def _policy(items: list[str]) -> RetentionPolicy | None:
    if not items:
        return None
    days: dict[str, float] = {}
    for item in items:
        kind, sep, value = item.partition("=")
        try:
            days[kind] = float(value) if sep else float("nan")
        except ValueError:
            days[kind] = float("nan")
        if days[kind] != days[kind]:
            raise _UserError(f"--retain {item!r}: write KIND=DAYS, e.g. tracks=7")
    try:
        return RetentionPolicy.from_days(days)
    except ValueError as exc:
        raise _UserError(f"--retain: {exc}") from None


def _migrate(args: argparse.Namespace) -> int:
    done = apply_migrations(_db(args), backend=args.backend)
    print(f"applied {', '.join(f'{v:04d}' for v in done)}" if done else "database is up to date")
    return 0


def _maintain(args: argparse.Namespace) -> int:
    with psycopg.connect(_db(args), autocommit=True) as conn:
        ran = maintain(conn, time.time(), _policy(args.retain), days_ahead=args.days_ahead)
    print("maintenance done" if ran else "another process is maintaining this database; nothing done")
    return 0


def _status(args: argparse.Namespace) -> int:
    out: dict[str, Any] = {}
    with psycopg.connect(_db(args), autocommit=True) as conn:
        out["backend"] = backend_of(conn)
        out["migrations"] = [
            f"{v:04d}_{n}" for v, n in conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1")
        ]
        tables: dict[str, Any] = {}
        for name, spec in TABLES.items():
            row = conn.execute(f'SELECT count(*), max(time) FROM "{name}"').fetchone()
            info: dict[str, Any] = {"rows": int(row[0]) if row else 0, "latest": str(row[1]) if row else None}
            if spec.timeseries and out["backend"] == "native":
                days = sorted(partitions(conn, name))
                info["partitions"] = f"{len(days)} days, {days[0]} .. {days[-1]}" if days else "none (DEFAULT only)"
            tables[name] = info
        out["tables"] = tables
    if args.spool:
        folder = Path(args.spool) / "spool"
        if not folder.is_dir():
            raise _UserError(f"--spool {args.spool}: no spool there (expected {folder})")
        spool = Spool(folder)
        out["spool"] = {"records": len(spool), "bytes": spool.bytes}
        spool.close()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"backend {out['backend']}; migrations {', '.join(out['migrations'])}")
    for name, info in tables.items():
        parts = f"; {info['partitions']}" if "partitions" in info else ""
        print(f"  {name:<16} {info['rows']:>12,} rows; latest {info['latest']}{parts}")
    if "spool" in out:
        print(f"spool: {out['spool']['records']} chunks, {out['spool']['bytes']:,} bytes waiting")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with psycopg.connect(_db(args), autocommit=True) as conn:
        counts = delete_vehicle_history(conn, args.pseudonym)
    print(
        f"deleted {sum(counts.values())} rows of {args.pseudonym}: " + ", ".join(f"{t} {n}" for t, n in counts.items())
    )
    return 0


def _guarded(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            code: int = handler(args)
            return code
        except _UserError as exc:
            print(f"xj: error: {exc}", file=sys.stderr)
        except MigrationError as exc:
            print(f"xj: error: {exc}", file=sys.stderr)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"xj: error: cannot reach the database ({first}); check --db / XJ_DATABASE_URL", file=sys.stderr)
        except psycopg.errors.UndefinedTable:
            print("xj: error: the database is not migrated; run `xj store migrate` first", file=sys.stderr)
        return 2

    return run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``xj store ...`` to the ``xj`` parser."""
    p = sub.add_parser("store", help="database: migrate, maintain, status, revoke")
    p.add_argument("--db", help="database URL (default: $XJ_DATABASE_URL)")
    verbs = p.add_subparsers(dest="store_command", metavar="VERB", required=True)

    m = verbs.add_parser("migrate", help="apply pending schema migrations")
    m.add_argument("--backend", choices=("auto", "native", "timescale"), default="auto")
    m.set_defaults(func=_guarded(_migrate))

    mt = verbs.add_parser("maintain", help="partitions ahead, retention, pruning")
    mt.add_argument("--retain", action="append", default=[], metavar="KIND=DAYS", help="e.g. tracks=7")
    mt.add_argument("--days-ahead", type=int, default=2)
    mt.set_defaults(func=_guarded(_maintain))

    s = verbs.add_parser("status", help="backend, migrations, rows, partitions, spool")
    s.add_argument("--spool", help="a writer's spool_dir to inspect")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_guarded(_status))

    r = verbs.add_parser("revoke", help="delete one vehicle's history (by pseudonym)")
    r.add_argument("pseudonym")
    r.set_defaults(func=_guarded(_revoke))
