"""Device signing keys in the real database: register, rotate (replace), retire, list."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from store.keys import StoredKey, list_keys, register_key, retire_key
from trust import generate_key, public_bytes

pytestmark = pytest.mark.postgres
INF = float("inf")


def test_register_rotate_retire(conn: psycopg.Connection[Any]) -> None:
    a, b = public_bytes(generate_key("ed25519")), public_bytes(generate_key("p256"))
    assert register_key(conn, StoredKey("rsu/r1", "2026a", "ed25519", a, 100.0, INF, True)) is True
    assert register_key(conn, StoredKey("rsu/r1", "2026b", "p256", b, 200.0, INF, True)) is True
    assert register_key(conn, StoredKey("lamp/l1", "k", "ed25519", a, 0.0, INF, False)) is True
    assert register_key(conn, StoredKey("lamp/l1", "k", "ed25519", a, 0.0, 5000.0, False)) is False  # replaced
    assert retire_key(conn, "rsu/r1", "2026a", 300.0) is True
    assert retire_key(conn, "rsu/r1", "nope", 300.0) is False
    keys = list_keys(conn, "rsu/r1")
    assert [(k.key_id, k.valid_from, k.valid_to, k.public_key) for k in keys] == [
        ("2026a", 100.0, 300.0, a),
        ("2026b", 200.0, INF, b),
    ]
    assert retire_key(conn, "rsu/r1", "2026a", 900.0) and list_keys(conn, "rsu/r1")[0].valid_to == 300.0  # never later
    assert [k.device for k in list_keys(conn)] == ["lamp/l1", "rsu/r1", "rsu/r1"]
    assert list_keys(conn, "lamp/l1")[0].valid_to == 5000.0
    with pytest.raises(psycopg.errors.CheckViolation):
        register_key(conn, StoredKey("rsu/r2", "k", "rsa", a, 0.0, INF, True))
