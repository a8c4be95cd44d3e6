"""An owner's revocation: history written through the real writer across every table and several
rotation periods, then revoked; no row anywhere (partitions included) names the vehicle's id or
any of its pseudonyms, its future rows are swept, and the revocation is audited."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from store import Pseudonymizer as StorePseudonymizer
from store import StoreWriter, upsert_devices
from store.auditlog import append, verify
from store.keys import StoredKey, register_key
from store.partitions import ensure_partitions
from store.privacy import revoke_vehicle, revoked_tags
from store.retention import RetentionPolicy, maintain
from tests.trust.helpers import mentions
from trust import LiveIdentities, Pseudonymizer, generate_key, public_bytes

pytestmark = pytest.mark.postgres
DAY = 86_400.0
GONE, KEPT = "湘A12345", "湘B00001"


def _rows(n: int, t: float, pseudonyms: list[str]) -> dict[str, Any]:
    return {
        "time": np.full(n, t) + np.arange(n) * 0.1,
        "vehicle_pseudonym": np.array(pseudonyms * (n // len(pseudonyms)), dtype=object),
        **{k: np.ones(n) for k in ("x", "y", "vx", "vy", "speed", "heading")},
    }


def _history(w: StoreWriter, ids: LiveIdentities, t: float) -> list[str]:
    """One period's worth of rows of both vehicles; returns their pseudonyms [GONE, KEPT]."""
    t_ns = int(t * 1e9)
    names = [ids.pseudonym(GONE, t_ns) or "", ids.pseudonym(KEPT, t_ns) or ""]
    w.write_blocking("vehicle_reports", _rows(4, t, names))
    w.write_blocking("tracks", {**_rows(4, t, names), "track_id": np.arange(4), "region_id": np.full(4, "city")})
    w.write_blocking(
        "advisories",
        {
            "time": np.full(2, t),
            "advisory_id": np.array([f"a{t}", f"b{t}"]),
            "vehicle_pseudonym": np.array(names),
            "kind": np.array(["speed", "speed"]),
            "details": np.array([{"advice": names[0]}, {"advice": names[1]}], dtype=object),
        },
    )
    w.write_blocking(
        "events",
        {
            "time": np.full(2, t),
            "event_id": np.array([f"e{t}", f"f{t}"]),
            "kind": np.array([1, 1]),
            "x": np.zeros(2),
            "y": np.zeros(2),
            "vehicle_pseudonym": np.array(names),
        },
    )
    records = ids.take_vault_records()
    w.write_blocking(
        "pseudonym_vault",
        {
            "time": np.array([r.t for r in records]),
            "vehicle_pseudonym": np.array([r.pseudonym for r in records]),
            "sealed": np.array([r.sealed for r in records], dtype=object),
        },
    )
    w.write_blocking(
        "lane_states",
        {"time": [t], "lane_id": ["l1"], "count": [2], **{k: [0.0] for k in ("queue_m", "mean_speed", "occupancy")}},
    )
    return names


def test_a_revoked_vehicle_leaves_no_row_with_its_id_or_any_pseudonym(db: str, tmp_path: Path) -> None:
    keyed = Pseudonymizer(os.urandom(32), period_s=int(DAY))
    ids = LiveIdentities(keyed)
    now = time.time()
    policy = RetentionPolicy()
    with psycopg.connect(db, autocommit=True) as conn:
        for back in (0, 3, 6):  # daily partitions for some of the days, the rest go to DEFAULT
            ensure_partitions(conn, now - back * DAY, days_ahead=0, days_behind=0)
        with StoreWriter(
            db, spool_dir=tmp_path, pseudonymize=StorePseudonymizer(keyed), maintenance_interval_s=None
        ) as w:
            periods = [_history(w, ids, now - back * DAY) for back in (6, 3, 2, 0)]
            # a raw id through the writer's own pseudonymiser (the current period)
            reports = _rows(2, now, ["x"])
            del reports["vehicle_pseudonym"]
            w.write_blocking("vehicle_reports", {**reports, "vehicle_id": np.array([GONE, KEPT])})
            assert w.flush_blocking(30)
        gone = sorted({p[0] for p in periods})
        kept = sorted({p[1] for p in periods})
        assert len(gone) == 4 and not set(gone) & set(kept)
        tag = keyed.revocation_tag(GONE)
        upsert_devices(conn, [{"device_id": gone[-1], "kind": "obu", "vehicle_pseudonym": gone[-1]}])
        register_key(
            conn, StoredKey(f"obu/{tag}", "k1", "ed25519", public_bytes(generate_key()), 0.0, float("inf"), True)
        )
        append(
            conn,
            {"actor": "op", "action": "identity.resolve", "target": keyed.reference(gone[-1]), "outcome": "resolved"},
        )
        before = mentions(conn, [GONE, *gone])
        assert {"vehicle_reports", "tracks", "advisories", "events", "pseudonym_vault", "devices"} <= {
            t.split("_p2")[0].removesuffix("_default") for t in before
        }
        assert any(t.endswith("_default") for t in before) and any("_p2" in t for t in before)

        done = revoke_vehicle(
            conn,
            keyed,
            GONE,
            now=now,
            horizon_s=policy.vehicle_horizon.total_seconds(),
            audit={
                "actor": "owner-app",
                "role": "obu",
                "action": "privacy.revoke",
                "target": keyed.revocation_tag(GONE),
                "reason": "owner withdrew consent",
                "outcome": "revoked",
            },
        )
        assert set(gone) <= set(done.pseudonyms) and done.tag == tag
        assert done.rows_deleted["vehicle_reports"] == 4 * 2 + 1 and done.rows_deleted["device_keys"] == 1
        searched = keyed.all_pseudonyms(GONE, now - 400 * DAY, now + DAY)
        assert mentions(conn, [GONE, *searched]) == {}
        assert mentions(conn, kept) != {}  # the other vehicle's history stays
        assert revoked_tags(conn) == {tag}
        assert verify(conn).ok

        # rows of the revoked vehicle still arriving (a spool replay) are swept by maintenance
        with StoreWriter(db, spool_dir=tmp_path / "late", maintenance_interval_s=None) as w:
            w.write_blocking("vehicle_reports", _rows(2, now, [gone[-1]]))
            assert w.flush_blocking(30)
        assert mentions(conn, [gone[-1]]) != {}
        maintain(conn, now, policy)
        assert mentions(conn, [GONE, *searched]) == {}
