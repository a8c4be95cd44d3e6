"""GLOSA: the advised speed reaches the stop line on green (kinematics), none when infeasible."""

from __future__ import annotations

import numpy as np
import pytest

from control.approach import Approaches
from control.config import GlosaConfig
from control.glosa import Glosa, advise
from control.machine import SignalMachine
from control.plan import ControllerPlan
from control.spat import predict
from proto import empty_lane_states, units
from roadnet import MapMatcher, RoadNetwork
from tests.control.test_tsp import bus

T0 = 1000.0


def test_advice_arrives_on_green() -> None:
    rng = np.random.default_rng(3)
    n = 500
    dist = rng.uniform(30, 300, n)
    speed = rng.uniform(0, 14, n)
    vmax = np.full(n, 13.89)
    start = np.stack([rng.uniform(-20, 40, n), rng.uniform(60, 120, n)], axis=1)
    end = start + np.stack([rng.uniform(5, 40, n), rng.uniform(5, 40, n)], axis=1)
    res = advise(dist, speed, vmax, start, end, v_min=5.0, margin=1.5)
    ok = res.feasible
    assert ok.mean() > 0.3
    v = res.speed[ok]
    arrive = dist[ok] / v
    w = res.window[ok]
    rows = np.flatnonzero(ok)
    s, e = start[rows, w], end[rows, w]
    assert np.all((arrive >= np.where(s <= 0, 0.0, s + 1.5) - 1e-6) & (arrive <= e - 1.5 + 1e-6))
    assert np.all((v >= 5.0 - 1e-9) & (v <= 13.89 + 1e-9))


def test_no_advice_when_no_speed_reaches_green() -> None:
    # 20 m before the line, red for another 60 s: slower than 5 m/s would be needed
    res = advise(np.array([20.0]), np.array([10.0]), np.array([13.89]), np.array([[60.0]]), np.array([[90.0]]))
    assert not res.feasible[0] and np.isnan(res.speed[0])
    # the green ends before the line can be reached even at the limit
    res = advise(np.array([250.0]), np.array([10.0]), np.array([13.89]), np.array([[-5.0]]), np.array([[8.0]]))
    assert not res.feasible[0]


def test_keep_going_while_green_lasts() -> None:
    res = advise(np.array([100.0]), np.array([12.0]), np.array([13.89]), np.array([[-3.0]]), np.array([[30.0]]))
    assert res.feasible[0] and res.speed[0] == pytest.approx(13.89)


def test_queue_ahead_delays_the_arrival() -> None:
    base = advise(np.array([150.0]), np.array([12.0]), np.array([13.89]), np.array([[10.0]]), np.array([[40.0]]))
    queued = advise(
        np.array([150.0]), np.array([12.0]), np.array([13.89]), np.array([[10.0]]), np.array([[40.0]]),
        queue_delay=np.array([8.0]),
    )  # fmt: skip
    assert queued.speed[0] < base.speed[0]
    assert 150.0 / queued.speed[0] >= 10.0 + 1.5 + 8.0 - 1e-6


def test_advisories_for_connected_vehicles_on_the_grid(
    grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]
) -> None:
    pl = plans["grid"]
    t = grid_net.tls_index_of["J1_1"]
    m = SignalMachine.start(pl[t], int(grid_net.tls_active_program[t]), 0, T0)
    now = T0 + 10.0
    m.phase_end = T0 + 30.0  # the east-west green ends in 20 s; north-south starts at T0 + 35
    g = Glosa(grid_net, Approaches.build(grid_net), MapMatcher(grid_net), GlosaConfig())
    cars = np.concatenate(
        [
            bus(grid_net, "J1_0-J1_1_1", 150.0, 13.0, 0.0, vid="ns-car"),  # red now: slow down
            bus(grid_net, "J0_1-J1_1_1", 100.0, 13.0, 0.0, vid="ew-car"),  # green long enough
            bus(grid_net, "J2_1-J1_1_1", 5.0, 0.0, 0.0, vid="at-line"),  # too close to advise
        ]
    )
    cars["cls"] = 1
    lanes = empty_lane_states(len(grid_net.lane_ids))
    pred = predict(m, now)
    advs = g.advisories(now, cars, lanes, {t: pred})
    by = {a.vehicle_id: a.speed for a in advs}
    assert set(by) == {"ns-car", "ew-car"}
    v_ns = float(units.speed_from_002(by["ns-car"].speed_002))
    arrive = now + 150.0 / v_ns
    assert T0 + 35.0 + 1.5 - 0.05 <= arrive <= by["ns-car"].green_end_ns / 1e9
    assert by["ew-car"].speed_002 == units.speed_to_002(grid_net.lane_speed[grid_net.lane_index_of["J0_1-J1_1_1"]])
    # unchanged advice is not re-sent within a second
    assert g.advisories(now + 0.5, cars, lanes, {t: pred}) == []
