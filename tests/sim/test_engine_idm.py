"""IDM car following against its analytic answers, on a straight road built for the purpose."""

from __future__ import annotations

import numpy as np
import pytest

from roadnet import NetworkBuilder, RoadNetwork
from sim.demand import DemandBuilder, default_vtypes
from sim.demand.model import LANE_FIRST, POS_NUMBER, SPEED_NUMBER
from sim.engine import Engine, equilibrium_gap, idm_accel
from sim.engine.checks import gaps


def straight_road(speed: float = 20.0) -> RoadNetwork:
    """A single-lane road A -> B -> C, 1 km then 5 km (an unsignalised junction at B)."""
    b = NetworkBuilder(source="straight")
    b.add_junction("A", 0.0, 0.0, "dead_end")
    b.add_junction("B", 1000.0, 0.0, "priority")
    b.add_junction("C", 6000.0, 0.0, "dead_end")
    b.add_edge("AB", "A", "B", 1, speed=speed)
    b.add_edge("BC", "B", "C", 1, speed=speed)
    b.add_connection("AB", 0, "BC", 0)
    return b.build()


@pytest.mark.parametrize(
    ("v", "s0", "tau"),
    [(8.0, 2.0, 1.0), (12.0, 2.5, 1.5), (15.0, 1.5, 0.8)],
    ids=["slow", "medium", "fast-short-headway"],
)
def test_follower_settles_at_the_equilibrium_gap(v: float, s0: float, tau: float) -> None:
    net = straight_road()
    vt = default_vtypes()
    lead = vt.add("lead", "passenger", max_speed=v, accel=2.0, decel=3.0, sigma=0.0, min_gap=s0, tau=tau)
    fol = vt.add("fol", "passenger", max_speed=30.0, accel=2.0, decel=3.0, sigma=0.0, min_gap=s0, tau=tau)
    b = DemandBuilder(vt)
    route = [net.edge_index_of["AB"], net.edge_index_of["BC"]]
    kw = {"depart_lane": LANE_FIRST, "depart_pos_kind": POS_NUMBER, "speed_factor": 1.0}
    b.add("lead", 0.0, lead, route, depart_pos=300.0, depart_speed=v, depart_speed_kind=SPEED_NUMBER, **kw)
    b.add("fol", 0.0, fol, route, depart_pos=200.0, depart_speed=v, depart_speed_kind=SPEED_NUMBER, **kw)
    eng = Engine(net, b.build(), seed=0, dawdle=0.0, time_gap_factor=1.0)
    for _ in range(1800):
        eng.step()
    tr = eng.truth()
    by = {str(r["vehicle_id"]): r for r in tr}
    assert set(by) == {"lead", "fol"}
    assert by["lead"]["speed"] == pytest.approx(v, abs=1e-6)
    assert by["lead"]["lane"] == by["fol"]["lane"] == net.lane_index_of["BC_0"]
    g, _, _ = gaps(eng)
    assert len(g) == 1
    gap = float(g[0])
    expected = equilibrium_gap(v, 20.0, s0, tau)
    assert gap == pytest.approx(expected, rel=0.01)
    assert by["fol"]["speed"] == pytest.approx(v, rel=0.001)


def test_the_equilibrium_gap_is_where_the_acceleration_vanishes() -> None:
    v, v0, s0, T = 10.0, 15.0, 2.0, 1.2
    s = equilibrium_gap(v, v0, s0, T)
    a = idm_accel(
        np.array([v]),
        np.array([v0]),
        np.array([s]),
        np.array([v]),
        s0=np.array([s0]),
        T=np.array([T]),
        a_max=np.array([1.5]),
        b=np.array([2.0]),
    )
    assert a[0] == pytest.approx(0.0, abs=1e-9)
    free = idm_accel(
        np.array([0.0]),
        np.array([v0]),
        np.array([np.inf]),
        np.array([0.0]),
        s0=np.array([s0]),
        T=np.array([T]),
        a_max=np.array([1.5]),
        b=np.array([2.0]),
    )
    assert free[0] == pytest.approx(1.5)
