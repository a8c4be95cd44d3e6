"""``xj trust revoke``, ``xj trust keygen`` and ``xj audit verify`` against the real database."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization

from cloud.cli import main
from store import StoreWriter
from store.auditlog import append
from trust import Pseudonymizer, parse_public

pytestmark = pytest.mark.postgres
SECRET = "cli-test-secret-" + "x" * 32


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XJ_PSEUDONYM_SECRET", SECRET)
    for name in ("XJ_CONFIG", "XJ_DB", "XJ_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


def test_revoke_then_verify_then_tamper(db: str, env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keyed = Pseudonymizer(SECRET.encode(), 86_400)
    now = time.time()
    mine = keyed.pseudonym("湘A12345", now)
    with StoreWriter(db, spool_dir=tmp_path, maintenance_interval_s=None) as w:
        w.write_blocking(
            "vehicle_reports",
            {
                "time": np.full(3, now),
                "vehicle_pseudonym": np.array([mine, mine, keyed.pseudonym("other", now)]),
                **{k: np.zeros(3) for k in ("x", "y", "vx", "vy", "speed", "heading")},
            },
        )
        assert w.flush_blocking(30)
    with psycopg.connect(db, autocommit=True) as conn:
        for i in range(3):
            append(
                conn, {"actor": "op", "role": "operator", "action": "override.hold", "reason": f"r{i}", "outcome": "ok"}
            )

    assert main(["trust", "revoke", "湘A12345", "--db", db, "--reason", "owner's request 42", "--by", "clerk"]) == 0
    out = capsys.readouterr().out
    assert f"tag {keyed.revocation_tag('湘A12345')}" in out and "vehicle_reports 2" in out and "audit seq 4" in out
    with psycopg.connect(db, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM vehicle_reports").fetchone() == (1,)
        row = conn.execute("SELECT actor, role, action, target, reason FROM audit WHERE seq = 4").fetchone()
        assert row == ("clerk", "cli", "privacy.revoke", keyed.revocation_tag("湘A12345"), "owner's request 42")

    assert main(["audit", "verify", "--db", db]) == 0
    assert "audit chain intact: 4 entries" in capsys.readouterr().out
    with psycopg.connect(db, autocommit=True) as conn:
        edited = conn.execute("UPDATE audit SET reason = 'nothing to see' WHERE seq = 2 RETURNING id").fetchone()
    assert edited is not None
    assert main(["audit", "--db", db, "verify"]) == 1
    err = capsys.readouterr().err
    assert f"BROKEN at entry id={edited[0]} seq=2" in err and "edited" in err


def test_keygen_writes_a_private_key_and_prints_the_public_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rsu-1.pem"
    assert main(["trust", "keygen", "--algorithm", "p256", "--out", str(out)]) == 0
    pem = capsys.readouterr().out
    private = serialization.load_pem_private_key(out.read_bytes(), None)
    assert parse_public(pem) == private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert main(["trust", "keygen", "--out", str(out)]) == 2
    assert "the file exists" in capsys.readouterr().err


def test_user_mistakes_get_a_message(
    db: str, env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["audit", "verify"]) == 2
    assert "no database" in capsys.readouterr().err
    assert main(["trust", "revoke", "v1", "--db", db, "--reason", "x"]) == 2
    assert "--reason: say why" in capsys.readouterr().err
    monkeypatch.setenv("XJ_ENVIRONMENT", "production")  # refuses the built-in secrets and demo users
    assert main(["trust", "revoke", "v1", "--db", db, "--reason", "owner asked"]) == 2
    assert "platform settings" in capsys.readouterr().err
    assert main(["audit", "verify", "--db", "postgresql://postgres@127.0.0.1:1/x"]) == 2
    assert "cannot reach the database" in capsys.readouterr().err
