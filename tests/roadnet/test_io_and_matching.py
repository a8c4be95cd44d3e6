"""Save/load round-trips exactly; the map-matcher agrees with a brute-force reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roadnet import MapMatcher, RoadNetwork, load_map, save_map
from roadnet.errors import MapError


@pytest.mark.parametrize("name", ["pasubio_net", "grid_net", "corridor_net"])
def test_save_load_round_trip_is_exact(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    net: RoadNetwork = request.getfixturevalue(name)
    p = save_map(net, tmp_path / "m.xjmap")
    back = load_map(p)
    assert net.same_as(back) == []
    # and the loaded map answers the same questions
    assert back.tls_conflicts(0)[0].tolist() == net.tls_conflicts(0)[0].tolist()


def test_load_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.xjmap"
    bad.write_text("hello")
    with pytest.raises(MapError, match="not a Xiangjiang map"):
        load_map(bad)
    np.savez(tmp_path / "y.npz", a=np.zeros(3))
    with pytest.raises(MapError, match="no __meta__"):
        load_map(tmp_path / "y.npz")


def _brute_force(m: MapMatcher, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, d = m._a, m._d
    rel = p[:, None, :] - a[None]
    t = np.clip((rel * d[None]).sum(-1) / m._len2[None], 0, 1)
    diff = rel - d[None] * t[..., None]
    dist = np.hypot(diff[..., 0], diff[..., 1])
    best = dist.argmin(axis=1)
    return m._lane[best], dist.min(axis=1)


@pytest.mark.parametrize("name", ["pasubio_net", "grid_net", "corridor_net"])
def test_matcher_agrees_with_brute_force(name: str, request: pytest.FixtureRequest) -> None:
    net: RoadNetwork = request.getfixturevalue(name)
    m = MapMatcher(net, radius=12.0)
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = net.bbox()
    p = rng.uniform([x0 - 20, y0 - 20], [x1 + 20, y1 + 20], (4000, 2))
    # and points close to lanes, where matching matters
    near = net.lane_shape_xy[rng.integers(0, len(net.lane_shape_xy), 2000)] + rng.normal(0, 2.0, (2000, 2))
    p = np.vstack([p, near])
    r = m.match(p)
    ref_lane, ref_dist = _brute_force(m, p)
    inside = ref_dist <= m.radius
    assert inside.sum() > 2000
    assert (r.lane[~inside] == -1).all()
    np.testing.assert_allclose(r.distance[inside], ref_dist[inside], atol=1e-9)
    # the same lane except on exact ties
    same = r.lane[inside] == ref_lane[inside]
    assert same.mean() > 0.999
    # derived quantities are consistent
    ok = r.lane >= 0
    assert (r.s[ok] >= -1e-9).all() and (r.s[ok] <= net.lane_length[r.lane[ok]] + 1e-6).all()
    assert np.allclose(np.abs(r.lateral[ok]), r.distance[ok])


def test_matcher_positions_on_a_known_lane(grid_net: RoadNetwork) -> None:
    net = grid_net
    lane = net.lane_index_of["J0_0-J1_0_0"]
    shape = net.lane_shape(lane)
    direction = (shape[-1] - shape[0]) / np.linalg.norm(shape[-1] - shape[0])
    left = np.array([-direction[1], direction[0]])
    s = np.array([10.0, 50.0, 150.0])
    pts = shape[0] + direction * s[:, None] + left * 0.5
    r = MapMatcher(net).match(pts)
    assert (r.lane == lane).all()
    np.testing.assert_allclose(r.s, s, atol=1e-6)
    np.testing.assert_allclose(r.lateral, 0.5, atol=1e-6)
    np.testing.assert_allclose(r.dist_to_stop, net.lane_length[lane] - s, atol=1e-6)
    np.testing.assert_allclose(r.lane_heading, np.arctan2(direction[1], direction[0]), atol=1e-9)


def test_heading_picks_own_carriageway(grid_net: RoadNetwork) -> None:
    net = grid_net
    east = net.lane_index_of["J0_0-J1_0_1"]  # inner eastbound lane
    west = net.lane_index_of["J1_0-J0_0_1"]  # inner westbound lane
    mid = (net.lane_shape(east)[0] + net.lane_shape(west)[-1]) / 2 + np.array([60.0, 0.0])
    p = np.array([mid, mid]) + np.array([[0.0, 0.3], [0.0, -0.3]])
    plain = MapMatcher(net).match(p)
    assert plain.lane[0] == west and plain.lane[1] == east  # nearest only
    r = MapMatcher(net).match(p, heading=np.array([0.0, np.pi]))
    assert r.lane[0] == east and r.lane[1] == west
