"""The engine's contract with the field devices and control: link states, OBU actions (speed
advice, rerouting), incidents, parking, truth, buses."""

from __future__ import annotations

import numpy as np
import pytest

from roadnet import MapMatcher, NetworkBuilder, RoadNetwork, classes, grid
from sim.demand import DemandBuilder, default_vtypes, grid_demand, random_trips
from sim.demand.model import LANE_FIRST, POS_NUMBER
from sim.engine import Engine, FixedTimeSignals
from sim.engine.checks import min_gap
from sim.interface import TRUTH_DTYPE


@pytest.fixture(scope="module")
def net3() -> RoadNetwork:
    return grid(3, 3)


def two_lane_road() -> RoadNetwork:
    """A two-lane road A -> B -> C (1 km each, unsignalised junction at B)."""
    b = NetworkBuilder(source="two-lane road")
    b.add_junction("A", 0.0, 0.0, "dead_end")
    b.add_junction("B", 1000.0, 0.0, "priority")
    b.add_junction("C", 2000.0, 0.0, "dead_end")
    b.add_edge("AB", "A", "B", 2, speed=15.0)
    b.add_edge("BC", "B", "C", 2, speed=15.0)
    b.add_connection("AB", 0, "BC", 0)
    b.add_connection("AB", 1, "BC", 1)
    return b.build()


def test_fixed_time_signals_follow_each_active_program(net3: RoadNetwork) -> None:
    fx = FixedTimeSignals(net3)
    t_ = 0
    p = int(net3.tls_active_program[t_])
    hs = list(net3.phases(p))
    dur = net3.phase_duration[hs]
    k = int(net3.tls_n_links[t_])
    a = int(net3.tls_link_offsets[t_])
    ends = np.cumsum(dur)
    for t in np.arange(0.0, 2 * ends[-1], 0.7):
        h = hs[int(np.searchsorted(ends, t % ends[-1], side="right"))]
        assert "".join(fx.state(float(t))[a : a + k]) == net3.phase_state[h]


def test_all_red_holds_everyone_at_the_stop_lines_and_green_releases(net3: RoadNetwork) -> None:
    demand = grid_demand(net3, vehicles_per_hour=3000, end=300, n_lines=0, seed=2)
    eng = Engine(net3, demand, seed=2)
    red = np.full(int(net3.tls_link_offsets[-1]), "r", dtype="<U1")
    signalised = 0
    for _ in range(1200):
        eng.step(red)
        signalised += int(np.sum(eng.topo.conn_glink[eng.crossings[1]] >= 0))
    assert signalised == 0
    assert eng.stats["arrived"] == 0 and eng.n_running > 50
    for _ in range(600):
        eng.step()
        signalised += int(np.sum(eng.topo.conn_glink[eng.crossings[1]] >= 0))
    assert signalised > 50
    with pytest.raises(ValueError, match="link_state"):
        eng.step(red[:-1])


def _one_car(net: RoadNetwork, edges: list[str], depart_pos: float = 10.0) -> Engine:
    vt = default_vtypes()
    b = DemandBuilder(vt)
    b.add(
        "car",
        0.0,
        vt.index("car"),
        [net.edge_index_of[e] for e in edges],
        depart_lane=LANE_FIRST,
        depart_pos=depart_pos,
        depart_pos_kind=POS_NUMBER,
        speed_factor=1.0,
    )
    return Engine(net, b.build(), seed=0)


def test_speed_advice_caps_the_speed_until_it_expires() -> None:
    net = two_lane_road()
    eng = _one_car(net, ["AB", "BC"])
    eng.step()
    assert eng.set_speed_advice(["car", "nobody"], [6.0, 6.0], [40.0, 40.0]) == 1
    top = 0.0
    for _ in range(390):
        eng.step()
        if eng.t > 15.0:
            top = max(top, float(eng.fleet.v[0]))
    assert top <= 6.0 + 1e-6
    eng.run(20.0)
    assert eng.fleet.v[0] > 12.0
    # NaN clears advice at once
    eng.set_speed_advice(["car"], [5.0], [1e9])
    eng.run(10.0)
    eng.set_speed_advice(["car"], [np.nan], [0.0])
    eng.run(15.0)
    assert eng.fleet.v[0] > 12.0


def test_set_route_reroutes_from_the_current_edge(net3: RoadNetwork) -> None:
    eng = _one_car(net3, ["W0-J0_0", "J0_0-J1_0", "J1_0-J2_0", "J2_0-E0"])
    eng.run(3.0)
    assert not eng.set_route("car", ["J0_0-J1_0", "J1_0-J1_1"])  # not the current edge
    assert not eng.set_route("car", ["W0-J0_0", "J0_0-J1_0", "J1_1-J1_2"])  # not connected
    assert not eng.set_route("nobody", ["W0-J0_0"])
    new = ["W0-J0_0", "J0_0-J0_1", "J0_1-J0_2", "J0_2-N0"]
    assert eng.set_route("car", new)
    seen: set[str] = set()
    for _ in range(3000):
        eng.step()
        if eng.n_running:
            seen.add(net3.edge_ids[int(eng.net.lane_edge[eng.fleet.lane[0]])])
    rec = eng.records()
    assert rec["status"][0] == 2
    assert set(new) <= seen
    assert "J1_0-J2_0" not in seen
    assert rec["route_length_m"][0] > 0.0


def test_a_closed_lane_is_passed_on_the_other_lane() -> None:
    net = two_lane_road()
    demand = random_trips(net, count=60, end=120, shares={"car": 1.0}, fringe_share=1.0, min_length=100.0, seed=1)
    eng = Engine(net, demand, seed=1)
    eng.close_lanes(["AB_0"], until_t=1e9, pos=500.0)
    lane0 = net.lane_index_of["AB_0"]
    past = 0
    for _ in range(2400):
        eng.step()
        on = eng.fleet.lane == lane0
        past += int(np.sum(eng.fleet.s[on] > 500.0))
    assert past == 0
    assert eng.stats["arrived"] > 30
    lanes, pos, _ = eng.closures()
    assert lanes.tolist() == [lane0] and pos.tolist() == [500.0]
    with pytest.raises(KeyError, match="nope"):
        eng.close_lanes(["nope"], until_t=10.0)


def test_closing_a_whole_edge_reroutes_around_it(net3: RoadNetwork) -> None:
    closed = "J1_0-J1_1"
    demand = random_trips(net3, vehicles_per_hour=3000, end=300, shares={"car": 1.0}, seed=4)
    eng = Engine(net3, demand, seed=4)
    eng.run(5.0)
    eng.close_lanes([f"{closed}_0", f"{closed}_1"], until_t=1e9)
    e = net3.edge_index_of[closed]
    entered = 0
    for _ in range(3000):
        eng.step()
        on = eng.net.lane_edge[eng.fleet.lane] == e
        entered += int(np.sum(on & (eng.fleet.s > 10.0)))
    assert entered == 0
    assert eng.stats["arrived"] > 50


def test_parking_occupancy_stays_within_capacity_and_trips_park(net3: RoadNetwork) -> None:
    demand = grid_demand(net3, vehicles_per_hour=3600, end=300, shares={"robotaxi": 1.0}, n_lines=0, seed=6)
    eng = Engine(net3, demand, seed=6)
    cap = net3.parking_capacity
    occ0 = eng.parking_occupancy()
    assert occ0.shape == cap.shape and np.all(occ0 <= cap)
    seen = []
    for _ in range(15):
        eng.run(20.0)
        occ = eng.parking_occupancy()
        assert np.all((occ >= 0) & (occ <= cap))
        seen.append(occ.sum())
        bays, off = eng.parking_bays()
        assert np.array_equal(np.add.reduceat(bays.astype(int), off[:-1]), occ)
    assert len(set(seen)) > 1
    assert eng.parking.by_trips.sum() > 10


def test_truth_is_on_the_lanes_and_marks_obus_and_buses(net3: RoadNetwork) -> None:
    demand = grid_demand(net3, vehicles_per_hour=3000, end=300, seed=8, headway=60)
    eng = Engine(net3, demand, seed=8)
    eng.run(120.0)
    tr = eng.truth()
    assert tr.dtype == TRUTH_DTYPE and len(tr) == eng.n_running > 30
    m = MapMatcher(net3, radius=5.0).match(np.stack([tr["x"], tr["y"]], axis=1))
    assert np.all(m.distance < 2.0)
    assert np.allclose(np.hypot(tr["vx"], tr["vy"]), tr["speed"])
    cls = tr["cls"]
    assert np.all(tr["connected"] == np.isin(cls, [classes.BUS, classes.ROBOTAXI]))
    bus = cls == classes.BUS
    assert bus.any() and np.all(tr["bus_line"][bus] != "") and np.all(np.isfinite(tr["schedule_dev"][bus]))
    assert np.all(tr["schedule_dev"][~bus] == 0.0)
    n = eng.connected(1.0)
    assert n == len(demand) and np.all(eng.truth()["connected"])


def test_buses_dwell_at_their_stops(net3: RoadNetwork) -> None:
    demand = grid_demand(net3, vehicles_per_hour=600, end=200, seed=9, headway=40)
    eng = Engine(net3, demand, seed=9)
    eng.run(250.0)
    ev = eng.stop_events()
    assert len(ev) >= 6
    assert np.all(ev["departure"] - ev["arrival"] >= 20.0 - 1e-6)
    assert np.all(ev["bus_stop"] >= 0) and np.all(ev["line"] != "")
    assert min_gap(eng) >= -1e-9
