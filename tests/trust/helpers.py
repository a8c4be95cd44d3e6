"""Helpers of the privacy tests: search every stored row for a vehicle's traces."""

from __future__ import annotations

from typing import Any

import psycopg


def mentions(conn: psycopg.Connection[Any], needles: list[str]) -> dict[str, int]:
    """Rows of every plain table and partition (schema ``public``) whose text form contains any
    needle, by table; empty when none does."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
    ]
    patterns = [f"%{n}%" for n in needles]
    found = {}
    for t in tables:
        q = f'SELECT count(*) FROM ONLY "{t}" AS whole_row WHERE whole_row::text LIKE ANY(%s)'
        row = conn.execute(q, (patterns,)).fetchone()
        if row and row[0]:
            found[t] = int(row[0])
    return found
