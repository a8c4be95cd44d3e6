"""History queries over windows, sync and async, and the proto-to-row helpers feeding them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from proto import pb
from store import queries
from store.devices import upsert_devices
from store.privacy import Pseudonymizer
from store.rows import advisory_rows, override_rows, spat_rows
from store.writer import StoreWriter
from tests.store.conftest import T0, tracks

pytestmark = pytest.mark.postgres
NS = int(T0 * 1e9)


@pytest.fixture
def filled(db: str, spool_dir: Path) -> str:
    """A database with a little of everything, written through the writer."""
    spats = [
        pb.Spat(
            junction_id="j1",
            timestamp_ns=NS + k * 100_000_000,
            program_id="0",
            phase_index=k,
            mode=2,
            groups=[
                pb.SignalGroupState(
                    group_id=g, state=6 if g == 1 else 3, likely_end_ns=NS + 5 * 10**9, confidence_pct=80
                )
                for g in (1, 2)
            ],
        )
        for k in range(3)
    ]
    advisories = [
        pb.Advisory(
            advisory_id="a1",
            vehicle_id="bus-7",
            issued_ns=NS,
            expires_ns=NS + 10**10,
            speed=pb.SpeedAdvice(junction_id="j1", group_id=1, speed_002=500),
        ),
        pb.Advisory(
            advisory_id="a2",
            vehicle_id="car-1",
            issued_ns=NS + 10**9,
            route=pb.RouteAdvice(edge_ids=["e1", "e2"], reason="incident e9"),
        ),
    ]
    commands = [
        pb.SignalCommand(
            command_id="c1",
            junction_id="j1",
            kind=pb.COMMAND_KIND_HOLD_PHASE,
            issued_ns=NS,
            expires_ns=NS + 6 * 10**10,
            source="operator:li",
            reason="parade",
        )
    ]
    lanes = {
        "time": np.repeat(T0 + np.arange(2.0), 2),
        "lane_id": np.tile(np.array(["l2", "l1"]), 2),
        "count": np.arange(4),
        "queue_m": np.arange(4.0),
        "mean_speed": np.array([np.nan, 1, 2, 3]),
        "occupancy": np.zeros(4),
    }
    events = {
        "time": np.array([T0, T0 + 1, T0 + 2]),
        "event_id": np.array(["e1", "e2", "e1"]),
        "kind": np.array([1, 7, 1]),
        "severity": np.array([2, 4, 3]),
        "x": np.zeros(3),
        "y": np.zeros(3),
        "end_time": np.array([np.nan, np.nan, T0 + 2]),
        "details": np.array([None, {"lanes": 2}, None]),
    }
    with StoreWriter(db, spool_dir=spool_dir, pseudonymize=Pseudonymizer(b"q" * 16), maintenance_interval_s=None) as w:
        w.write_blocking("tracks", tracks(30))
        w.write_blocking("signal_states", spat_rows(spats))
        w.write_blocking("advisories", advisory_rows(advisories))
        w.write_blocking("overrides", override_rows(commands, operator="op:li", outcome="applied"))
        w.write_blocking("lane_states", lanes)
        w.write_blocking("events", events)
        w.write_blocking(
            "audit",
            {
                "time": np.array([T0]),
                "actor": np.array(["op:li"]),
                "action": np.array(["override"]),
                "outcome": np.array(["applied"]),
                "hash": np.array([b"\xab\xcd"], dtype=object),
            },
        )
        assert w.flush_blocking(30)
    with psycopg.connect(db, autocommit=True) as conn:
        upsert_devices(conn, [{"device_id": "rsu-1", "kind": "rsu", "attributes": {"fw": "1.2"}}])
    return db


def test_track_window_as_a_structured_array(filled: str) -> None:
    with psycopg.connect(filled) as conn:
        a = queries.tracks(T0 + 0.010, T0 + 0.020).run(conn)
        one = queries.tracks(T0, T0 + 1, track_ids=[14, 3], region_id="r1").run(conn)
        none = queries.tracks(T0 + 100, T0 + 101).run(conn)
    assert a["track_id"].tolist() == list(range(10, 20))  # half-open window, by time
    assert np.allclose(a["time"], T0 + np.arange(10, 20) * 0.001)
    assert a["vehicle_pseudonym"].tolist()[4] == "p00000014" and a["vehicle_pseudonym"][0] == ""
    assert a["x"].tolist() == (np.arange(10, 20) * 0.5).tolist()
    assert one["track_id"].tolist() == [3, 14]
    assert len(none) == 0 and "heading" in (none.dtype.names or ())


def test_states_windows(filled: str) -> None:
    with psycopg.connect(filled) as conn:
        sig = queries.signal_states(T0, T0 + 1, junction_ids=["j1"]).run(conn)
        lanes = queries.lane_states(T0, T0 + 10, lane_ids=["l1"]).run(conn)
    assert sig["group_id"].tolist() == [1, 2, 1, 2, 1, 2] and sig["phase_index"].tolist() == [0, 0, 1, 1, 2, 2]
    assert np.allclose(sig["likely_end"], T0 + 5) and np.isnan(sig["min_end"]).all()
    assert np.allclose(sig["confidence"], 0.8)
    assert lanes["count"].tolist() == [1, 3] and lanes["lane_id"].tolist() == ["l1", "l1"]


def test_low_rate_tables_as_json_ready_dicts(filled: str) -> None:
    with psycopg.connect(filled) as conn:
        ev = queries.events(T0, T0 + 10).run(conn)
        latest = queries.events(T0, T0 + 10, latest=True).run(conn)
        adv = queries.advisories(T0, T0 + 10).run(conn)
        ovr = queries.overrides(T0 - 1, T0 + 1, junction_id="j1").run(conn)
        aud = queries.audit(T0 - 1, T0 + 1).run(conn)
        dev = queries.devices("rsu").run(conn)
    assert [e["event_id"] for e in ev] == ["e1", "e2", "e1"] and ev[1]["details"] == {"lanes": 2}
    assert [(e["event_id"], e["severity"], e["end_time"]) for e in latest] == [("e2", 4, None), ("e1", 3, T0 + 2)]
    assert [a["kind"] for a in adv] == ["speed", "route"] and adv[0]["junction_id"] == "j1"
    assert adv[0]["details"] == {"junction_id": "j1", "group_id": 1, "speed_002": 500}
    assert adv[0]["vehicle_pseudonym"].startswith("p") and "bus" not in adv[0]["vehicle_pseudonym"]
    assert adv[0]["expires"] == T0 + 10
    assert [(o["operator"], o["reason"], o["outcome"], o["details"]) for o in ovr] == [
        ("op:li", "parade", "applied", {"source": "operator:li"})
    ]
    assert aud[0]["hash"] == "abcd" and aud[0]["prev_hash"] is None and aud[0]["id"] == 1
    assert dev[0]["attributes"] == {"fw": "1.2"}


async def test_queries_run_on_async_connections(filled: str) -> None:
    async with await psycopg.AsyncConnection.connect(filled) as aconn:
        a = await queries.tracks(T0, T0 + 1, limit=5).arun(aconn)
        ev = await queries.events(T0, T0 + 10, kinds=[7]).arun(aconn)
    assert a["track_id"].tolist() == [0, 1, 2, 3, 4]
    assert [e["event_id"] for e in ev] == ["e2"]


def test_history_of_one_vehicle(filled: str, conn: psycopg.Connection[Any]) -> None:
    a = queries.tracks(T0, T0 + 1, vehicle_pseudonym="p00000021").run(conn)
    assert a["track_id"].tolist() == [21]
    assert len(queries.vehicle_reports(T0, T0 + 1, vehicle_pseudonym="nobody").run(conn)) == 0
