"""Generated grid and corridor networks are consistent and safe to control."""

from __future__ import annotations

import numpy as np
import pytest

from roadnet import RoadNetwork, classes, corridor, grid, summary, validate
from roadnet.signals import phase_conflicts


@pytest.mark.parametrize("name", ["grid_net", "corridor_net"])
def test_generated_networks_validate(name: str, request: pytest.FixtureRequest) -> None:
    net: RoadNetwork = request.getfixturevalue(name)
    assert [str(i) for i in validate(net)] == []
    for t in range(len(net.tls_ids)):
        foes, yields = net.tls_conflicts(t)
        assert foes.any()
        for p in net.programs_of(t):
            for h in net.phases(int(p)):
                assert phase_conflicts(net.phase_state[h], foes, yields) == []


@pytest.mark.parametrize("name", ["grid_net", "corridor_net"])
def test_movements_are_continuous(name: str, request: pytest.FixtureRequest) -> None:
    net: RoadNetwork = request.getfixturevalue(name)
    for c in range(len(net.conn_dir)):
        a = net.lane_shape(int(net.conn_from_lane[c]))
        b = net.lane_shape(int(net.conn_to_lane[c]))
        via = net.conn_via(c)
        assert len(via) == 1
        v = net.lane_shape(int(via[0]))
        assert np.allclose(v[0], a[-1]) and np.allclose(v[-1], b[0])
        assert net.lane_speed[via[0]] <= net.lane_speed[net.conn_from_lane[c]] + 1e-9


def test_grid_shape_and_counts() -> None:
    net = grid(4, 2, spacing=250.0, lanes=3)
    s = summary(net)
    assert s["signalised_junctions"] == 8 and s["signal_controllers"] == 8
    assert s["junctions"] == 8 + 2 * (4 + 2)
    assert s["lanes"] == 3 * 2 * ((4 + 1) * 2 + (2 + 1) * 4)
    j = net.junction_index_of["J3_1"]
    assert np.allclose(net.junction_xy[j], [750.0, 250.0])
    # turns slow down, straight on does not
    left = [c for c in range(len(net.conn_dir)) if net.conn_dir[c] == "l"]
    straight = [c for c in range(len(net.conn_dir)) if net.conn_dir[c] == "s"]
    assert max(net.lane_speed[net.conn_via(c)[0]] for c in left) < 13.0
    assert min(net.lane_speed[net.conn_via(c)[0]] for c in straight) == pytest.approx(13.89)


def test_corridor_bus_lane() -> None:
    net = corridor(4)
    lane = net.lane_index_of["C0-C1_0"]
    assert net.lane_allow[lane] & classes.bit(classes.BUS)
    assert not net.lane_allow[lane] & classes.bit(classes.CAR)
    assert summary(net)["bus_lanes"] == 2 * 5
    assert len(net.stop_ids) == 2 * 3 and all(net.lane_ids[i].endswith("_0") for i in net.stop_lane)
    no_bus = corridor(4, bus_lane=False)
    assert summary(no_bus)["bus_lanes"] == 0


def test_left_turns_yield_to_opposing_through(grid_net: RoadNetwork) -> None:
    net = grid_net
    t = net.tls_index_of["J1_1"]
    foes, yields = net.tls_conflicts(t)
    conns = net.tls_link_conns[t]
    dirs = np.array([net.conn_dir[c] for c in conns])
    lefts, throughs = np.flatnonzero(dirs == "l"), np.flatnonzero(dirs == "s")
    pairs = [(a, b) for a in lefts for b in throughs if foes[a, b]]
    assert pairs
    assert all(yields[a, b] and not yields[b, a] for a, b in pairs)
