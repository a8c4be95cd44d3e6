"""Tokens, passwords and the settings that refuse unsafe defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from cloud.auth import Role, TokenError, TokenIssuer, UserRegistry, check_password, hash_password
from cloud.settings import DEV_SECRET, MqttUrl, Settings


def test_token_round_trip_carries_role_and_vehicle() -> None:
    issuer = TokenIssuer("k" * 32)
    p = issuer.verify(issuer.issue("bus-7", Role.OBU, vehicle_id="bus-7"))
    assert (p.subject, p.role, p.vehicle_id) == ("bus-7", Role.OBU, "bus-7")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.split(".")[0] + ".e30." + t.split(".")[2],
        lambda t: "not-a-token",
        lambda t: TokenIssuer("another secret of enough length!!").issue("x", Role.OPERATOR),
    ],
    ids=["bad-signature", "swapped-claims", "garbage", "other-secret"],
)
def test_tampered_tokens_are_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    issuer = TokenIssuer("k" * 32)
    with pytest.raises(TokenError):
        issuer.verify(mangle(issuer.issue("op", Role.OPERATOR)))


def test_expired_token_is_refused() -> None:
    now = [1000.0]
    issuer = TokenIssuer("k" * 32, ttl_s=10, clock=lambda: now[0])
    tok = issuer.issue("op", Role.VIEWER)
    now[0] = 1011.0
    with pytest.raises(TokenError, match="expired"):
        issuer.verify(tok)


def test_obu_token_needs_a_vehicle() -> None:
    with pytest.raises(ValueError, match="vehicle"):
        TokenIssuer("k" * 32).issue("obu", Role.OBU)


def test_passwords_and_users_file(tmp_path: Path) -> None:
    h = hash_password("s3cret", iterations=1000)
    assert check_password("s3cret", h) and not check_password("wrong", h)
    f = tmp_path / "users.json"
    f.write_text(json.dumps([{"username": "alice", "password_hash": h, "role": "operator"}]))
    reg = UserRegistry.from_file(f)
    assert reg.authenticate("alice", "s3cret") is not None
    assert reg.authenticate("alice", "nope") is None and reg.authenticate("bob", "s3cret") is None
    f.write_text(json.dumps([{"username": "bus", "password_hash": h, "role": "obu"}]))
    with pytest.raises(ValueError, match="vehicle_id"):
        UserRegistry.from_file(f)


def test_settings_refuse_dev_secret_outside_development(tmp_path: Path) -> None:
    users = tmp_path / "u.json"
    users.write_text("[]")
    with pytest.raises(ValidationError, match="XJ_TOKEN_SECRET"):
        Settings(environment="production", users_file=users)
    ok = Settings(environment="production", token_secret="x" * 40, pseudonym_key="y" * 40, users_file=users)
    assert ok.token_secret.get_secret_value() != DEV_SECRET
    assert Settings(environment="demo").relaxed


def test_mqtt_url() -> None:
    u = MqttUrl("mqtt://xj-platform:pw%40x@broker.local:1884")
    assert (u.host, u.port, u.username, u.password) == ("broker.local", 1884, "xj-platform", "pw@x")
    with pytest.raises(ValueError, match="scheme"):
        MqttUrl("http://x")
