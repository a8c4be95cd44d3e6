"""The real Bologna Pasubio network imports with its signals, conflicts, stops and geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sumolib

from roadnet import RoadNetwork, load_sumo, summary
from roadnet.geometry import length
from roadnet.signals import green_mask, phase_conflicts


def test_counts(pasubio_net: RoadNetwork) -> None:
    s = summary(pasubio_net)
    assert s["signalised_junctions"] == 15
    assert s["signal_controllers"] == 8
    assert s["bus_stops"] == 25
    assert s["detectors"] > 0
    lon0, lat0, lon1, lat1 = s["bbox_wgs84"]
    # Bologna, Pasubio district
    assert 11.29 < lon0 < lon1 < 11.34 and 44.49 < lat0 < lat1 < 44.51


def test_agrees_with_sumolib(pasubio_net: RoadNetwork, pasubio_net_file: Path) -> None:
    ref = sumolib.net.readNet(str(pasubio_net_file), withInternal=True, withPrograms=True)
    normal = [e for e in ref.getEdges(withInternal=False)]
    assert summary(pasubio_net)["edges"] == len(normal)
    ref_lanes = {ln.getID(): ln for e in ref.getEdges(withInternal=True) for ln in e.getLanes()}
    assert set(ref_lanes) == set(pasubio_net.lane_ids)
    ours = dict(zip(pasubio_net.lane_ids, pasubio_net.lane_length, strict=True))
    rel = np.array([abs(ours[k] - ln.getLength()) / ln.getLength() for k, ln in ref_lanes.items()])
    assert rel.max() <= 0.01
    assert {t.getID() for t in ref.getTrafficLights()} == set(pasubio_net.tls_ids)
    n_ref_conn = sum(len(c) for e in normal for c in [e.getOutgoing()] for c in c.values())
    assert len(pasubio_net.conn_dir) == n_ref_conn


def test_lane_geometry_matches_sumo_lengths(pasubio_net: RoadNetwork) -> None:
    # SUMO gives all lanes of an edge the edge's length; the polyline of most lanes agrees within 1%
    net = pasubio_net
    normal = np.flatnonzero(~net.lane_internal)
    geo = np.array([length(net.lane_shape(i)) for i in normal])
    rel = np.abs(geo - net.lane_length[normal]) / net.lane_length[normal]
    assert np.mean(rel <= 0.01) >= 0.9
    assert np.median(rel) < 0.002


def test_every_phase_checked_against_conflicts(pasubio_net: RoadNetwork) -> None:
    net = pasubio_net
    n_phases = 0
    permissive_pairs = 0
    for t in range(len(net.tls_ids)):
        foes, yields = net.tls_conflicts(t)
        assert foes.any(), f"controller {net.tls_ids[t]} has no conflicting movements"
        assert (foes == foes.T).all()
        # the check is not vacuous: every link protected-green at once conflicts
        assert phase_conflicts("G" * int(net.tls_n_links[t]), foes, yields)
        for p in net.programs_of(t):
            for h in net.phases(int(p)):
                n_phases += 1
                state = net.phase_state[h]
                assert phase_conflicts(state, foes, yields) == [], (net.tls_ids[t], net.program_ids[p], state)
                g = green_mask(state)
                permissive_pairs += int((foes & g[:, None] & g[None, :]).sum()) // 2
    assert n_phases > 100
    # the city's programs do run conflicting movements together, as permissive (yielding) greens
    assert permissive_pairs > 0


def test_joined_controllers_and_signal_groups(pasubio_net: RoadNetwork) -> None:
    net = pasubio_net
    t = net.tls_index_of["231"]
    assert sorted(net.junction_ids[j] for j in net.tls_junction_list(t)) == ["10", "12", "9"]
    groups = net.tls_groups(t)
    assert len(groups) == net.tls_n_links[t] and groups.min() == 1
    # links in one group show the same state in every phase of every program
    states = np.array([list(net.phase_state[h]) for p in net.programs_of(t) for h in net.phases(int(p))])
    for g in np.unique(groups):
        cols = states[:, groups == g]
        assert (cols == cols[:, :1]).all()


def test_active_program_is_the_last_loaded(pasubio_net: RoadNetwork) -> None:
    for t in range(len(pasubio_net.tls_ids)):
        assert pasubio_net.program_ids[pasubio_net.tls_active_program[t]] == "utopia"


def test_bus_lanes_and_stops(pasubio_net: RoadNetwork) -> None:
    assert summary(pasubio_net)["bus_lanes"] > 0
    lanes = pasubio_net.stop_lane
    assert (lanes >= 0).all()
    assert (pasubio_net.stop_end <= pasubio_net.lane_length[lanes] + 0.1).all()


def test_sumocfg_loads_the_same_network(pasubio: Path, pasubio_net: RoadNetwork) -> None:
    net = load_sumo(pasubio / "run.sumocfg")
    assert net.lane_ids == pasubio_net.lane_ids
    assert len(net.stop_ids) == 25


@pytest.mark.parametrize("lat", [0.0, 28.19, 44.5, -33.9], ids=["equator", "changsha", "bologna", "south"])
def test_wgs84_round_trip_within_a_centimetre(lat: float) -> None:
    from roadnet import Frame

    f = Frame.around(lat, 112.0)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-5000, 5000, 1000), rng.uniform(-5000, 5000, 1000)
    la, lo = f.to_wgs84(x, y)
    x2, y2 = f.to_local(la, lo)
    assert np.hypot(x2 - x, y2 - y).max() < 0.01


def test_pasubio_frame_agrees_with_sumolib(pasubio_net: RoadNetwork, pasubio_net_file: Path) -> None:
    ref = sumolib.net.readNet(str(pasubio_net_file))
    for x, y in [(0.0, 0.0), (900.0, 600.0), (1800.0, 1300.0)]:
        lon_r, lat_r = ref.convertXY2LonLat(x, y)
        lat, lon = pasubio_net.frame.to_wgs84(x, y)
        assert abs(float(lat) - lat_r) < 1e-8 and abs(float(lon) - lon_r) < 1e-8
        xx, yy = pasubio_net.frame.to_local(lat, lon)
        assert np.hypot(float(xx) - x, float(yy) - y) < 0.01


def test_heading_convention() -> None:
    from roadnet import Frame

    f = Frame.around(28.19, 112.97)
    # compass north is math pi/2 at the projection centre, compass east is math 0
    assert abs(float(f.compass_to_math(0.0)) - np.pi / 2) < 1e-6
    assert abs(float(f.compass_to_math(np.pi / 2))) < 1e-6
    h = np.linspace(-3, 3, 13)
    back = f.compass_to_math(f.math_to_compass(h))
    assert np.allclose(np.angle(np.exp(1j * (back - h))), 0, atol=1e-9)
