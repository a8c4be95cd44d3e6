"""``xj store``: migrate, maintain, status, revoke, and messages that say what to fix."""

from __future__ import annotations

import json

import pytest

from cloud.cli import main

pytestmark = pytest.mark.postgres


def test_migrate_maintain_status_revoke(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "--db", pg_url, "migrate"]) == 0
    assert "applied 0001, 0002" in capsys.readouterr().out
    assert main(["store", "--db", pg_url, "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["store", "--db", pg_url, "maintain", "--retain", "tracks=3"]) == 0
    assert main(["store", "--db", pg_url, "status", "--json"]) == 0
    out = capsys.readouterr().out
    status = json.loads(out[out.index("{") :])
    assert status["backend"] == "native" and status["tables"]["tracks"]["partitions"].startswith("4 days")
    assert main(["store", "--db", pg_url, "revoke", "p123"]) == 0
    assert "deleted 0 rows of p123" in capsys.readouterr().out


def test_user_mistakes_get_a_message(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "--db", pg_url, "status"]) == 2
    assert "not migrated; run `xj store migrate`" in capsys.readouterr().err
    assert main(["store", "--db", pg_url, "maintain", "--retain", "tracks"]) == 2
    assert "write KIND=DAYS" in capsys.readouterr().err
    assert main(["store", "--db", "postgresql://postgres@127.0.0.1:1/x", "migrate"]) == 2
    assert "cannot reach the database" in capsys.readouterr().err
