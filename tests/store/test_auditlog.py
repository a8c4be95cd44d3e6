"""The audit trail as a hash chain in the real database: appends from many writers keep one chain,
verification names the edited or deleted row, retention cuts a prefix that verification accepts."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from store.auditlog import AuditWriter, append, trim, verify
from store.retention import RetentionPolicy, enforce_retention
from trust.audit import GENESIS

pytestmark = pytest.mark.postgres


def _entry(i: int, **kw: Any) -> dict[str, Any]:
    return {
        "actor": f"op-{i % 3}",
        "role": "operator",
        "action": "override.hold",
        "target": "J1_1",
        "reason": f"incident {i}",
        "outcome": "accepted",
        "details": {"phase": i, "duration_s": 20.5, "nested": {"b": [1, 2.0, None], "a": "湘"}},
        **kw,
    }


def test_appends_chain_and_verify_round_trips(conn: psycopg.Connection[Any]) -> None:
    rows = [append(conn, _entry(i)) for i in range(5)]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == GENESIS and all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    result = verify(conn)
    assert result.ok and result.checked == 5 and result.head == rows[-1]["hash"] and not result.anchored
    assert "intact: 5 entries" in result.describe()


def test_concurrent_writers_keep_one_chain(db: str, conn: psycopg.Connection[Any]) -> None:
    def writer(k: int) -> None:
        with psycopg.connect(db, autocommit=True) as c:
            for i in range(15):
                append(c, _entry(100 * k + i))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert conn.execute("SELECT count(*), max(seq) FROM audit").fetchone() == (60, 60)
    assert verify(conn).ok


def test_editing_one_row_fails_verification_at_that_row(conn: psycopg.Connection[Any]) -> None:
    rows = [append(conn, _entry(i)) for i in range(6)]
    conn.execute("UPDATE audit SET reason = 'nothing happened' WHERE id = %s", (rows[3]["id"],))
    result = verify(conn)
    assert not result.ok and result.broken is not None
    assert result.broken.entry_id == rows[3]["id"] and result.broken.seq == 4 and "edited" in result.broken.reason
    assert f"BROKEN at entry id={rows[3]['id']} seq=4" in result.describe()


def test_deleting_one_row_fails_verification_where_it_was(conn: psycopg.Connection[Any]) -> None:
    rows = [append(conn, _entry(i)) for i in range(6)]
    conn.execute("DELETE FROM audit WHERE id = %s", (rows[2]["id"],))
    result = verify(conn)
    assert result.broken is not None and result.broken.entry_id == rows[3]["id"]
    assert "jumps from 2 to 4" in result.broken.reason
    # deleting the first rows is no retention either: nothing records the cut
    conn.execute("DELETE FROM audit WHERE seq <= 3")
    result = verify(conn)
    assert result.broken is not None and result.broken.seq == 4 and "no audit.retention entry" in result.broken.reason


def test_retention_cuts_a_prefix_that_verification_accepts(conn: psycopg.Connection[Any]) -> None:
    now = datetime.now(UTC)
    for i, age in enumerate((400, 390, 380, 10, 5)):
        append(conn, _entry(i, time=now - timedelta(days=age)))
    append(conn, _entry(9, time=now - timedelta(days=500)))  # out of order, after a kept one: stays
    removed = enforce_retention(conn, now.timestamp(), RetentionPolicy(audit=timedelta(days=365)))["audit"]
    assert removed == (0, 3)
    assert [r[0] for r in conn.execute("SELECT seq FROM audit ORDER BY id")] == [4, 5, 6, 7]
    result = verify(conn)
    assert result.ok and result.anchored and result.first_seq == 4 and result.cut_record is not None
    assert "anchored on its prev_hash" in result.describe()
    # the head is never cut, however old
    trim(conn, now + timedelta(days=1), keep_days=0)
    assert conn.execute("SELECT count(*) FROM audit WHERE action <> 'audit.retention'").fetchone() == (0,)
    assert verify(conn).ok
    # an edit after the cut is still found
    conn.execute("UPDATE audit SET outcome = 'x' WHERE seq = (SELECT max(seq) FROM audit)")
    assert not verify(conn).ok


def test_rows_from_before_the_chain_are_counted_not_checked(conn: psycopg.Connection[Any]) -> None:
    conn.execute("INSERT INTO audit (time, actor, action, outcome) VALUES (now(), 'old', 'x', 'ok')")
    append(conn, _entry(1))
    result = verify(conn)
    assert result.ok and result.unchained == 1 and result.checked == 1


def test_writer_appends_in_order_and_keeps_what_it_could_not_write(db: str, tmp_path: Path) -> None:
    pending = tmp_path / "audit-pending.jsonl"
    w = AuditWriter(db, pending_file=pending).start()
    futures = [w.submit(_entry(i)) for i in range(10)]
    assert [f.result(30)["seq"] for f in futures] == list(range(1, 11))
    w.close()
    away = AuditWriter("postgresql://postgres@127.0.0.1:1/nowhere", pending_file=pending).start()
    lost = away.submit(_entry(99, reason="written later"))
    away.close(timeout=0.5)
    assert lost.exception() is not None and pending.exists()
    again = AuditWriter(db, pending_file=pending).start()
    assert again.pending == 1 and not pending.exists()
    again.close()
    with psycopg.connect(db) as c:
        assert c.execute("SELECT seq, reason FROM audit ORDER BY seq DESC LIMIT 1").fetchone() == (11, "written later")
        assert verify(c).ok
