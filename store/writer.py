"""StoreWriter: batched binary COPY off the hot path, with back-pressure and a disk spool.

Callers hand it structured arrays or column dicts (:func:`store.batch.prepare` checks them on the
caller's side, cheaply). One worker thread owns the database connection and the spool, so order
is kept by construction: it takes queued batches in order, merges neighbours of the same table
into chunks, encodes each chunk once (:mod:`store.copybin`) and either COPYs it in one
transaction or, when the database is away or anything is already spooled, appends it to the
spool. On reconnection (back-off with jitter) the spool is replayed in order before anything
new. Each chunk carries a UUID recorded in ``store_batches`` in the same transaction as its COPY,
so a chunk replayed after a crash or an unknown commit outcome is skipped: exactly once.

A chunk the database refuses for its data (a data or integrity error) is set aside in
``spool_dir/rejected/`` with the reason, counted and logged; the rest flows on.

Back-pressure: the queue is bounded in batches and rows. ``await write()`` waits for room,
``write_blocking()`` waits in a thread, ``try_write()`` never waits and reports
:attr:`Offer.DROPPED` when full. With ``overflow="spool"`` the worker diverts batches to the
spool while the queue is above its high-water mark, so a slow database does not fill the queue;
with ``overflow="drop"`` it does not, and a full queue drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import psycopg

from store.batch import Batch, Pseudonymize, merge, prepare
from store.copybin import copy_sql, encode, encode_parts
from store.retention import RetentionPolicy, maintain
from store.spool import Record, Spool

#: libpq settings that notice a dead peer within seconds rather than hours.
CONNECT_OPTIONS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "application_name": "xj-store-writer",
}


_Outcome = Literal["ok", "duplicate", "away", "rejected"]


class Offer(enum.Enum):
    """What :meth:`StoreWriter.try_write` did with a batch."""

    QUEUED = "queued"
    DROPPED = "dropped"


class WriterClosed(RuntimeError):
    """The writer is closed (or closing) and takes no more batches."""


@dataclass(frozen=True)
class WriterMetrics:
    """A snapshot of the writer's counters.

    Attributes
    ----------
    rows_written, chunks_written
        Rows and chunks committed to the database since start (replays included).
    rows_per_s
        Rows committed per second over the last ``rate_window_s`` seconds.
    queue_batches, queue_rows
        Accepted, not yet taken by the worker.
    spool_records, spool_bytes
        Chunks (and their bytes on disk) waiting in the spool.
    rows_spooled
        Rows ever written to the spool by this writer.
    rows_dropped
        Rows refused by :meth:`StoreWriter.try_write` (queue full) or past ``max_spool_bytes``.
    rows_rejected
        Rows the database refused for their data (kept in ``rejected/``).
    duplicates_skipped
        Replayed chunks found already committed (their id in ``store_batches``) and skipped.
    errors
        Database and spool errors seen (outages count once per failed attempt).
    connected
        Whether the worker holds a live connection.
    last_error
        The latest error's text ('' when none).
    """

    rows_written: int
    chunks_written: int
    rows_per_s: float
    queue_batches: int
    queue_rows: int
    spool_records: int
    spool_bytes: int
    rows_spooled: int
    rows_dropped: int
    rows_rejected: int
    duplicates_skipped: int
    errors: int
    connected: bool
    last_error: str


@dataclass
class _Chunk:
    """Merged batches for one COPY; ``last_seq`` is the newest batch it holds.

    The direct path streams it (:func:`store.copybin.encode_parts`); the whole payload is
    encoded only when it has to be kept (spool, rejected).
    """

    batch: Batch
    chunk_id: str
    last_seq: int
    _record: Record | None = None

    @property
    def rows(self) -> int:
        return self.batch.n

    @property
    def record(self) -> Record:
        if self._record is None:
            columns, payload = encode(self.batch)
            self._record = Record(self.batch.table.name, columns, self.chunk_id, self.batch.n, payload)
        return self._record


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _transient(exc: BaseException, conn: psycopg.Connection[Any] | None) -> bool:
    """Whether a failure is the database being away (retry later) rather than bad data."""
    if conn is None or conn.broken or conn.closed:
        return True
    return not isinstance(exc, psycopg.DataError | psycopg.IntegrityError)


class StoreWriter:
    """Writes batches to PostgreSQL in the background; survives outages without losing rows.

    Parameters
    ----------
    conninfo
        libpq connection string or URL of a migrated database.
    spool_dir
        Folder for the outage spool (and ``rejected/``). Reuse it across restarts: what is
        spooled there is replayed first.
    max_queue_batches, max_queue_rows
        Queue bounds; a single batch larger than ``max_queue_rows`` is accepted when the queue
        is empty.
    max_chunk_rows
        Most rows merged into one COPY transaction.
    rows_per_part
        Rows encoded at a time while streaming a COPY (the server ingests one part while the
        next is encoded).
    overflow
        ``"spool"``: divert to the spool while the queue is above ``high_water`` (fraction of
        its bounds); ``"drop"``: never divert, so a full queue drops in :meth:`try_write`.
    high_water
        Fraction of the queue bounds above which ``overflow="spool"`` diverts.
    max_spool_bytes
        Stop spooling beyond this size and drop (counted, logged); None: no limit.
    pseudonymize
        Raw vehicle id -> pseudonym, for batches that carry ``vehicle_id``.
    retention
        Retention enforced by the periodic maintenance (None: partitions only, nothing dropped).
    maintenance_interval_s
        Seconds between maintenance runs (partitions ahead, retention, batch-log pruning);
        None: never (something else runs :func:`store.retention.maintain`).
    backoff_initial_s, backoff_max_s
        Reconnect back-off: doubles from the first to the second, with ±20 % jitter.
    rate_window_s
        Window of :attr:`WriterMetrics.rows_per_s`, seconds.
    connect_options
        libpq keywords merged over :data:`CONNECT_OPTIONS`.
    fsync
        fsync spool appends (keep True outside tests).
    logger
        Logger to use (default ``store.writer``).
    """

    def __init__(
        self,
        conninfo: str,
        *,
        spool_dir: Path | str,
        max_queue_batches: int = 256,
        max_queue_rows: int = 1_000_000,
        max_chunk_rows: int = 50_000,
        rows_per_part: int = 8192,
        overflow: Literal["spool", "drop"] = "spool",
        high_water: float = 0.75,
        max_spool_bytes: int | None = None,
        pseudonymize: Pseudonymize | None = None,
        retention: RetentionPolicy | None = None,
        maintenance_interval_s: float | None = 3600.0,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
        rate_window_s: float = 10.0,
        connect_options: Mapping[str, Any] | None = None,
        fsync: bool = True,
        logger: logging.Logger | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.spool_dir = Path(spool_dir)
        self.max_queue_batches = max_queue_batches
        self.max_queue_rows = max_queue_rows
        self.max_chunk_rows = max_chunk_rows
        self.rows_per_part = rows_per_part
        self.overflow = overflow
        self.high_water = high_water
        self.max_spool_bytes = max_spool_bytes
        self.pseudonymize = pseudonymize
        self.retention = retention
        self.maintenance_interval_s = maintenance_interval_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.rate_window_s = rate_window_s
        self.connect_options = {**CONNECT_OPTIONS, **(connect_options or {})}
        self.log = logger or logging.getLogger(__name__)
        self._spool = Spool(self.spool_dir / "spool", fsync=fsync)

        self._cond = threading.Condition()
        self._queue: deque[tuple[int, Batch]] = deque()
        self._queued_rows = 0
        self._accepted_seq = 0
        self._done_seq = 0
        self._spooled_seq: dict[str, int] = {}  # chunk id -> last_seq, for chunks spooled by this run
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._closing = False
        self._close_deadline = float("inf")
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None

        self._rows_written = 0
        self._chunks_written = 0
        self._rows_spooled = 0
        self._rows_dropped = 0
        self._rows_rejected = 0
        self._duplicates = 0
        self._errors = 0
        self._last_error = ""
        self._rate: deque[tuple[float, int]] = deque()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        """Start the worker thread (idempotent); returns self."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="xj-store-writer", daemon=True)
                self._thread.start()
        return self

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop taking batches; write what is queued, or spool it, then stop the worker.

        Parameters
        ----------
        timeout
            Seconds to keep writing to the database; after that (or at once, when it is away)
            whatever is left goes to the spool for the next writer on the same ``spool_dir``.
        """
        with self._cond:
            start = self._thread is None and (bool(self._queue) or len(self._spool) > 0)
        if start:
            self.start()
        with self._cond:
            self._closing = True
            self._close_deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        self._spool.close()
        self._wake_async()

    async def aclose(self, timeout: float | None = 30.0) -> None:
        """:meth:`close` without blocking the event loop."""
        await asyncio.to_thread(self.close, timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- accepting batches -------------------------------------------------------------------
    def _room_for(self, batch: Batch) -> bool:
        if not self._queue:
            return True
        return len(self._queue) < self.max_queue_batches and self._queued_rows + batch.n <= self.max_queue_rows

    def _enqueue(self, batch: Batch) -> None:
        if self._closing:
            raise WriterClosed("the store writer is closed")
        self._accepted_seq += 1
        self._queue.append((self._accepted_seq, batch))
        self._queued_rows += batch.n
        self._cond.notify_all()

    def _prepare(self, table: str, data: np.ndarray | Mapping[str, npt.ArrayLike]) -> Batch:
        return prepare(table, data, pseudonymize=self.pseudonymize)

    def try_write(self, table: str, data: np.ndarray | Mapping[str, npt.ArrayLike]) -> Offer:
        """Queue a batch without waiting; :attr:`Offer.DROPPED` (counted) when the queue is full.

        Parameters
        ----------
        table
            Table name (:data:`store.schema.TABLES`).
        data
            Structured array (N,) or column dict; see :func:`store.batch.prepare`.

        Raises
        ------
        store.batch.BatchError
            The batch does not fit the table.
        WriterClosed
            After :meth:`close`.
        """
        batch = self._prepare(table, data)
        if batch.n == 0:
            return Offer.QUEUED
        with self._cond:
            if not self._room_for(batch):
                self._rows_dropped += batch.n
                self.log.warning("store writer queue full: dropped %d %s rows", batch.n, table)
                return Offer.DROPPED
            self._enqueue(batch)
        return Offer.QUEUED

    def write_blocking(
        self, table: str, data: np.ndarray | Mapping[str, npt.ArrayLike], timeout: float | None = None
    ) -> Offer:
        """Queue a batch, waiting up to ``timeout`` s for room (from a thread, not the event loop)."""
        batch = self._prepare(table, data)
        if batch.n == 0:
            return Offer.QUEUED
        with self._cond:
            if not self._cond.wait_for(lambda: self._closing or self._room_for(batch), timeout):
                self._rows_dropped += batch.n
                return Offer.DROPPED
            self._enqueue(batch)
        return Offer.QUEUED

    async def write(self, table: str, data: np.ndarray | Mapping[str, npt.ArrayLike]) -> None:
        """Queue a batch, waiting (without blocking the loop) while the queue is full."""
        batch = self._prepare(table, data)
        if batch.n == 0:
            return
        await self._until(lambda: self._closing or self._room_for(batch), lambda: self._enqueue(batch))

    async def _until(self, ready: Callable[[], bool], then: Callable[[], None] | None = None) -> None:
        """Wait (on the event loop) until ``ready()``, then run ``then()`` under the lock."""
        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                if ready():
                    if then is not None:
                        then()
                    return
                fut: asyncio.Future[None] = loop.create_future()
                self._waiters.append((loop, fut))
            await fut

    def _wake_async(self) -> None:
        with self._cond:
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            with contextlib.suppress(RuntimeError):  # loop closed
                loop.call_soon_threadsafe(_resolve, fut)

    # -- flushing ----------------------------------------------------------------------------
    def _stopped(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def _in_database(self, target: int) -> bool:
        return self._done_seq >= target and len(self._spool) == 0

    def flush_blocking(self, timeout: float | None = None) -> bool:
        """Wait until every batch accepted so far is in the database and the spool is empty.

        Rows the database refused (set aside) or that were dropped count as done. Returns False
        on timeout (for example while the database is away) or when the worker has stopped.
        """
        with self._cond:
            target = self._accepted_seq
            self._cond.wait_for(lambda: self._in_database(target) or self._stopped(), timeout)
            return self._in_database(target)

    async def flush(self, timeout: float | None = None) -> bool:
        """:meth:`flush_blocking` for the event loop."""
        with self._cond:
            target = self._accepted_seq
        try:
            await asyncio.wait_for(self._until(lambda: self._in_database(target) or self._stopped()), timeout)
        except TimeoutError:
            return False
        return self._in_database(target)

    # -- metrics -----------------------------------------------------------------------------
    @property
    def metrics(self) -> WriterMetrics:
        """Current counters (cheap; safe from any thread)."""
        with self._cond:
            now = time.monotonic()
            while self._rate and self._rate[0][0] < now - self.rate_window_s:
                self._rate.popleft()
            return WriterMetrics(
                rows_written=self._rows_written,
                chunks_written=self._chunks_written,
                rows_per_s=sum(n for _, n in self._rate) / self.rate_window_s,
                queue_batches=len(self._queue),
                queue_rows=self._queued_rows,
                spool_records=len(self._spool),
                spool_bytes=self._spool.bytes,
                rows_spooled=self._rows_spooled,
                rows_dropped=self._rows_dropped,
                rows_rejected=self._rows_rejected,
                duplicates_skipped=self._duplicates,
                errors=self._errors,
                connected=self._conn is not None,
                last_error=self._last_error,
            )

    # -- the worker --------------------------------------------------------------------------
    def _take(self, wait_s: float) -> _Chunk | None:
        """Merge the oldest queued batches of one table into a chunk; wait up to ``wait_s``."""
        with self._cond:
            if not self._queue and not self._closing:
                self._cond.wait(wait_s)
            if not self._queue:
                return None
            seq, first = self._queue.popleft()
            group, rows = [first], first.n
            while (
                self._queue and self._queue[0][1].key == first.key and rows + self._queue[0][1].n <= self.max_chunk_rows
            ):
                seq, b = self._queue.popleft()
                group.append(b)
                rows += b.n
            self._queued_rows -= rows
            self._cond.notify_all()
        self._wake_async()
        return _Chunk(merge(group), str(uuid.uuid4()), seq)

    def _above_high_water(self) -> bool:
        with self._cond:
            return (
                len(self._queue) >= self.high_water * self.max_queue_batches
                or self._queued_rows >= self.high_water * self.max_queue_rows
            )

    def _mark_done(self, seq: int, rows_written: int = 0) -> None:
        with self._cond:
            self._done_seq = max(self._done_seq, seq)
            if rows_written:
                self._rows_written += rows_written
                self._chunks_written += 1
                self._rate.append((time.monotonic(), rows_written))
            self._cond.notify_all()
        self._wake_async()

    def _error(self, what: str, exc: BaseException) -> None:
        with self._cond:
            self._errors += 1
            self._last_error = f"{what}: {type(exc).__name__}: {exc}".strip()
        self.log.warning("store writer %s: %s", what, exc)

    def _connect(self) -> bool:
        try:
            self._conn = psycopg.connect(self.conninfo, autocommit=True, **self.connect_options)
        except psycopg.Error as exc:
            self._error("connect", exc)
            return False
        self.log.info("store writer connected")
        return True

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _copy(self, item: Record | _Chunk) -> bool:
        """COPY one chunk in one transaction; False when its id was already committed."""
        conn = self._conn
        assert conn is not None
        if isinstance(item, _Chunk):
            table, rows = item.batch.table.name, item.rows
            columns, parts = encode_parts(item.batch, self.rows_per_part)
        else:
            table, rows, columns, parts = item.table, item.rows, item.columns, iter((item.payload,))
        with conn.transaction():
            new = conn.execute(
                "INSERT INTO store_batches (chunk_id, table_name, n_rows) VALUES (%s, %s, %s)"
                " ON CONFLICT (chunk_id) DO NOTHING RETURNING seq",
                (item.chunk_id, table, rows),
            ).fetchone()
            if new is None:
                return False
            with conn.cursor() as cur, cur.copy(copy_sql(table, columns)) as copy:
                for part in parts:
                    copy.write(part)
        return True

    def _deliver(self, item: Record | _Chunk) -> _Outcome:
        """Try to commit a chunk: ``ok``, ``duplicate`` (already committed), ``away``, ``rejected``."""
        try:
            written = self._copy(item)
        except psycopg.Error as exc:
            if _transient(exc, self._conn):
                self._error("write", exc)
                self._disconnect()
                return "away"
            self._reject(item.record if isinstance(item, _Chunk) else item, exc)
            return "rejected"
        if not written:
            self.log.info("store writer: chunk %s was already committed; skipped", item.chunk_id)
            with self._cond:
                self._duplicates += 1
            return "duplicate"
        return "ok"

    def _reject(self, record: Record, exc: BaseException) -> None:
        folder = self.spool_dir / "rejected"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{record.chunk_id}.rec").write_bytes(record.to_bytes())
        (folder / f"{record.chunk_id}.reason").write_text(f"{type(exc).__name__}: {exc}\n")
        with self._cond:
            self._rows_rejected += record.rows
        self._error(f"rejected {record.rows} {record.table} rows (kept in {folder})", exc)

    def _to_spool(self, chunk: _Chunk) -> bool:
        """Append to the spool; False when the disk failed (retry later)."""
        if self.max_spool_bytes is not None and self._spool.bytes >= self.max_spool_bytes:
            with self._cond:
                self._rows_dropped += chunk.rows
            self.log.error("store spool full (%d bytes): dropped %d rows", self._spool.bytes, chunk.rows)
            self._mark_done(chunk.last_seq)
            return True
        try:
            self._spool.append(chunk.record)
        except OSError as exc:
            self._error("spool", exc)
            return False
        with self._cond:
            self._rows_spooled += chunk.rows
            self._spooled_seq[chunk.chunk_id] = chunk.last_seq
        return True

    def _replay_one(self) -> bool:
        """Commit the oldest spooled chunk; False when the database went away."""
        record = self._spool.peek()
        if record is None:
            return True
        outcome = self._deliver(record)
        if outcome == "away":
            return False
        self._spool.commit()
        with self._cond:
            seq = self._spooled_seq.pop(record.chunk_id, 0)
        self._mark_done(seq, record.rows if outcome == "ok" else 0)
        return True

    def _maintain(self) -> None:
        """Run maintenance; its failures are logged and counted, never in the way of writing."""
        try:
            assert self._conn is not None
            maintain(self._conn, time.time(), self.retention)
        except Exception as exc:
            self._error("maintenance", exc)
            if self._conn is not None and (self._conn.broken or self._conn.closed):
                self._disconnect()

    def _run(self) -> None:
        state = _Loop(backoff=self.backoff_initial_s)
        while not self._step(state):
            pass
        self._disconnect()
        with self._cond:
            self._cond.notify_all()
        self._wake_async()

    def _step(self, st: _Loop) -> bool:
        """One turn of the worker; True when it is time to stop."""
        try:
            return self._turn(st)
        except Exception as exc:  # never let the worker die with rows in hand
            self._error("worker", exc)
            self.log.exception("store writer worker error")
            time.sleep(min(st.backoff, self.backoff_max_s))
            return False

    def _turn(self, st: _Loop) -> bool:
        now = time.monotonic()
        with self._cond:
            closing, past_deadline = self._closing, now >= self._close_deadline
            queued = bool(self._queue)
        spooled = len(self._spool) > 0
        if closing and not queued and st.pending is None and (not spooled or self._conn is None or past_deadline):
            return True
        if self._conn is None and now >= st.next_connect and not (closing and past_deadline):
            if self._connect():
                st.backoff = self.backoff_initial_s
            else:
                st.next_connect = now + st.backoff * random.uniform(0.8, 1.2)
                st.backoff = min(st.backoff * 2, self.backoff_max_s)
        connected = self._conn is not None
        if connected and self.maintenance_interval_s is not None and now >= st.next_maintenance and not closing:
            st.next_maintenance = now + self.maintenance_interval_s
            self._maintain()
            connected = self._conn is not None
        give_up = closing and (not connected or past_deadline)
        divert = self.overflow == "spool" and self._above_high_water()
        # While replaying, new batches wait in the queue (order) unless it is filling up.
        if st.pending is None and (give_up or not connected or not spooled or divert):
            st.pending = self._take(0.0 if give_up or spooled else 0.05)
        if st.pending is not None:
            if connected and not spooled and not give_up and not divert:
                outcome = self._deliver(st.pending)
                if outcome != "away":
                    self._mark_done(st.pending.last_seq, st.pending.rows if outcome == "ok" else 0)
                    st.pending = None
                    return False
                st.next_connect = time.monotonic() + st.backoff
            if not self._to_spool(st.pending):
                time.sleep(min(st.backoff, self.backoff_max_s))
                return False
            st.pending = None
            spooled = True
        if self._conn is not None and spooled and not past_deadline:
            if not self._replay_one():
                st.next_connect = time.monotonic() + st.backoff
        elif self._conn is None and not give_up:
            with self._cond:
                if not self._queue:
                    self._cond.wait(max(0.0, min(st.next_connect - time.monotonic(), 0.5)))
        return False


@dataclass
class _Loop:
    """The worker's own state between turns."""

    backoff: float
    next_connect: float = 0.0
    next_maintenance: float = 0.0
    pending: _Chunk | None = None  # taken from the queue, neither committed nor spooled yet
