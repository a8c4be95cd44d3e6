"""Versioned migrations against the real server: order, idempotence, checksums, races."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from store.migrate import MIGRATIONS_DIR, MigrationError, apply_migrations, discover

pytestmark = pytest.mark.postgres


def _copy_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    return folder


def test_apply_is_idempotent_and_records_checksums(pg_url: str) -> None:
    versions = [m.version for m in discover()]
    assert apply_migrations(pg_url) == versions
    assert apply_migrations(pg_url) == []
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version, name, checksum, backend FROM schema_migrations ORDER BY 1").fetchall()
    assert [(v, n, c) for v, n, c, _ in rows] == [(m.version, m.name, m.checksum) for m in discover()]
    assert {b for *_, b in rows} == {"native"}  # plain PostgreSQL: no TimescaleDB here


def test_a_changed_applied_migration_is_refused(pg_url: str, tmp_path: Path) -> None:
    folder = _copy_migrations(tmp_path)
    apply_migrations(pg_url, directory=folder)
    path = folder / "0001_init.sql"
    path.write_text(path.read_text() + "\n-- an edit after the fact\n")
    with pytest.raises(MigrationError, match=r"0001_init\.sql changed after it was applied"):
        apply_migrations(pg_url, directory=folder)


NEXT = len(discover()) + 1


def test_a_new_migration_applies_after_the_others(pg_url: str, tmp_path: Path) -> None:
    apply_migrations(pg_url)
    folder = _copy_migrations(tmp_path)
    (folder / f"{NEXT:04d}_notes.sql").write_text("CREATE TABLE notes (id int PRIMARY KEY, body text);")
    assert apply_migrations(pg_url, directory=folder) == [NEXT]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('notes') IS NOT NULL").fetchone() == (True,)
    with pytest.raises(MigrationError, match="does not know"):
        apply_migrations(pg_url)  # the code of before that migration meets a database after it


def test_a_failing_migration_rolls_back_entirely(pg_url: str, tmp_path: Path) -> None:
    folder = _copy_migrations(tmp_path)
    (folder / f"{NEXT:04d}_broken.sql").write_text("CREATE TABLE half (id int);\nSELECT no_such_function();\n")
    with pytest.raises(psycopg.errors.UndefinedFunction):
        apply_migrations(pg_url, directory=folder)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (NEXT - 1,)
        assert conn.execute("SELECT to_regclass('half')").fetchone() == (None,)


def test_badly_named_or_gapped_files_are_refused(tmp_path: Path) -> None:
    folder = _copy_migrations(tmp_path)
    (folder / f"{NEXT + 1:04d}_gap.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=f"expected version {NEXT:04d}"):
        discover(folder)
    (folder / f"{NEXT + 1:04d}_gap.sql").rename(folder / "3-oops.sql")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        discover(folder)


def test_racing_processes_apply_each_migration_once(pg_url: str) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        try:
            results.append(apply_migrations(pg_url))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results, key=len) == [[], [], [], [m.version for m in discover()]]
