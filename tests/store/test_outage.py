"""Database outages: the writer spools, reconnects, replays in order, and loses nothing.

The default suite cuts connections without disturbing anyone else: through a TCP proxy in front
of the real server (:mod:`tests.store.tcpproxy`), and by terminating the writer's own backend.
Stopping and restarting the real server is opt-in (``XJ_TEST_PG_RESTART=1``), since other
engineers' tests share it; it always starts the server again.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from store.writer import StoreWriter, WriterMetrics
from tests.store.conftest import dbname, insert_order, tracks
from tests.store.tcpproxy import TcpProxy

pytestmark = pytest.mark.postgres

FAST = {"backoff_initial_s": 0.05, "backoff_max_s": 0.5, "maintenance_interval_s": None}


def _until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def _write(w: StoreWriter, first: int, last: int, rows: int = 100) -> None:
    for k in range(first, last):
        w.write_blocking("tracks", tracks(rows, start=rows * k))


def _spooling(w: StoreWriter) -> Callable[[], bool]:
    def check() -> bool:
        m: WriterMetrics = w.metrics
        return not m.connected and m.spool_records > 0 and m.queue_batches == 0

    return check


def test_cut_connection_spools_and_replays_in_order(
    db: str, conn: psycopg.Connection[Any], proxy: TcpProxy, spool_dir: Path
) -> None:
    with StoreWriter(proxy.url(dbname(db)), spool_dir=spool_dir, **FAST) as w:
        _write(w, 0, 5)
        assert w.flush_blocking(30)
        proxy.cut()
        _write(w, 5, 15)  # the first of these meets the cut connection; the rest find none
        _until(_spooling(w), "the writer to spool")
        assert not w.flush_blocking(0.3)
        assert insert_order(conn) == list(range(500))  # nothing new arrived meanwhile
        proxy.restore()
        _write(w, 15, 20)  # new data after recovery must come after the spooled data
        assert w.flush_blocking(60)
        m = w.metrics
    assert insert_order(conn) == list(range(2000))
    assert m.rows_spooled >= 1000 and m.errors >= 1 and m.spool_records == 0 and m.spool_bytes == 0
    assert not list((spool_dir / "spool").glob("*.seg"))  # replayed segments are deleted


def test_cut_in_the_middle_of_a_copy(db: str, conn: psycopg.Connection[Any], proxy: TcpProxy, spool_dir: Path) -> None:
    with StoreWriter(proxy.url(dbname(db)), spool_dir=spool_dir, max_chunk_rows=20_000, **FAST) as w:
        _write(w, 0, 1, rows=20_000)
        assert w.flush_blocking(60)
        proxy.cut_after(1_000_000)  # a 20,000-row chunk is about 2 MB: cut half-way through its COPY
        _write(w, 1, 6, rows=20_000)
        _until(lambda: proxy.is_cut, "the cut")
        _until(_spooling(w), "the writer to spool")
        assert "write" in w.metrics.last_error or "connect" in w.metrics.last_error
        proxy.restore()
        assert w.flush_blocking(120)
    assert proxy.cuts == 1
    assert insert_order(conn) == list(range(120_000))


def test_terminated_backend_reconnects_and_loses_nothing(
    db: str, conn: psycopg.Connection[Any], spool_dir: Path
) -> None:
    with StoreWriter(db, spool_dir=spool_dir, **FAST) as w:
        _write(w, 0, 3)
        assert w.flush_blocking(30)
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'xj-store-writer'"
        ).fetchone()
        assert killed == (1,)
        _write(w, 3, 8)
        assert w.flush_blocking(60)
        m = w.metrics
    assert insert_order(conn) == list(range(800))
    assert m.errors >= 1


def _pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True, timeout=120)


def _listening(port: int = 5432) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("XJ_TEST_PG_RESTART") != "1",
    reason="stops the shared PostgreSQL server for a few seconds; opt in with XJ_TEST_PG_RESTART=1",
)
def test_real_server_stop_and_start(db: str, spool_dir: Path) -> None:
    with StoreWriter(db, spool_dir=spool_dir, **FAST) as w:
        _write(w, 0, 3)
        assert w.flush_blocking(30)
        try:
            _pg_ctl("stop")
            _write(w, 3, 10)
            _until(_spooling(w), "the writer to spool")
            assert not w.flush_blocking(0.3)
        finally:
            if not _listening():
                _pg_ctl("start")
            _until(_listening, "PostgreSQL to listen again", timeout=120)
        _write(w, 10, 12)
        assert w.flush_blocking(120)
    with psycopg.connect(db) as c:
        assert insert_order(c) == list(range(1200))
