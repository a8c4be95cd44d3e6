"""An owner's revocation deletes a vehicle's history from every table, late arrivals included."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import pytest

from store.devices import upsert_devices
from store.privacy import delete_vehicle_history
from store.retention import maintain
from store.writer import StoreWriter
from tests.store.conftest import T0, tracks

pytestmark = pytest.mark.postgres

GONE, KEPT = "p00000000", "p00000007"


def _history(w: StoreWriter, start: int) -> None:
    n = 2
    w.write_blocking("tracks", tracks(n, start=start) | {"vehicle_pseudonym": np.array([GONE, KEPT])})
    w.write_blocking(
        "vehicle_reports",
        {
            "time": np.full(n, T0),
            "vehicle_pseudonym": np.array([GONE, KEPT]),
            "x": np.zeros(n),
            "y": np.zeros(n),
            "vx": np.zeros(n),
            "vy": np.zeros(n),
            "speed": np.zeros(n),
            "heading": np.zeros(n),
        },
    )
    w.write_blocking(
        "advisories",
        {
            "time": np.full(n, T0),
            "advisory_id": np.array([f"a{start}", f"b{start}"]),
            "vehicle_pseudonym": np.array([GONE, KEPT]),
            "kind": np.array(["speed", "route"]),
        },
    )
    w.write_blocking(
        "events",
        {
            "time": np.full(n, T0),
            "event_id": np.array(["e1", "e2"]),
            "kind": np.array([1, 3]),
            "x": np.zeros(n),
            "y": np.zeros(n),
            "vehicle_pseudonym": np.array([GONE, ""]),
        },
    )


def _count(conn: psycopg.Connection[Any], pseudonym: str) -> int:
    q = " + ".join(
        f"(SELECT count(*) FROM {t} WHERE vehicle_pseudonym = %(p)s)"
        for t in ("tracks", "vehicle_reports", "advisories", "events", "devices")
    )
    row = conn.execute(f"SELECT {q}", {"p": pseudonym}).fetchone()
    return int(row[0]) if row else -1


def test_revocation_deletes_everywhere_and_sweeps_late_rows(
    db: str, conn: psycopg.Connection[Any], spool_dir: Any
) -> None:
    upsert_devices(
        conn,
        [
            {"device_id": GONE, "kind": "obu", "vehicle_pseudonym": GONE},
            {"device_id": "rsu-1", "kind": "rsu", "x": 1.0, "y": 2.0},
        ],
    )
    with StoreWriter(db, spool_dir=spool_dir, maintenance_interval_s=None) as w:
        _history(w, 0)
        assert w.flush_blocking(30)
        assert _count(conn, GONE) == 5 and _count(conn, KEPT) == 3
        counts = delete_vehicle_history(conn, GONE)
        assert counts == {
            "tracks": 1,
            "vehicle_reports": 1,
            "advisories": 1,
            "events": 1,
            "pseudonym_vault": 0,
            "devices": 1,
        }
        assert _count(conn, GONE) == 0 and _count(conn, KEPT) == 3
        _history(w, 100)  # rows of the revoked vehicle still arriving (e.g. a spool replay)
        assert w.flush_blocking(30)
    assert _count(conn, GONE) == 4
    maintain(conn, T0, None)
    assert _count(conn, GONE) == 0 and _count(conn, KEPT) == 6
    assert conn.execute("SELECT count(*) FROM vehicle_revocations").fetchone() == (1,)


def test_an_obu_is_registered_only_under_its_pseudonym(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        upsert_devices(conn, [{"device_id": "plate-湘A12345", "kind": "obu", "vehicle_pseudonym": GONE}])
