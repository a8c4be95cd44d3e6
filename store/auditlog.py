"""The audit trail as a hash chain in the ``audit`` table (:mod:`trust.audit`'s canonical form).

Every entry goes through :func:`append`: under a transaction-scoped advisory lock it reads the
chain's head, gives the entry the next ``seq`` and ``hash = SHA-256(hex(prev_hash) ||
canonical JSON)``, and inserts it; concurrent writers (several processes, the CLI) so keep one
chain. The time and details are hashed as the server stores them (read back through the server
before hashing), so a later read hashes the same bytes. Hashes are stored as 32 raw bytes
(``bytea``) and chained over their lower-case hex text.

:func:`verify` walks the table in ``id`` order and names the first entry that does not fit.
Retention (:func:`trim`) removes the oldest entries as a prefix, keeps the head, and appends an
``audit.retention`` entry naming the last removed ``seq`` and its hash: verification then
starts from the first kept entry, anchored on its ``prev_hash``, and accepts the cut only if
such a record explains it.

:class:`AuditWriter` is the platform's appender: a thread that appends queued entries in order,
retries while the database is away, and keeps what it could not write in a file that the next
start replays.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import psycopg
from psycopg.types.json import Jsonb

from trust.audit import GENESIS, ChainBreak, entry_hash, verify_chain

#: Advisory lock serialising appends to the chain (per database).
AUDIT_LOCK = 0x586A_4155_4454  # "XjAUDT"
#: The action of the entry retention appends when it removes old entries.
RETENTION_ACTION = "audit.retention"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COLUMNS = "id, seq, time, actor, role, action, target, reason, outcome, details, prev_hash, hash"
_log = logging.getLogger(__name__)


def micros(t: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact)."""
    return (t - _EPOCH) // timedelta(microseconds=1)


def _when(value: Any) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, datetime):
        return value
    return _EPOCH + timedelta(microseconds=round(float(value) * 1e6))


def chain_entry(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row (column names) as :mod:`trust.audit`'s entry: the hashed fields and hashes."""
    prev, h = row.get("prev_hash"), row.get("hash")
    return {
        "id": row.get("id"),
        "seq": row["seq"],
        "when": micros(row["time"]),
        "who": row["actor"],
        "role": row["role"],
        "what": row["action"],
        "target": row["target"],
        "why": row["reason"],
        "outcome": row["outcome"],
        "details": row["details"],
        "prev_hash": bytes(prev).hex() if prev is not None else None,
        "hash": bytes(h).hex() if h is not None else None,
    }


def append(conn: psycopg.Connection[Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """Append one entry to the chain; returns the stored row (times as float s, hashes as hex).

    Parameters
    ----------
    conn
        Connection to a migrated database. The append is one transaction (or a savepoint of the
        caller's, whose commit then publishes it: the lock is held until then).
    entry
        ``actor`` (who), ``action`` (what), ``outcome``; optionally ``role``, ``target``,
        ``reason`` (why), ``details`` (a JSON value), ``time`` (s since the epoch or an aware
        datetime; default now).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
        head = conn.execute("SELECT seq, hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").fetchone()
        seq = int(head[0]) + 1 if head is not None else 1
        prev = bytes(head[1]).hex() if head is not None and head[1] is not None else GENESIS
        details = entry.get("details")
        norm = conn.execute(
            "SELECT %s::timestamptz, %s::jsonb", (_when(entry.get("time")), None if details is None else Jsonb(details))
        ).fetchone()
        assert norm is not None
        row: dict[str, Any] = {
            "seq": seq,
            "time": norm[0],
            "actor": str(entry["actor"]),
            "role": entry.get("role") or None,
            "action": str(entry["action"]),
            "target": entry.get("target") or None,
            "reason": entry.get("reason") or None,
            "outcome": str(entry["outcome"]),
            "details": norm[1],
        }
        h = entry_hash(prev, chain_entry({**row, "prev_hash": None, "hash": None}))
        got = conn.execute(
            "INSERT INTO audit (seq, time, actor, role, action, target, reason, outcome, details, prev_hash, hash)"
            " VALUES (%(seq)s, %(time)s, %(actor)s, %(role)s, %(action)s, %(target)s, %(reason)s, %(outcome)s,"
            " %(details)s, %(prev)s, %(hash)s) RETURNING id",
            {
                **row,
                "details": None if row["details"] is None else Jsonb(row["details"]),
                "prev": bytes.fromhex(prev),
                "hash": bytes.fromhex(h),
            },
        ).fetchone()
    assert got is not None
    return {
        **row,
        "id": int(got[0]),
        "time": micros(row["time"]) / 1e6,
        "prev_hash": prev,
        "hash": h,
    }


@dataclass
class Verification:
    """What :func:`verify` found.

    Attributes
    ----------
    checked
        Chained entries checked.
    unchained
        Entries before the chain began (written before migration 0003), not checked.
    first_seq, last_seq
        The chain's first and last ``seq`` checked (None when empty).
    head
        Hash of the last entry (hex): record it elsewhere to detect a rewrite of the tail.
    anchored
        The first kept entry is not the chain's first: checking started from its ``prev_hash``.
    cut_record
        ``id`` of the retention entry that explains the cut (None when there is no cut).
    broken
        The first entry that does not fit (None when the chain is intact).
    """

    checked: int = 0
    unchained: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head: str = GENESIS
    anchored: bool = False
    cut_record: int | None = None
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        """Whether the chain is intact."""
        return self.broken is None

    def describe(self) -> str:
        """One paragraph for people: intact or where it broke and why, and where checking began."""
        lines = []
        if self.anchored and self.first_seq is not None:
            how = (
                f"explained by the retention entry id={self.cut_record}"
                if self.cut_record is not None
                else "no retention entry explains the cut"
            )
            lines.append(
                f"checked from the first kept entry, seq {self.first_seq}, anchored on its prev_hash"
                f" (entries 1..{self.first_seq - 1} were removed; {how})"
            )
        if self.unchained:
            lines.append(f"{self.unchained} entries from before the chain began were not checked")
        if self.broken is not None:
            b = self.broken
            lines.insert(0, f"audit chain BROKEN at entry id={b.entry_id} seq={b.seq}: {b.reason}")
        elif self.checked:
            lines.insert(
                0,
                f"audit chain intact: {self.checked} entries, seq {self.first_seq}..{self.last_seq}, head {self.head}",
            )
        else:
            lines.insert(0, "audit chain empty: nothing to check")
        return "\n".join(lines)


def _rows(conn: psycopg.Connection[Any]) -> Iterator[dict[str, Any]]:
    with conn.transaction(), conn.cursor(name="xj_audit_verify", row_factory=psycopg.rows.dict_row) as cur:
        cur.itersize = 5000
        cur.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY id")
        yield from cur


def verify(conn: psycopg.Connection[Any]) -> Verification:
    """Walk the stored chain in order; the result names the first broken entry, if any."""
    out = Verification()
    cuts: dict[tuple[int, str], int] = {}  # (removed_through_seq, anchor) -> id of the retention entry
    first: dict[str, Any] = {}

    def entries() -> Iterator[dict[str, Any]]:
        for row in _rows(conn):
            if not first and row["seq"] is None and row["hash"] is None:
                out.unchained += 1
                continue
            e = chain_entry(row)
            if not first:
                first.update(e)
            if e["what"] == RETENTION_ACTION and isinstance(e["details"], dict):
                d = e["details"]
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    cuts[(int(d["removed_through_seq"]), str(d["anchor"]))] = int(e["id"])
            out.checked += 1
            out.last_seq = e["seq"]
            out.head = str(e["hash"])
            yield e

    broken = verify_chain(entries(), anchor=None)
    if not first:
        return out
    seq0 = first["seq"]
    out.first_seq = seq0 if isinstance(seq0, int) else None
    if out.first_seq == 1 and first["prev_hash"] != GENESIS:
        broken = ChainBreak(0, 1, "the first entry does not follow the genesis hash", first["id"])
    elif out.first_seq is not None and out.first_seq > 1:
        out.anchored = True
        out.cut_record = cuts.get((out.first_seq - 1, str(first["prev_hash"])))
        if out.cut_record is None and broken is None:
            why = (
                f"the log starts at seq {out.first_seq}: entries before it were deleted and no"
                f" {RETENTION_ACTION} entry records that cut"
            )
            broken = ChainBreak(0, out.first_seq, why, first["id"])
    out.broken = broken
    return out


def trim(conn: psycopg.Connection[Any], cutoff: datetime, *, keep_days: float) -> int:
    """Remove entries older than ``cutoff`` as a prefix of the chain; returns rows removed.

    The chain's head is always kept. Chained entries go from the oldest up to (not including)
    the first one at or after ``cutoff``, so a slightly out-of-order time never punches a hole;
    an ``audit.retention`` entry then records the last ``seq`` removed and its hash.
    Entries from before the chain began are deleted by time.
    """
    removed = conn.execute("DELETE FROM audit WHERE seq IS NULL AND time < %s", (cutoff,)).rowcount
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
        rows = conn.execute(
            "DELETE FROM audit WHERE seq < coalesce("
            " (SELECT min(seq) FROM audit WHERE seq IS NOT NULL AND time >= %s),"
            " (SELECT max(seq) FROM audit)) RETURNING seq, hash",
            (cutoff,),
        ).fetchall()
    if rows:
        last_seq, last_hash = max(rows, key=lambda r: int(r[0]))
        append(
            conn,
            {
                "actor": "xj-store",
                "role": "system",
                "action": RETENTION_ACTION,
                "target": "audit",
                "reason": f"retention: entries older than {keep_days:g} days",
                "outcome": "removed",
                "details": {
                    "removed_through_seq": int(last_seq),
                    "anchor": bytes(last_hash).hex() if last_hash is not None else GENESIS,
                    "rows": len(rows),
                },
            },
        )
    return max(removed, 0) + len(rows)


class AuditNotWritten(RuntimeError):
    """The writer stopped before it could append the entry (it was kept for the next start)."""


class AuditWriter:
    """Appends audit entries to the chain from a thread, in the order they were submitted.

    Parameters
    ----------
    conninfo
        libpq URL of a migrated database.
    pending_file
        Where entries not yet written when the writer stops are kept (JSON lines); the next
        writer on the same file appends them first. None: they are only logged.
    max_queue
        Entries waiting beyond this are refused (the future fails at once).
    backoff_max_s
        Reconnect back-off ceiling, s.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        pending_file: Path | None = None,
        max_queue: int = 100_000,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.conninfo = conninfo
        self.pending_file = pending_file
        self.max_queue = max_queue
        self.backoff_max_s = backoff_max_s
        self._cond = threading.Condition()
        self._queue: deque[tuple[dict[str, Any], concurrent.futures.Future[dict[str, Any]]]] = deque()
        self._closing = False
        self._deadline = float("inf")
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self.written = 0
        self.errors = 0
        self.last_error = ""
        if pending_file is not None and pending_file.exists():
            for line in pending_file.read_text().splitlines():
                with contextlib.suppress(ValueError):
                    self._queue.append((json.loads(line), concurrent.futures.Future()))
            pending_file.unlink()

    @property
    def pending(self) -> int:
        """Entries waiting to be appended."""
        with self._cond:
            return len(self._queue)

    @property
    def connected(self) -> bool:
        """Whether the thread holds a live connection."""
        return self._conn is not None

    def start(self) -> Self:
        """Start the thread (idempotent)."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="xj-audit-writer", daemon=True)
                self._thread.start()
        return self

    def submit(self, entry: Mapping[str, Any]) -> concurrent.futures.Future[dict[str, Any]]:
        """Queue one entry (see :func:`append`); the future gives the stored row."""
        fut: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        with self._cond:
            if self._closing or len(self._queue) >= self.max_queue:
                fut.set_exception(AuditNotWritten("the audit writer is closed or its queue is full"))
                return fut
            self._queue.append((dict(entry), fut))
            self._cond.notify_all()
        return fut

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (for up to ``timeout`` s), keep the rest in ``pending_file``, stop."""
        with self._cond:
            self._closing = True
            self._deadline = time.monotonic() + timeout
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        self._keep_rest()

    def _keep_rest(self) -> None:
        with self._cond:
            rest, self._queue = list(self._queue), deque()
        if not rest:
            return
        if self.pending_file is not None:
            self.pending_file.parent.mkdir(parents=True, exist_ok=True)
            with self.pending_file.open("a") as f:
                for entry, _ in rest:
                    f.write(json.dumps(entry, default=str) + "\n")
            _log.warning("audit: %d entries not written yet; kept in %s", len(rest), self.pending_file)
        else:
            _log.error("audit: %d entries could not be written and are lost", len(rest))
        for _, fut in rest:
            if not fut.done():
                fut.set_exception(AuditNotWritten("the audit writer stopped before writing this entry"))

    def _run(self) -> None:
        backoff = 0.1
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue or (self._closing and time.monotonic() > self._deadline):
                    break
                entry, fut = self._queue[0]
            if self._conn is None:
                try:
                    self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                except psycopg.Error as exc:
                    self._failed(exc)
                    self._sleep(backoff)
                    backoff = min(backoff * 2, self.backoff_max_s)
                    continue
            try:
                row = append(self._conn, entry)
            except (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError) as exc:
                self._failed(exc)
                with self._cond:
                    self._queue.popleft()
                fut.set_exception(exc)
                continue
            except psycopg.Error as exc:
                self._failed(exc)
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
                self._sleep(backoff)
                backoff = min(backoff * 2, self.backoff_max_s)
                continue
            backoff = 0.1
            with self._cond:
                self._queue.popleft()
                self.written += 1
            fut.set_result(row)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}".strip()
        _log.warning("audit writer: %s", self.last_error)

    def _sleep(self, s: float) -> None:
        with self._cond:
            if not (self._closing and time.monotonic() > self._deadline):
                self._cond.wait(min(s, max(0.0, self._deadline - time.monotonic())))
