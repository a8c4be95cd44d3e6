"""Fixtures of the store tests: a migrated database on the real server, a spool folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pytest

from store.batch import prepare
from store.copybin import copy_sql, encode
from store.migrate import apply_migrations
from tests.store.tcpproxy import TcpProxy

#: 2026-01-01 12:00 UTC: a day no test creates a partition for unless it means to.
T0 = 1767268800.0


@pytest.fixture
def db(pg_url: str) -> str:
    """URL of a fresh database with every migration applied."""
    apply_migrations(pg_url)
    return pg_url


@pytest.fixture
def conn(db: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to :func:`db`."""
    with psycopg.connect(db, autocommit=True) as c:
        yield c


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    """A folder for a writer's spool."""
    return tmp_path / "writer"


@pytest.fixture
def proxy(db: str) -> Iterator[TcpProxy]:
    """A cuttable TCP proxy in front of the real server."""
    info = psycopg.conninfo.conninfo_to_dict(db)
    p = TcpProxy((str(info.get("host", "127.0.0.1")), int(str(info.get("port", 5432)))))
    try:
        yield p
    finally:
        p.close()


def tracks(n: int, *, start: int = 0, t0: float = T0) -> dict[str, npt.NDArray[Any]]:
    """``n`` track rows whose ``track_id`` is their global number ``start + i`` (order witness)."""
    k = np.arange(start, start + n)
    return {
        "time": t0 + k * 0.001,
        "region_id": np.full(n, "r1"),
        "track_id": k.astype(np.int64),
        "x": k * 0.5,
        "y": -k * 0.25,
        "vx": np.ones(n),
        "vy": np.zeros(n),
        "speed": np.ones(n),
        "heading": np.zeros(n),
        "vehicle_pseudonym": np.array([f"p{i:08d}" if i % 7 == 0 else "" for i in k.tolist()], dtype="U9"),
    }


def dbname(url: str) -> str:
    """The database name in ``url``."""
    return str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])


def insert_order(conn: psycopg.Connection[Any]) -> list[int]:
    """``track_id`` of every row in the order the rows were inserted.

    Rows at :data:`T0` land in ``tracks_default`` (no test creates that day's partition), a heap
    filled only by appends, so ``ctid`` order is insertion order.
    """
    return [r[0] for r in conn.execute("SELECT track_id FROM tracks_default ORDER BY ctid")]


def copy_rows(conn: psycopg.Connection[Any], table: str, data: dict[str, Any]) -> None:
    """COPY one batch straight into ``table`` (no writer), through the encoder."""
    cols, payload = encode(prepare(table, data))
    with conn.cursor() as cur, cur.copy(copy_sql(table, cols)) as copy:
        copy.write(payload)
