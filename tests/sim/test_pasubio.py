"""The engine on the real Bologna Pasubio scenario (its own signal programs, cars and buses) for
ten simulated minutes: traffic flows, nobody collides, nobody runs a red, no gridlock."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from roadnet import classes
from sim.demand import load_sumocfg
from sim.engine import Engine
from sim.engine.checks import min_gap, red_crossings
from sim.kpi import engine_kpis


def test_ten_minutes_of_pasubio(pasubio: Path) -> None:
    net, demand = load_sumocfg(pasubio / "run.sumocfg")
    assert len(demand) == 8776 and not demand.problems
    eng = Engine(net, demand, seed=0)
    worst = np.inf
    for k in range(6000):
        eng.step()
        assert len(red_crossings(eng)) == 0
        if k % 20 == 0:
            worst = min(worst, min_gap(eng))
    assert worst >= -1e-9
    k = engine_kpis(eng)
    # SUMO at 0.1 s has about 1,000 arrivals by then; a gridlock would stop them
    assert k["vehicles_arrived"] > 700
    assert k["teleports"] <= 3
    assert 200 < eng.n_running < 900
    assert float(np.mean(eng.fleet.v)) > 2.0
    assert 100.0 < k["mean_travel_time_s"] < 250.0
    # buses served their stops
    ev = eng.stop_events()
    assert len(ev) > 20
    assert np.all(ev["departure"] - ev["arrival"] >= 20.0 - 1e-6)
    assert set(eng.records()["cls"][eng.records()["status"] > 0].tolist()) >= {classes.CAR, classes.BUS}
