"""Bearer tokens and API users: HMAC-SHA256 signed tokens (JWT layout), roles, a user registry.

A token is ``base64url(header).base64url(claims).base64url(HMAC-SHA256(secret, header.claims))``
with the claims ``sub`` (user name), ``role``, ``vid`` (the one vehicle an ``obu`` token may
see), ``iat`` and ``exp`` (s since the epoch). Any JWT library with HS256 reads them.

Users come from a JSON file (``XJ_USERS_FILE``)::

    [{"username": "alice", "password_hash": "pbkdf2_sha256$...", "role": "operator"},
     {"username": "bus-17", "password_hash": "...", "role": "obu", "vehicle_id": "bus-17"}]

:func:`hash_password` makes the hashes. In development and demo, :meth:`UserRegistry.demo`
creates one user per role with a password given at start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class Role(StrEnum):
    """What an API user is allowed to do (see the README's table)."""

    OPERATOR = "operator"
    VIEWER = "viewer"
    PARKING = "parking"
    OBU = "obu"
    ENGINEER = "engineer"


class TokenError(ValueError):
    """A token that is malformed, wrongly signed or expired; the text says which."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request.

    Attributes
    ----------
    subject
        User or device name.
    role
        Its role.
    vehicle_id
        For ``obu``: the only vehicle it may see; else None.
    expires
        Token expiry, s since the epoch.
    """

    subject: str
    role: Role
    vehicle_id: str | None = None
    expires: float = 0.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HEADER = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())


class TokenIssuer:
    """Issues and verifies bearer tokens.

    Parameters
    ----------
    secret
        HMAC key.
    ttl_s
        Default lifetime of issued tokens, s.
    clock
        Time source, s since the epoch.
    """

    def __init__(self, secret: str, *, ttl_s: float = 8 * 3600, clock: Any = time.time) -> None:
        self._key = secret.encode()
        self.ttl_s = ttl_s
        self._clock = clock

    def issue(self, subject: str, role: Role, *, vehicle_id: str | None = None, ttl_s: float | None = None) -> str:
        """A signed token for ``subject`` in ``role`` (``obu`` needs its ``vehicle_id``)."""
        if role is Role.OBU and not vehicle_id:
            raise ValueError("an obu token is bound to one vehicle: give vehicle_id")
        now = self._clock()
        claims: dict[str, Any] = {"sub": subject, "role": role.value, "iat": int(now)}
        claims["exp"] = int(now + (self.ttl_s if ttl_s is None else ttl_s))
        if vehicle_id:
            claims["vid"] = vehicle_id
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing = f"{_HEADER}.{body}".encode()
        return f"{_HEADER}.{body}.{_b64(hmac.new(self._key, signing, hashlib.sha256).digest())}"

    def verify(self, token: str) -> Principal:
        """The principal of a valid token.

        Raises
        ------
        TokenError
            Malformed, bad signature, unknown role or expired.
        """
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("token is not three base64url parts")
        header, body, sig = parts
        want = hmac.new(self._key, f"{header}.{body}".encode(), hashlib.sha256).digest()
        try:
            given = _unb64(sig)
            claims = json.loads(_unb64(body))
            head = json.loads(_unb64(header))
        except (ValueError, json.JSONDecodeError) as exc:
            raise TokenError(f"token does not decode: {exc}") from None
        if not hmac.compare_digest(want, given) or head.get("alg") != "HS256":
            raise TokenError("bad token signature")
        try:
            role = Role(claims["role"])
            exp = float(claims["exp"])
            sub = str(claims["sub"])
        except (KeyError, ValueError, TypeError):
            raise TokenError("token lacks sub, role or exp") from None
        if exp < self._clock():
            raise TokenError("token expired")
        vid = claims.get("vid")
        if role is Role.OBU and not vid:
            raise TokenError("obu token without a vehicle id")
        return Principal(sub, role, str(vid) if vid else None, exp)


# -- passwords -------------------------------------------------------------------------------
_ITER = 120_000


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = _ITER) -> str:
    """``pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>`` of ``password``."""
    salt = secrets.token_bytes(16) if salt is None else salt
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${_b64(salt)}${_b64(dk)}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant time)."""
    try:
        algo, it, salt, dk = stored.split("$")
        if algo != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(it))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(dk))


@dataclass(frozen=True)
class User:
    """One API user or device of the registry."""

    username: str
    password_hash: str
    role: Role
    vehicle_id: str | None = None


class UserRegistry:
    """API users by name.

    Parameters
    ----------
    users
        The users.
    """

    def __init__(self, users: list[User]) -> None:
        self._users = {u.username: u for u in users}

    @classmethod
    def from_file(cls, path: Path) -> UserRegistry:
        """Read the JSON user list; ValueError says which entry is wrong."""
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"users file {path}: {exc}") from None
        if not isinstance(raw, list):
            raise ValueError(f"users file {path}: expected a JSON list of users")
        users = []
        for i, entry in enumerate(raw):
            try:
                role = Role(entry["role"])
                users.append(User(str(entry["username"]), str(entry["password_hash"]), role, entry.get("vehicle_id")))
            except (KeyError, ValueError, TypeError) as exc:
                raise ValueError(
                    f"users file {path}: entry {i}: {exc!r} (needs username, password_hash, role)"
                ) from None
            if role is Role.OBU and not entry.get("vehicle_id"):
                raise ValueError(f"users file {path}: entry {i}: an obu user needs vehicle_id")
        return cls(users)

    @classmethod
    def demo(cls, password: str) -> UserRegistry:
        """One user per role named after it (``operator``, ``viewer``, ...), all with ``password``.

        The ``obu`` user is bound to vehicle ``demo-obu``.
        """
        h = hash_password(password, iterations=10_000)
        return cls([User(r.value, h, r, "demo-obu" if r is Role.OBU else None) for r in Role])

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None."""
        user = self._users.get(username)
        if user is None:
            check_password(password, hash_password("x", iterations=1000))  # similar timing either way
            return None
        return user if check_password(password, user.password_hash) else None

    def __len__(self) -> int:
        return len(self._users)
