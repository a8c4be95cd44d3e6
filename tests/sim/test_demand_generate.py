"""Generated demand (random trips, bus lines, robotaxis), OD matrices and the router."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from roadnet import RoadNetwork, classes, corridor, grid
from sim.demand import (
    EdgeGraph,
    ODError,
    Router,
    bus_lines,
    grid_demand,
    load_od,
    od_trips,
    random_trips,
    straight_paths,
)


@pytest.fixture(scope="module")
def net() -> RoadNetwork:
    return grid(4, 3)


def test_the_router_finds_the_shortest_free_flow_route(net: RoadNetwork) -> None:
    g = EdgeGraph(net)
    r = Router(g, classes.bit(classes.CAR))
    idx = net.edge_index_of
    path = r.route(idx["W0-J0_0"], idx["J3_0-E0"])
    assert path is not None
    names = [net.edge_ids[e] for e in path]
    assert names == ["W0-J0_0", "J0_0-J1_0", "J1_0-J2_0", "J2_0-J3_0", "J3_0-E0"]
    assert g.route_valid(path, classes.bit(classes.CAR))
    # a detour through a closed edge is avoided, at a higher cost
    r2 = Router(g, classes.bit(classes.CAR), blocked=[idx["J1_0-J2_0"]])
    alt = r2.route(idx["W0-J0_0"], idx["J3_0-E0"])
    assert alt is not None and idx["J1_0-J2_0"] not in alt
    assert g.free_flow_time(alt) > g.free_flow_time(path)
    # via edges are honoured in order
    via = r.route(idx["W0-J0_0"], idx["J3_0-E0"], via=[idx["J1_1-J2_1"]])
    assert via is not None and idx["J1_1-J2_1"] in via


def test_random_trips_are_deterministic_and_follow_the_class_shares(net: RoadNetwork) -> None:
    kw = {"vehicles_per_hour": 3600.0, "end": 1800.0, "shares": {"car": 0.7, "truck": 0.1, "robotaxi": 0.2}}
    a = random_trips(net, seed=4, **kw)
    b = random_trips(net, seed=4, **kw)
    c = random_trips(net, seed=5, **kw)
    assert np.array_equal(a.route_edges, b.route_edges) and np.array_equal(a.depart, b.depart)
    assert not np.array_equal(a.route_edges, c.route_edges)
    assert 1600 < len(a) < 2000
    share = {k: float(np.mean(a.cls == v)) for k, v in (("car", 1), ("truck", 3), ("robotaxi", 4))}
    assert share["car"] == pytest.approx(0.7, abs=0.05) and share["robotaxi"] == pytest.approx(0.2, abs=0.05)
    g = EdgeGraph(net)
    for i in range(0, len(a), 97):
        assert g.route_valid(a.route(i), int(a.vtypes.bits[a.vtype[i]]))
    # robotaxis drive to the parking areas
    park_edges = set(net.lane_edge[net.parking_lane].tolist())
    taxis = np.flatnonzero(a.cls == classes.ROBOTAXI)
    assert all(int(a.route(i)[-1]) in park_edges for i in taxis)
    assert np.all(a.connected[taxis]) and not np.any(a.connected[a.cls == classes.CAR])


def test_bus_lines_run_straight_through_the_stops_with_a_timetable() -> None:
    c = corridor(4)
    paths = straight_paths(c)
    assert paths and all(len(p) >= 3 for p in paths)
    d = bus_lines(c, n_lines=2, headway=300.0, end=1800.0, dwell=15.0)
    assert len(d) == 12 and set(d.line.tolist()) == {"L0", "L1"}
    for i in range(len(d)):
        q = slice(d.stop_offsets[i], d.stop_offsets[i + 1])
        assert d.stop_offsets[i + 1] - d.stop_offsets[i] >= 3
        until = d.stop_until[q]
        assert np.all(np.diff(until) > 15.0) and until[0] > d.depart[i]
        assert np.all(d.stop_duration[q] == 15.0)
        route = d.route(i).tolist()
        assert all(int(c.lane_edge[ln]) in route for ln in d.stop_lane[q])


def test_grid_demand_combines_trips_and_lines(net: RoadNetwork) -> None:
    d = grid_demand(net, vehicles_per_hour=1000, end=600, n_lines=2, headway=300)
    assert np.sum(d.cls == classes.BUS) == 4
    assert np.all(np.diff(d.depart) >= 0)


def test_od_matrix_trips(net: RoadNetwork, tmp_path: Path) -> None:
    zones = {
        "west": {"sources": ["W0-J0_0", "W1-J0_1"], "sinks": ["J0_0-W0", "J0_1-W1"]},
        "east": {"sources": ["E0-J3_0", "E1-J3_1"], "sinks": ["J3_0-E0", "J3_1-E1"]},
    }
    d = od_trips(net, zones, {("west", "east"): 40.0, ("east", "west"): 10.5}, end=900.0, seed=2)
    assert len(d) in (50, 51)
    we = np.array([i.startswith("od_west-east") for i in d.ids.tolist()])
    assert we.sum() == 40
    assert all(net.edge_ids[int(d.route(i)[0])] in zones["west"]["sources"] for i in np.flatnonzero(we))
    assert all(net.edge_ids[int(d.route(i)[-1])] in zones["east"]["sinks"] for i in np.flatnonzero(we))
    assert not d.problems
    assert np.all((d.depart >= 0) & (d.depart < 900))
    f = tmp_path / "od.json"
    f.write_text(json.dumps({"zones": zones, "order": ["west", "east"], "matrix": [[0, 20], [5, 0]], "end": 600}))
    assert len(load_od(net, f)) == 25
    with pytest.raises(ODError, match="unknown zone 'north'"):
        od_trips(net, zones, {("north", "east"): 1.0})
    with pytest.raises(ODError, match="not in the network"):
        od_trips(net, {"x": ["nowhere"]}, {})
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ODError, match="cannot read"):
        load_od(net, bad)
