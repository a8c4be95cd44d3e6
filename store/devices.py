"""The device registry: RSUs, lamp posts, signal controllers, sensors and OBUs.

An OBU is registered under its vehicle pseudonym only (the table's check constraint insists).
Read it back with :func:`store.queries.devices`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

_FIELDS = ("device_id", "kind", "name", "region_id", "x", "y", "lat", "lon", "key_id", "vehicle_pseudonym")


def upsert_devices(conn: psycopg.Connection[Any], devices: Sequence[Mapping[str, Any]]) -> int:
    """Insert or update devices; returns how many.

    Parameters
    ----------
    conn
        Connection to a migrated database (committed here).
    devices
        Each a mapping with ``device_id`` and ``kind`` and optionally ``name``, ``region_id``,
        ``x``, ``y`` (m, local frame), ``lat``, ``lon`` (degrees), ``key_id``,
        ``vehicle_pseudonym`` (OBUs) and ``attributes`` (JSON-serialisable dict).
    """
    rows = [
        (
            *(d.get(f, "" if f in ("name", "region_id") else None) for f in _FIELDS),
            json.dumps(d.get("attributes", {})),
        )
        for d in devices
    ]
    cols = ", ".join((*_FIELDS, "attributes"))
    updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in (*_FIELDS[1:], "attributes"))
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO devices ({cols}) VALUES ({', '.join(['%s'] * (len(_FIELDS) + 1))})"
            f" ON CONFLICT (device_id) DO UPDATE SET {updates}, updated_at = now()",
            rows,
        )
    return len(rows)
