"""Vehicle pseudonyms and owners' revocations.

Storage never holds a raw vehicle id: rows name a vehicle by ``vehicle_pseudonym``, a keyed
HMAC-SHA256 of its id (:class:`Pseudonymizer`; the key stays outside the database, so the
database alone cannot link a pseudonym back to a vehicle). :func:`delete_vehicle_history`
deletes a pseudonym's rows from every table that holds vehicle data and records the revocation,
so that rows arriving later (a spool replay) are swept by :func:`reapply_revocations`, which
maintenance runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from store.schema import PSEUDONYM, VEHICLE_TABLES


class Pseudonymizer:
    """Raw vehicle ids -> stable pseudonyms (``"p"`` + 32 hex digits of HMAC-SHA256).

    Parameters
    ----------
    key
        Secret key, at least 16 bytes; rotate it to unlink future pseudonyms from past ones.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key must be at least 16 bytes")
        self._key = key
        self._cache: dict[str, str] = {}

    def one(self, vehicle_id: str) -> str:
        """The pseudonym of one id ('' stays '')."""
        if not vehicle_id:
            return ""
        p = self._cache.get(vehicle_id)
        if p is None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            digest = hmac.new(self._key, vehicle_id.encode(), hashlib.sha256).hexdigest()
            p = self._cache[vehicle_id] = "p" + digest[:32]
        return p

    def __call__(self, ids: npt.NDArray[Any]) -> npt.NDArray[np.str_]:
        """Pseudonyms of ``ids``, shape (N,); one HMAC per distinct id."""
        uniq, inverse = np.unique(np.asarray(ids).astype(str), return_inverse=True)
        mapped = np.array([self.one(str(u)) for u in uniq], dtype="U33")
        return mapped[inverse.reshape(-1)] if len(uniq) else np.zeros(0, "U33")


def delete_vehicle_history(conn: psycopg.Connection[Any], pseudonym: str) -> dict[str, int]:
    """Delete every stored row of the vehicle ``pseudonym`` and record the revocation.

    Parameters
    ----------
    conn
        Connection to a migrated database (committed here, in one transaction).
    pseudonym
        The vehicle's pseudonym (not its raw id).

    Returns
    -------
    dict
        table -> rows deleted.
    """
    if not pseudonym:
        raise ValueError("a revocation needs the vehicle's pseudonym")
    counts: dict[str, int] = {}
    with conn.transaction():
        for name in VEHICLE_TABLES:
            cur = conn.execute(f'DELETE FROM "{name}" WHERE {PSEUDONYM} = %s', (pseudonym,))
            counts[name] = max(cur.rowcount, 0)
        conn.execute(
            "INSERT INTO vehicle_revocations (vehicle_pseudonym, rows_deleted) VALUES (%s, %s::jsonb)"
            " ON CONFLICT (vehicle_pseudonym) DO UPDATE SET revoked_at = now(),"
            " rows_deleted = EXCLUDED.rows_deleted",
            (pseudonym, json.dumps(counts)),
        )
    return counts


def reapply_revocations(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Delete rows of revoked pseudonyms that arrived after their revocation; table -> rows."""
    counts: dict[str, int] = {}
    with conn.transaction():
        for name in VEHICLE_TABLES:
            cur = conn.execute(
                f'DELETE FROM "{name}" WHERE {PSEUDONYM} IN (SELECT {PSEUDONYM} FROM vehicle_revocations)'
            )
            if cur.rowcount > 0:
                counts[name] = cur.rowcount
    return counts
