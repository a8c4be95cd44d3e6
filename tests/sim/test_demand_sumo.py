"""Demand from SUMO route files and configurations: what sumo would load, bad input set aside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roadnet import RoadNetwork, classes, grid
from sim.demand import load_routes, load_sumocfg, write_routes
from sim.demand.model import LANE_BEST, POS_NUMBER, POS_RANDOM, SPEED_MAX


@pytest.fixture(scope="module")
def net() -> RoadNetwork:
    return grid(3, 3)


ROUTES = """<routes>
    <vType id="slow" vClass="passenger" accel="1.5" decel="3.0" length="4.5" minGap="2" maxSpeed="10" sigma="0"/>
    <vTypeDistribution id="mix">
        <vType id="a" vClass="passenger" probability="0.7" speedFactor="normc(1.1,0.05,0.2,2)"/>
        <vType id="t" vClass="truck" probability="0.3"/>
    </vTypeDistribution>
    <route id="r1" edges="W0-J0_0 J0_0-J1_0 J1_0-J2_0 J2_0-E0"/>
    <vehicle id="v1" depart="5" type="slow" route="r1" departLane="best" departPos="12.5" departSpeed="max"/>
    <vehicle id="v0" depart="1.5" route="r1" departPos="random" arrivalPos="-1"/>
    <vehicle id="bus1" depart="2" type="DEFAULT_BUSTYPE" line="42">
        <route edges="W0-J0_0 J0_0-J1_0 J1_0-J2_0 J2_0-E0"/>
        <stop busStop="bs_J0_0-J1_0" duration="25" until="100"/>
    </vehicle>
    <trip id="t1" depart="3" from="W0-J0_0" to="J2_2-N2" type="mix"/>
    <trip id="t2" depart="4" from="W0-J0_0" to="J2_0-E0" via="J1_0-J1_1"/>
    <flow id="f" begin="0" end="60" period="20" route="r1"/>
    <flow id="g" begin="100" end="200" vehsPerHour="36" from="S1-J1_0" to="J1_2-N1"/>
    <flow id="h" begin="0" number="4" end="40" route="r1"/>
    <flow id="p" begin="0" end="100" probability="0.5" route="r1" type="mix"/>
    <vehicle id="bad_edge" depart="0"><route edges="W0-J0_0 nowhere"/></vehicle>
    <vehicle id="bad_link" depart="0"><route edges="W0-J0_0 J2_0-E0"/></vehicle>
    <vehicle id="bad_type" depart="0" type="ghost" route="r1"/>
    <vehicle id="triggered" depart="triggered" route="r1"/>
    <trip id="taz" depart="0" fromTaz="a" toTaz="b"/>
    <person id="walker" depart="0"><walk edges="W0-J0_0"/></person>
</routes>
"""


def test_vehicles_trips_flows_and_types_load_as_sumo_reads_them(net: RoadNetwork, tmp_path: Path) -> None:
    p = tmp_path / "r.rou.xml"
    p.write_text(ROUTES)
    d = load_routes(net, p, seed=3)
    ids = d.ids.tolist()
    # sorted by departure, ties in file order
    assert np.all(np.diff(d.depart) >= 0)
    assert ids.index("v0") < ids.index("bus1") < ids.index("t1") < ids.index("t2") < ids.index("v1")
    # flows expanded: period 20 over [0, 60) -> 3; 36 veh/h over 100 s -> 1; number 4 over 40 s
    assert sum(i.startswith("f.") for i in ids) == 3
    assert sum(i.startswith("g.") for i in ids) == 1
    assert [d.depart[ids.index(f"h.{k}")] for k in range(4)] == [0.0, 10.0, 20.0, 30.0]
    n_p = sum(i.startswith("p.") for i in ids)
    assert 30 < n_p < 70
    # the vehicle's own attributes
    v1 = ids.index("v1")
    slow = d.vtypes.index("slow")
    assert d.vtype[v1] == slow and d.vtypes.col("max_speed")[slow] == 10.0
    assert d.depart_lane[v1] == LANE_BEST and d.depart_pos_kind[v1] == POS_NUMBER and d.depart_pos[v1] == 12.5
    assert d.depart_speed_kind[v1] == SPEED_MAX
    assert d.depart_pos_kind[ids.index("v0")] == POS_RANDOM and d.arrival_pos[ids.index("v0")] == -1.0
    # trips are routed (via honoured), routes are connected edge sequences
    t2 = [net.edge_ids[e] for e in d.route(ids.index("t2"))]
    assert t2[0] == "W0-J0_0" and t2[-1] == "J2_0-E0" and "J1_0-J1_1" in t2
    assert [net.edge_ids[e] for e in d.route(ids.index("t1"))][-1] == "J2_2-N2"
    # a type distribution draws members; speed factors follow the member's distribution
    t_members = {d.vtypes.ids[t] for t in d.vtype[[i for i, x in enumerate(ids) if x.startswith("p.")]]}
    assert t_members == {"a", "t"}
    # buses: the stop, its dwell and timetable, the line
    b = ids.index("bus1")
    q = slice(d.stop_offsets[b], d.stop_offsets[b + 1])
    assert d.stop_bus[q].tolist() == [net.stop_ids.index("bs_J0_0-J1_0")]
    assert d.stop_duration[q].tolist() == [25.0] and d.stop_until[q].tolist() == [100.0]
    assert d.line[b] == "42" and d.cls[b] == classes.BUS and d.connected[b]
    # bad input is set aside with a reason, never a crash
    assert not {"bad_edge", "bad_link", "bad_type", "triggered", "taz", "walker"} & set(ids)
    text = "\n".join(d.problems)
    for frag in ("nowhere", "not connected", "ghost", "triggered", "Taz", "person"):
        assert frag.lower() in text.lower(), frag


def test_the_same_seed_gives_the_same_demand(net: RoadNetwork, tmp_path: Path) -> None:
    p = tmp_path / "r.rou.xml"
    p.write_text(ROUTES)
    a, b, c = load_routes(net, p, seed=1), load_routes(net, p, seed=1), load_routes(net, p, seed=2)
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.speed_factor, b.speed_factor)
    assert not np.array_equal(a.speed_factor, c.speed_factor)


def test_written_routes_read_back_the_same(net: RoadNetwork, tmp_path: Path) -> None:
    p = tmp_path / "r.rou.xml"
    p.write_text(ROUTES)
    d = load_routes(net, p, seed=1)
    out = write_routes(d, net, tmp_path / "out.rou.xml")
    e = load_routes(net, out, seed=9)
    assert e.ids.tolist() == d.ids.tolist()
    assert np.allclose(e.depart, d.depart, atol=0.01)
    assert np.array_equal(e.route_edges, d.route_edges)
    assert np.allclose(e.speed_factor, d.speed_factor, atol=1e-4)
    assert np.array_equal(e.stop_bus, d.stop_bus)
    assert [e.vtypes.ids[t] for t in e.vtype] == [d.vtypes.ids[t] for t in d.vtype]


def test_pasubio_configuration_loads_every_vehicle(pasubio: Path) -> None:
    net, d = load_sumocfg(pasubio / "run.sumocfg")
    assert len(d) == 8776 and not d.problems
    bus = d.cls == classes.BUS
    assert bus.sum() == 112
    assert np.all(np.diff(d.stop_offsets)[bus] >= 3) and np.all(np.diff(d.stop_offsets)[~bus] == 0)
    assert set(d.line[bus].tolist()) >= {"1", "2", "3", "9", "11", "12"}
    # the "ignoring" class may use the bus lanes
    ign = d.vtypes.index("ignoring1")
    assert d.vtypes.bits[ign] == 0xFFFF
    assert len(net.stop_ids) == 25
