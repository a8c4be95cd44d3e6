"""Devices' public signing keys (``device_keys``): register, retire, list.

A device is named ``{kind}/{device_id}`` (an OBU: ``obu/{tag}``, its vehicle's keyed revocation
tag; see :mod:`trust.frames`). A rotation registers the new key and later retires the old one
(``valid_to``), so both verify during the overlap. Times are s since the Unix epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class StoredKey:
    """One row of ``device_keys``; ``valid_to`` is ``inf`` until the key is retired."""

    device: str
    key_id: str
    algorithm: str
    public_key: bytes
    valid_from: float
    valid_to: float
    require_signing: bool


def _ts(t: float) -> datetime | None:
    return None if t == float("inf") else datetime.fromtimestamp(t, UTC)


def register_key(conn: psycopg.Connection[Any], key: StoredKey) -> bool:
    """Insert or replace a device's key; True when it is new, False when it replaced one."""
    row = conn.execute(
        "INSERT INTO device_keys (device, key_id, algorithm, public_key, valid_from, valid_to, require_signing)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (device, key_id) DO UPDATE SET algorithm = EXCLUDED.algorithm,"
        " public_key = EXCLUDED.public_key, valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,"
        " require_signing = EXCLUDED.require_signing, created_at = now()"
        " RETURNING (xmax = 0)",
        (
            key.device,
            key.key_id,
            key.algorithm,
            key.public_key,
            _ts(key.valid_from),
            _ts(key.valid_to),
            key.require_signing,
        ),
    ).fetchone()
    return bool(row and row[0])


def retire_key(conn: psycopg.Connection[Any], device: str, key_id: str, at: float) -> bool:
    """End a key's validity at ``at`` (if it was valid longer); False when there is no such key."""
    cur = conn.execute(
        "UPDATE device_keys SET valid_to = least(coalesce(valid_to, %s), %s) WHERE device = %s AND key_id = %s",
        (_ts(at), _ts(at), device, key_id),
    )
    return cur.rowcount > 0


def list_keys(conn: psycopg.Connection[Any], device: str | None = None) -> list[StoredKey]:
    """Every registered key (of one device), by device and validity."""
    where, params = ("WHERE device = %s", (device,)) if device is not None else ("", ())
    rows = conn.execute(
        "SELECT device, key_id, algorithm, public_key, extract(epoch FROM valid_from)::float8,"
        f" coalesce(extract(epoch FROM valid_to)::float8, 'Infinity'), require_signing FROM device_keys {where}"
        " ORDER BY device, valid_from, key_id",
        params,
    ).fetchall()
    return [StoredKey(str(d), str(k), str(a), bytes(p), float(f), float(t), bool(r)) for d, k, a, p, f, t, r in rows]
