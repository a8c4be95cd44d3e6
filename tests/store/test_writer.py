"""StoreWriter against the real server: batching, back-pressure, bad data, replay, exactly once."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from proto.arrays import VEHICLE_REPORT_DTYPE
from store.batch import prepare
from store.copybin import copy_sql, encode
from store.privacy import Pseudonymizer
from store.spool import Record, Spool, read_record_file
from store.writer import Offer, StoreWriter, WriterClosed
from tests.store.conftest import T0, insert_order, tracks

pytestmark = pytest.mark.postgres


async def test_batches_arrive_once_in_order_with_metrics(
    db: str, conn: psycopg.Connection[Any], spool_dir: Path
) -> None:
    async with StoreWriter(db, spool_dir=spool_dir, maintenance_interval_s=None, max_chunk_rows=700) as w:
        for k in range(10):
            await w.write("tracks", tracks(250, start=250 * k))
        assert await w.flush(30)
        m = w.metrics
    assert (m.rows_written, m.queue_rows, m.spool_records, m.errors, m.rows_dropped) == (2500, 0, 0, 0, 0)
    assert m.rows_per_s > 0
    assert insert_order(conn) == list(range(2500))
    chunks = conn.execute("SELECT n_rows FROM store_batches ORDER BY seq").fetchall()
    assert sum(n for (n,) in chunks) == 2500 and max(n for (n,) in chunks) <= 700


async def test_tables_interleave_and_keep_their_own_order(
    db: str, conn: psycopg.Connection[Any], spool_dir: Path
) -> None:
    lanes = {"time": np.full(3, T0), "lane_id": np.array(["l1", "l2", "l3"]), "count": np.arange(3)}
    lanes |= {"queue_m": np.zeros(3), "mean_speed": np.full(3, np.nan), "occupancy": np.zeros(3)}
    async with StoreWriter(db, spool_dir=spool_dir, maintenance_interval_s=None) as w:
        for k in range(4):
            await w.write("tracks", tracks(10, start=10 * k))
            await w.write("lane_states", lanes)
        assert await w.flush(30)
    assert insert_order(conn) == list(range(40))
    assert conn.execute("SELECT count(*), count(*) FILTER (WHERE mean_speed = 'NaN') FROM lane_states").fetchone() == (
        12,
        12,
    )


def test_try_write_drops_when_full_and_write_blocking_waits(db: str, spool_dir: Path) -> None:
    w = StoreWriter(db, spool_dir=spool_dir, max_queue_batches=2, maintenance_interval_s=None)
    assert w.try_write("tracks", tracks(5)) is Offer.QUEUED
    assert w.try_write("tracks", tracks(5, start=5)) is Offer.QUEUED
    assert w.try_write("tracks", tracks(5, start=10)) is Offer.DROPPED
    assert w.write_blocking("tracks", tracks(5, start=10), timeout=0.1) is Offer.DROPPED
    assert w.metrics.rows_dropped == 10 and w.metrics.queue_batches == 2
    with w:
        assert w.write_blocking("tracks", tracks(5, start=10), timeout=30) is Offer.QUEUED
        assert w.flush_blocking(30)
        assert w.metrics.rows_written == 15
    with pytest.raises(WriterClosed):
        w.try_write("tracks", tracks(1))


async def test_async_write_waits_for_room_without_blocking_the_loop(db: str, spool_dir: Path) -> None:
    w = StoreWriter(db, spool_dir=spool_dir, max_queue_batches=1, maintenance_interval_s=None)
    await w.write("tracks", tracks(5))
    second = asyncio.create_task(w.write("tracks", tracks(5, start=5)))
    await asyncio.sleep(0.2)
    assert not second.done()  # queue full: waiting, and the loop still runs this test
    w.start()
    await asyncio.wait_for(second, 30)
    assert await w.flush(30)
    await w.aclose()
    assert w.metrics.rows_written == 10


def test_rows_the_database_refuses_are_set_aside_and_the_rest_flows(
    db: str, conn: psycopg.Connection[Any], spool_dir: Path
) -> None:
    bad = tracks(3, start=100)
    bad["region_id"] = np.array(["ok", "nul\x00inside", "ok"], dtype=object)
    override = {
        "override_id": np.array(["cmd-1"]),
        "time": np.array([T0]),
        "junction_id": np.array(["j1"]),
        "kind": np.array([1]),
        "operator": np.array(["op:li"]),
        "reason": np.array(["parade"]),
        "outcome": np.array(["applied"]),
    }
    with StoreWriter(db, spool_dir=spool_dir, maintenance_interval_s=None) as w:
        w.write_blocking("tracks", tracks(3))
        assert w.flush_blocking(30)
        w.write_blocking("tracks", bad)  # text with NUL: the server refuses it (data error)
        w.write_blocking("overrides", override)
        assert w.flush_blocking(30)
        w.write_blocking("overrides", override)  # same id again: integrity error
        w.write_blocking("tracks", tracks(3, start=3))
        assert w.flush_blocking(30)
        m = w.metrics
    assert (m.rows_written, m.rows_rejected) == (7, 4)
    assert insert_order(conn) == [0, 1, 2, 3, 4, 5]
    reasons = sorted(p.read_text() for p in (spool_dir / "rejected").glob("*.reason"))
    assert len(reasons) == 2 and any("UniqueViolation" in r for r in reasons)
    kept = sorted((read_record_file(p) for p in (spool_dir / "rejected").glob("*.rec")), key=lambda r: r.table)
    assert [(r.table, r.rows) for r in kept] == [("overrides", 1), ("tracks", 3)]


def test_raw_vehicle_ids_become_pseudonyms(db: str, conn: psycopg.Connection[Any], spool_dir: Path) -> None:
    reports = np.zeros(4, VEHICLE_REPORT_DTYPE)
    reports["vehicle_id"] = ["bus-7", "car-1", "bus-7", "car-2"]
    reports["t"] = T0 + np.arange(4)
    reports["bus_line"] = ["12", "", "12", ""]
    with StoreWriter(db, spool_dir=spool_dir, pseudonymize=Pseudonymizer(b"k" * 16), maintenance_interval_s=None) as w:
        w.write_blocking("vehicle_reports", reports)
        assert w.flush_blocking(30)
    rows = conn.execute("SELECT vehicle_pseudonym, bus_line FROM vehicle_reports ORDER BY time").fetchall()
    assert rows[0] == (rows[2][0], "12") and rows[1][1] is None
    assert len({r[0] for r in rows}) == 3 and not any("bus" in r[0] or "car" in r[0] for r in rows)


def test_maintenance_creates_partitions_ahead(db: str, conn: psycopg.Connection[Any], spool_dir: Path) -> None:
    with StoreWriter(db, spool_dir=spool_dir) as w:
        assert w.flush_blocking(30)
        w.write_blocking("tracks", tracks(1))
        assert w.flush_blocking(30)
    n = conn.execute("SELECT count(*) FROM pg_class WHERE relname ~ '^tracks_p[0-9]{8}$'").fetchone()
    assert n == (4,)  # yesterday, today and two days ahead


def test_a_closed_writer_spools_and_the_next_one_replays_first(
    db: str, conn: psycopg.Connection[Any], spool_dir: Path
) -> None:
    nowhere = psycopg.conninfo.make_conninfo(db, port=1)  # nothing listens there
    w = StoreWriter(nowhere, spool_dir=spool_dir, backoff_initial_s=0.01, maintenance_interval_s=None)
    with w:
        for k in range(3):
            w.write_blocking("tracks", tracks(10, start=10 * k))
    assert w.metrics.spool_records >= 1 and w.metrics.errors >= 1 and w.metrics.rows_spooled == 30
    with StoreWriter(db, spool_dir=spool_dir, maintenance_interval_s=None) as again:
        again.write_blocking("tracks", tracks(10, start=30))
        assert again.flush_blocking(30)
        assert again.metrics.spool_records == 0
    assert insert_order(conn) == list(range(40))


def test_a_chunk_committed_before_a_crash_is_not_written_twice(
    db: str, conn: psycopg.Connection[Any], spool_dir: Path
) -> None:
    # The spool holds two chunks; the first was committed just before the process died (so its
    # segment was never deleted). Replaying must skip it by its chunk id.
    spool = Spool(spool_dir / "spool")
    records = []
    for k in range(2):
        cols, payload = encode(prepare("tracks", tracks(5, start=5 * k)))
        records.append(Record("tracks", cols, str(uuid.uuid4()), 5, payload))
        spool.append(records[-1])
    spool.close()
    first = records[0]
    with conn.transaction():
        conn.execute(
            "INSERT INTO store_batches (chunk_id, table_name, n_rows) VALUES (%s, 'tracks', 5)", (first.chunk_id,)
        )
        with conn.cursor() as cur, cur.copy(copy_sql("tracks", first.columns)) as copy:
            copy.write(first.payload)
    with StoreWriter(db, spool_dir=spool_dir, maintenance_interval_s=None) as w:
        assert w.flush_blocking(30)  # the spool is drained
        assert (w.metrics.rows_written, w.metrics.duplicates_skipped) == (5, 1)  # only the second was new
    assert insert_order(conn) == list(range(10))


def test_a_failing_maintenance_does_not_stop_writing(db: str, conn: psycopg.Connection[Any], spool_dir: Path) -> None:
    conn.execute("DELETE FROM store_settings")  # maintenance now fails: backend unknown
    with StoreWriter(db, spool_dir=spool_dir) as w:
        w.write_blocking("tracks", tracks(5))
        assert w.flush_blocking(30)
        m = w.metrics
    assert m.rows_written == 5 and m.errors == 1 and "maintenance" in m.last_error


@pytest.mark.parametrize("overflow", ["spool", "drop"])
def test_overflow_policy_above_high_water(
    db: str, conn: psycopg.Connection[Any], spool_dir: Path, overflow: Any
) -> None:
    lanes = {"time": np.full(2, T0), "lane_id": np.array(["l1", "l2"]), "count": np.arange(2)}
    lanes |= {"queue_m": np.zeros(2), "mean_speed": np.zeros(2), "occupancy": np.zeros(2)}
    w = StoreWriter(
        db, spool_dir=spool_dir, max_queue_batches=6, high_water=0.5, overflow=overflow, maintenance_interval_s=None
    )
    for k in range(3):  # alternate tables so the batches cannot merge into one chunk
        assert w.try_write("tracks", tracks(10, start=10 * k)) is Offer.QUEUED
        assert w.try_write("lane_states", lanes) is Offer.QUEUED
    with w:  # the worker starts with the queue at its high-water mark
        assert w.flush_blocking(30)
        m = w.metrics
    assert m.rows_written == 36 and insert_order(conn) == list(range(30))
    if overflow == "spool":
        assert m.rows_spooled > 0  # diverted to disk while the queue was above high water
    else:
        assert m.rows_spooled == 0


def test_past_max_spool_bytes_rows_are_dropped_and_counted(spool_dir: Path, db: str) -> None:
    nowhere = psycopg.conninfo.make_conninfo(db, port=1)
    w = StoreWriter(nowhere, spool_dir=spool_dir, max_spool_bytes=1, max_chunk_rows=10, maintenance_interval_s=None)
    for k in range(3):
        w.try_write("tracks", tracks(10, start=10 * k))
    w.start()
    w.close()
    m = w.metrics
    assert (m.rows_spooled, m.rows_dropped, m.spool_records) == (10, 20, 1)
