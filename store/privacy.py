"""Vehicle pseudonyms and owners' revocations.

Storage never holds a raw vehicle id: rows name a vehicle by ``vehicle_pseudonym``, a keyed
pseudonym made by the platform's one pseudonymiser, :class:`trust.Pseudonymizer` (HMAC-SHA256
under a key that rotates every period; the master secret stays outside the database, so the
database alone cannot link a pseudonym back to a vehicle, nor two periods of one vehicle).
:class:`Pseudonymizer` here is its vectorised face for the writer.

:func:`revoke_vehicle` is an owner's revocation: every pseudonym the vehicle had within the
retention horizon is deleted from every table that names vehicles (the pseudonym vault
included), its OBU signing keys go, and only its keyed revocation tag is kept, so ingest drops
its future messages. :func:`delete_vehicle_history` does the deleting for given pseudonyms and
records their SHA-256 (not the pseudonyms), so that rows arriving later (a spool replay) are
swept by :func:`reapply_revocations`, which maintenance runs while the record is younger than
the writer's batch-log window.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from store.schema import PSEUDONYM, VEHICLE_TABLES
from trust.frames import obu_name
from trust.pseudonyms import DEFAULT_PERIOD_S
from trust.pseudonyms import Pseudonymizer as KeyedPseudonyms

#: SQL of the SHA-256 (hex) of a text expression, as ``vehicle_revocations`` keeps it.
_SHA = "encode(sha256(convert_to({}, 'UTF8')), 'hex')"


class Pseudonymizer:
    """Raw vehicle ids -> pseudonyms of the current rotation period, vectorised.

    Parameters
    ----------
    key
        The master secret (at least 16 bytes), or the platform's :class:`trust.Pseudonymizer`.
    period_s
        Rotation period, s (ignored when ``key`` is a :class:`trust.Pseudonymizer`).
    clock
        Time source, s since the epoch: rows are pseudonymised in the period they are written.
    """

    def __init__(
        self, key: bytes | KeyedPseudonyms, *, period_s: int = DEFAULT_PERIOD_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.keyed = key if isinstance(key, KeyedPseudonyms) else KeyedPseudonyms(key, period_s)
        self._clock = clock

    def one(self, vehicle_id: str, t: float | None = None) -> str:
        """The pseudonym of one id at ``t`` (s, default now); '' stays ''."""
        return self.keyed.pseudonym(vehicle_id, self._clock() if t is None else t) if vehicle_id else ""

    def __call__(self, ids: npt.NDArray[Any]) -> npt.NDArray[np.str_]:
        """Pseudonyms of ``ids``, shape (N,), now; one HMAC per distinct id."""
        uniq, inverse = np.unique(np.asarray(ids).astype(str), return_inverse=True)
        if not len(uniq):
            return np.zeros(0, "U40")
        names = uniq.tolist()
        mapped = self.keyed.pseudonyms(names, self._clock())
        out = np.array(["" if not v else p for v, p in zip(names, mapped, strict=True)], dtype="U40")
        return out[inverse.reshape(-1)]


def delete_vehicle_history(conn: psycopg.Connection[Any], pseudonym: str | Sequence[str]) -> dict[str, int]:
    """Delete every stored row of the vehicle's pseudonym(s) and record the revocation.

    Parameters
    ----------
    conn
        Connection to a migrated database (committed here, in one transaction, or part of the
        caller's transaction).
    pseudonym
        The vehicle's pseudonym, or all of them (not its raw id).

    Returns
    -------
    dict
        table -> rows deleted.
    """
    names = [pseudonym] if isinstance(pseudonym, str) else list(pseudonym)
    if not names or not all(names):
        raise ValueError("a revocation needs the vehicle's pseudonym(s)")
    counts: dict[str, int] = {}
    with conn.transaction():
        for name in VEHICLE_TABLES:
            cur = conn.execute(f'DELETE FROM "{name}" WHERE {PSEUDONYM} = ANY(%s)', (names,))
            counts[name] = max(cur.rowcount, 0)
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO vehicle_revocations (pseudonym_sha256, rows_deleted) VALUES ({_SHA.format('%s')}, %s)"
                " ON CONFLICT (pseudonym_sha256) DO UPDATE SET revoked_at = now(),"
                " rows_deleted = EXCLUDED.rows_deleted",
                [(n, json.dumps(counts)) for n in names],
            )
    return counts


def reapply_revocations(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Delete rows of revoked pseudonyms that arrived after their revocation; table -> rows.

    Only the distinct pseudonyms of each table are hashed (through its pseudonym index), not
    every row; nothing is scanned while no revocation record is pending.
    """
    counts: dict[str, int] = {}
    if conn.execute("SELECT EXISTS (SELECT 1 FROM vehicle_revocations)").fetchone() != (True,):
        return counts
    with conn.transaction():
        for name in VEHICLE_TABLES:
            cur = conn.execute(
                f'DELETE FROM "{name}" WHERE {PSEUDONYM} IN ('
                f' SELECT p FROM (SELECT DISTINCT {PSEUDONYM} AS p FROM "{name}" WHERE {PSEUDONYM} IS NOT NULL) d'
                f" WHERE {_SHA.format('p')} IN (SELECT pseudonym_sha256 FROM vehicle_revocations))"
            )
            if cur.rowcount > 0:
                counts[name] = cur.rowcount
    return counts


def expire_revocation_records(conn: psycopg.Connection[Any], now: float, keep: timedelta) -> int:
    """Forget sweep records older than ``keep`` (no late row is expected after that); how many."""
    cur = conn.execute(
        "DELETE FROM vehicle_revocations WHERE revoked_at < %s", (datetime.fromtimestamp(now, UTC) - keep,)
    )
    return max(cur.rowcount, 0)


@dataclass(frozen=True)
class Revocation:
    """What :func:`revoke_vehicle` did.

    Attributes
    ----------
    tag
        The vehicle's keyed revocation tag (what storage keeps of it).
    pseudonyms
        The pseudonyms searched for (one per rotation period of the horizon), in memory only.
    rows_deleted
        table -> rows deleted (``device_keys`` included).
    audit
        The audit row appended in the same transaction (None when none was asked for).
    """

    tag: str
    pseudonyms: list[str]
    rows_deleted: dict[str, int] = field(default_factory=dict)
    audit: dict[str, Any] | None = None


def revoke_vehicle(
    conn: psycopg.Connection[Any],
    pseudonymizer: KeyedPseudonyms,
    vehicle_id: str,
    *,
    now: float,
    horizon_s: float,
    audit: Mapping[str, Any] | None = None,
) -> Revocation:
    """An owner's withdrawal of consent: delete the vehicle's history everywhere, in one transaction.

    Parameters
    ----------
    conn
        Connection to a migrated database.
    pseudonymizer
        The platform's pseudonymiser (its master secret).
    vehicle_id
        The real id, as the owner knows it.
    now
        Seconds since the epoch.
    horizon_s
        How far back pseudonyms are searched: at least the longest retention of rows that name
        vehicles (older rows are gone anyway).
    audit
        An audit entry (:func:`store.auditlog.append` fields) appended in the same transaction,
        its details completed with the rows deleted; its ``target`` should be the tag, never the id.

    Returns
    -------
    Revocation
        The tag, the pseudonyms searched, the rows deleted per table.
    """
    if not vehicle_id:
        raise ValueError("a revocation needs the vehicle's id")
    from store.auditlog import append

    names = pseudonymizer.all_pseudonyms(vehicle_id, now - horizon_s, now)
    tag = pseudonymizer.revocation_tag(vehicle_id)
    with conn.transaction():
        counts = delete_vehicle_history(conn, names)
        cur = conn.execute("DELETE FROM device_keys WHERE device = %s", (obu_name(tag),))
        counts["device_keys"] = max(cur.rowcount, 0)
        conn.execute(
            "INSERT INTO revoked_vehicles (tag, rows_deleted) VALUES (%s, %s::jsonb)"
            " ON CONFLICT (tag) DO UPDATE SET revoked_at = now(), rows_deleted = EXCLUDED.rows_deleted",
            (tag, json.dumps(counts)),
        )
        row = None
        if audit is not None:
            details = {**(audit.get("details") or {}), "rows_deleted": counts, "pseudonyms_searched": len(names)}
            row = append(conn, {**audit, "details": details})
    return Revocation(tag, names, counts, row)


def revoked_tags(conn: psycopg.Connection[Any]) -> set[str]:
    """The revocation tags of every revoked vehicle."""
    return {str(r[0]) for r in conn.execute("SELECT tag FROM revoked_vehicles")}
