"""StoreWriter end to end against raw psycopg binary COPY (``write_row``), same run, same table.

Both write N track rows (15 columns, two of them text: ``region_id`` and, for one row in ten,
``vehicle_pseudonym``) into the ``tracks`` table of one scratch database, with its indexes and
daily partitions, and the table is emptied between runs; runs alternate peer / ours.

- peer, ``raw_copy``: one ``COPY tracks (...) FROM STDIN (FORMAT BINARY)`` with
  ``write_row`` per row, in one transaction; the Python row tuples (datetimes, floats, ints,
  strings) are built before the clock starts, which favours the peer.
- ours: ``StoreWriter.write_blocking`` of the same rows as numpy column dicts in batches of
  ``batch_rows``, then ``flush_blocking``; the clock covers checking, queueing, merging,
  encoding, COPY and commit.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from store.migrate import apply_migrations
from store.partitions import ensure_partitions
from store.writer import StoreWriter

COLUMNS = (
    "time",
    "region_id",
    "track_id",
    "x",
    "y",
    "vx",
    "vy",
    "speed",
    "heading",
    "length",
    "width",
    "cls",
    "lane_index",
    "dist_to_stop",
    "vehicle_pseudonym",
)
PG_TYPES = (
    "timestamptz",
    "text",
    "int8",
    "float8",
    "float8",
    "float8",
    "float8",
    "float8",
    "float8",
    "float4",
    "float4",
    "int2",
    "int4",
    "float8",
    "text",
)


@dataclass(frozen=True)
class BenchResult:
    """Rows per second of each run, their medians and the ratio ours / raw COPY."""

    n_rows: int
    batch_rows: int
    runs: int
    raw_copy_rows_per_s: list[float]
    ours_rows_per_s: list[float]

    @property
    def raw_copy_median(self) -> float:
        """Median rows/s of raw COPY."""
        return statistics.median(self.raw_copy_rows_per_s)

    @property
    def ours_median(self) -> float:
        """Median rows/s of the StoreWriter."""
        return statistics.median(self.ours_rows_per_s)

    @property
    def ratio(self) -> float:
        """ours / raw_copy (target >= 0.5)."""
        return self.ours_median / self.raw_copy_median

    def summary(self) -> str:
        """The lines the benchmark prints."""
        runs = ", ".join(f"{r:,.0f}" for r in self.raw_copy_rows_per_s)
        ours = ", ".join(f"{r:,.0f}" for r in self.ours_rows_per_s)
        return (
            f"tracks table, N={self.n_rows} rows x 15 columns (2 text), same database, {self.runs} runs each\n"
            f"raw psycopg COPY binary write_row, 1 transaction: median {self.raw_copy_median:,.0f} rows/s"
            f" (runs {runs})\n"
            f"StoreWriter end to end, batches of {self.batch_rows}: median {self.ours_median:,.0f} rows/s"
            f" (runs {ours})\n"
            f"ours/raw_copy = {self.ratio:.2f} (N={self.n_rows}, {self.runs} runs; target >= 0.5)"
        )


def make_tracks(n: int, t0: float, seed: int = 0) -> dict[str, npt.NDArray[Any]]:
    """``n`` track rows as columns, 10 Hz from ``t0`` (s since the Unix epoch), 1,000 tracks."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    pseudonyms = np.array([f"p{i:032x}" for i in range(1000)])
    track = k % 1000
    return {
        "time": t0 + (k // 1000) * 0.1,
        "region_id": np.full(n, "region-0"),
        "track_id": track.astype(np.int64),
        "x": rng.uniform(0, 1000, n),
        "y": rng.uniform(0, 1000, n),
        "vx": rng.normal(0, 8, n),
        "vy": rng.normal(0, 8, n),
        "speed": rng.uniform(0, 20, n),
        "heading": rng.uniform(-np.pi, np.pi, n),
        "length": np.full(n, 4.5, np.float32),
        "width": np.full(n, 1.8, np.float32),
        "cls": np.ones(n, np.int16),
        "lane_index": rng.integers(-1, 500, n).astype(np.int32),
        "dist_to_stop": rng.uniform(0, 200, n),
        "vehicle_pseudonym": np.where(track % 10 == 0, pseudonyms[track], ""),
    }


def _rows(cols: dict[str, npt.NDArray[Any]]) -> list[tuple[Any, ...]]:
    times = [datetime.fromtimestamp(t, UTC) for t in cols["time"].tolist()]
    values = [times] + [cols[c].tolist() for c in COLUMNS[1:]]
    values[-1] = [v or None for v in values[-1]]
    return list(zip(*values, strict=True))


def _raw_copy(url: str, rows: list[tuple[Any, ...]]) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE tracks")
        t = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            names = ", ".join(COLUMNS)
            with cur.copy(f"COPY tracks ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(list(PG_TYPES))
                for row in rows:
                    copy.write_row(row)
        return len(rows) / (time.perf_counter() - t)


def _ours(url: str, cols: dict[str, npt.NDArray[Any]], batch_rows: int) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE tracks")
    n = len(cols["time"])
    batches = [{k: v[i : i + batch_rows] for k, v in cols.items()} for i in range(0, n, batch_rows)]
    with (
        tempfile.TemporaryDirectory() as spool,
        StoreWriter(url, spool_dir=spool, maintenance_interval_s=None, max_queue_rows=max(n, 1)) as writer,
    ):
        writer.flush_blocking(30)
        t = time.perf_counter()
        for b in batches:
            writer.write_blocking("tracks", b)
        if not writer.flush_blocking(600):
            raise RuntimeError(f"store writer did not finish: {writer.metrics}")
        elapsed = time.perf_counter() - t
        if writer.metrics.rows_written != n:
            raise RuntimeError(f"store writer wrote {writer.metrics.rows_written} of {n} rows")
    return n / elapsed


def run_bench(
    admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres",
    *,
    n_rows: int = 200_000,
    batch_rows: int = 10_000,
    runs: int = 3,
) -> BenchResult:
    """Run both writers ``runs`` times each into one scratch database and return the numbers.

    Parameters
    ----------
    admin_url
        A database on the server where the scratch database ``xjbench_store_*`` is created
        (and dropped afterwards).
    n_rows
        Track rows per run.
    batch_rows
        Rows per ``write`` call of the StoreWriter.
    runs
        Runs of each writer (alternating).
    """
    name = f"xjbench_store_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    try:
        apply_migrations(url)
        t0 = time.time()
        with psycopg.connect(url, autocommit=True) as conn:
            ensure_partitions(conn, t0, tables=("tracks",))
        cols = make_tracks(n_rows, t0)
        rows = _rows(cols)
        raw: list[float] = []
        ours: list[float] = []
        for _ in range(runs):
            raw.append(_raw_copy(url, rows))
            ours.append(_ours(url, cols, batch_rows))
        return BenchResult(n_rows, batch_rows, runs, raw, ours)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
