"""KPIs from trip records (checked against hand-computed values) and the plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from roadnet import classes, grid
from sim import kpi
from sim.demand import grid_demand
from sim.engine import STOP_EVENT_DTYPE, TRIP_DTYPE, Engine, TruthRecorder, load_truth

REQUIRED = (
    "vehicles_inserted",
    "vehicles_arrived",
    "mean_travel_time_s",
    "mean_delay_s",
    "mean_stops",
    "bus_mean_delay_s",
    "sim_seconds",
    "wall_seconds",
    "throughput_veh_per_h",
    "max_queue_m",
    "bus_lines",
    "bus_punctuality",
)


def _records() -> np.ndarray:
    r = np.zeros(5, dtype=TRIP_DTYPE)
    r["vehicle_id"] = ["a", "b", "c", "bus1", "w"]
    r["cls"] = [classes.CAR, classes.CAR, classes.ROBOTAXI, classes.BUS, classes.CAR]
    r["line"] = ["", "", "", "L1", ""]
    r["status"] = [2, 2, 2, 2, 1]
    r["depart"] = [0.0, 10.0, 20.0, 0.0, 50.0]
    r["depart_sched"] = [0.0, 10.0, 20.0, 0.0, 50.0]
    r["arrival"] = [100.0, 70.0, 220.0, 400.0, np.nan]
    r["duration"] = r["arrival"] - r["depart"]
    r["free_flow_s"] = [80.0, 50.0, 100.0, 200.0, 60.0]
    r["delay_s"] = r["duration"] - r["free_flow_s"]
    r["dwell_plan_s"] = [0.0, 0.0, 0.0, 60.0, 0.0]
    r["stops"] = [1, 0, 3, 2, 1]
    return r


def test_kpis_match_hand_computed_values() -> None:
    ev = np.zeros(3, dtype=STOP_EVENT_DTYPE)
    ev["line"] = "L1"
    ev["departure"] = [100.0, 200.0, 330.0]
    ev["until"] = [90.0, np.nan, 100.0]
    ev["sched_departure"] = [0.0, 150.0, 0.0]
    groups = {"a": "glosa_compliant", "b": "glosa_noncompliant", "c": "glosa_compliant"}
    k = kpi.compute(_records(), sim_seconds=1800.0, wall_seconds=60.0, stop_events=ev, groups=groups, max_queue_m=42.0)
    for key in REQUIRED:
        assert key in k
    assert k["vehicles_inserted"] == 5 and k["vehicles_arrived"] == 4
    assert k["mean_travel_time_s"] == pytest.approx((100 + 60 + 200 + 400) / 4)
    assert k["mean_delay_s"] == pytest.approx((20 + 10 + 100 + 200) / 4)
    assert k["mean_stops"] == pytest.approx(1.5)
    assert k["throughput_veh_per_h"] == pytest.approx(8.0)
    # bus: arrival 400 against 0 + 200 free flow + 60 dwell
    assert k["bus_mean_delay_s"] == pytest.approx(140.0)
    # stop departures: +10 (timetable), +50 (free-flow schedule), +230 (late)
    assert k["bus_punctuality"] == pytest.approx(2 / 3)
    assert k["bus_lines"]["L1"] == {
        "trips": 1,
        "mean_delay_s": 140.0,
        "punctuality": pytest.approx(2 / 3),
        "stops_served": 3,
    }
    assert k["glosa_compliant_stops"] == pytest.approx(2.0) and k["glosa_noncompliant_stops"] == 0.0
    assert k["glosa_compliant_delay_s"] == pytest.approx(60.0) and k["glosa_compliant_count"] == 2
    assert k["max_queue_m"] == 42.0 and k["real_time_factor"] == pytest.approx(30.0)


def test_json_has_no_nan(tmp_path: Path) -> None:
    r = _records()[:1]
    k = kpi.compute(r, sim_seconds=10.0, wall_seconds=1.0)
    assert math.isnan(k["bus_mean_delay_s"])
    doc = json.loads(kpi.write_json(k, tmp_path / "k.json").read_text())
    assert doc["bus_mean_delay_s"] is None and doc["vehicles_arrived"] == 1


def test_a_run_gives_kpis_truth_recordings_and_plots(tmp_path: Path) -> None:
    net = grid(2, 3)
    eng = Engine(net, grid_demand(net, vehicles_per_hour=2000, end=300, seed=1, headway=90), seed=1)
    rec = TruthRecorder(every=5)
    for _ in range(3000):
        eng.step()
        rec.sample(eng.t, eng.truth())
    k = kpi.engine_kpis(eng, groups={v: "obu" for v in eng.demand.ids[eng.demand.connected].tolist()})
    for key in REQUIRED:
        assert key in k
    assert k["vehicles_arrived"] > 50 and k["sim_seconds"] == pytest.approx(300.0)
    assert k["max_queue_m"] > 10.0 and k["mean_stops"] >= 0.0 and "obu_stops" in k
    npz = rec.save(tmp_path / "truth.npz")
    t, rows = load_truth(npz)
    assert len(t) == len(rows) > 1000 and set(np.unique(np.round(np.diff(np.unique(t)), 6))) == {0.5}
    csv = rec.save(tmp_path / "truth.csv")
    assert csv.read_text().splitlines()[0].startswith("t,vehicle_id,x,y")
    corridor = ["W0-J0_0", "J0_0-J1_0", "J1_0-E0"]
    for p in (
        kpi.plot_time_space(t, rows, net, corridor, tmp_path / "ts.png"),
        kpi.plot_delay_histogram(eng.records(), tmp_path / "delay.png"),
    ):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KeyError, match="nowhere"):
        kpi.plot_time_space(t, rows, net, ["nowhere"], tmp_path / "x.png")
