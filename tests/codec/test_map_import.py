"""An intersection configured from what its RSU broadcasts: MAP -> pb.MapData -> RoadNetwork."""

from __future__ import annotations

import numpy as np

from codec import map_import, mapdata
from proto import pb
from roadnet import validate
from tests.codec.conftest import CsaeSample, J2735Sample


def _changsha(csae_samples: list[CsaeSample]) -> list[pb.MapData]:
    frame = next(s for s in csae_samples if s.name == "MAP").frame
    return mapdata.maps_from("csae", frame, "rsu")


def test_changsha_map_builds_a_signalled_junction(csae_samples: list[CsaeSample]) -> None:
    (m,) = _changsha(csae_samples)
    imp = map_import.build_network([m])
    net = imp.network
    assert [e for e in validate(net) if e.severity == "error"] == []
    j = net.junction_ids.index("1-149")
    assert net.junction_type[j] == "traffic_light" and np.allclose(net.junction_xy[j], 0.0, atol=1e-6)

    # lanes: the four described ingress lanes start where the MAP's polylines start
    frame = net.frame
    for lane in m.lanes:
        i = net.lane_ids.index(imp.lanes[lane.lane_id])
        xy = net.lane_shape_xy[net.lane_shape_offsets[i] : net.lane_shape_offsets[i + 1]]
        x0, y0 = frame.to_local(lane.lat_e7[0] * 1e-7, lane.lon_e7[0] * 1e-7)
        assert np.hypot(xy[0, 0] - x0, xy[0, 1] - y0) < 0.5
        assert net.lane_speed[i] == lane.speed_limit_002 * 0.02 and net.lane_width[i] == lane.width_cm / 100
        lat, lon = frame.to_wgs84(xy[:, 0], xy[:, 1])
        assert np.all(np.abs(lat - 28.10) < 0.01) and np.all(np.abs(lon - 112.98) < 0.01)
        # the lane ends at the junction box, short of the centre
        assert 15.0 < np.hypot(*xy[-1]) < 35.0
    # and the four lanes out of it are the other directions of the same roads
    assert sorted(e for e in net.edge_ids if e.startswith("1-149>")) == [
        "1-149>1-1091", "1-149>1-1095", "1-149>1-148", "1-149>1-150"
    ]  # fmt: skip

    # connections keep their manoeuvre and signal group
    (t,) = range(len(net.tls_ids))
    assert net.tls_ids[t] == "1-149" and net.tls_n_links[t] == 9
    assert sorted(imp.signal_links) == [("1-149", g) for g in (1, 2, 3, 5, 6, 7, 13, 14, 15)]
    groups = net.tls_groups(t)
    want = {
        (imp.lanes[c.from_lane], imp.lanes[c.to_lane]): (c.maneuver, imp.signal_links["1-149", c.group_id])
        for c in m.connections
    }
    got = {
        (net.lane_ids[net.conn_from_lane[c]], net.lane_ids[net.conn_to_lane[c]]): (net.conn_dir[c], net.conn_link[c])
        for c in range(len(net.conn_from_lane))
    }
    assert got == want and len(got) == 12
    assert all(net.conn_tls == t) and sorted(set(groups[net.conn_link].tolist())) == list(range(1, 10))


def test_j2735_map_builds_and_validates(j2735_samples: dict[str, J2735Sample]) -> None:
    (m,) = mapdata.maps_from("j2735", j2735_samples["MAP"].uper)
    imp = map_import.build_network([m])
    net = imp.network
    assert [e for e in validate(net) if e.severity == "error"] == []
    assert len(net.conn_from_lane) == len(m.connections) == 17
    assert {lane.lane_id for lane in m.lanes} <= set(imp.lanes)
    # ingress lanes run towards the junction: their last point is the nearest to it
    for lane in m.lanes:
        i = net.lane_ids.index(imp.lanes[lane.lane_id])
        xy = net.lane_shape_xy[net.lane_shape_offsets[i] : net.lane_shape_offsets[i + 1]]
        d = np.hypot(*xy.T)
        assert (d[-1] < d[0]) == lane.ingress


def test_two_maps_share_the_road_between_them() -> None:
    a = pb.MapData(junction_id="1-1", ref_lat_e7=281000000, ref_lon_e7=1129800000)
    b = pb.MapData(junction_id="1-2", ref_lat_e7=281000000, ref_lon_e7=1129810000)  # ~98 m east
    a.lanes.add(lane_id="1-9:1-1:1", lat_e7=[281005000, 281000300], lon_e7=[1129800000] * 2, width_cm=350, ingress=True)
    b.lanes.add(
        lane_id="1-1:1-2:1", lat_e7=[281000000, 281000000], lon_e7=[1129800400, 1129809600], width_cm=350, ingress=True
    )
    a.connections.add(from_lane="1-9:1-1:1", to_lane="1-1:1-2:1", group_id=4, maneuver="l")
    imp = map_import.build_network([a, b])
    net = imp.network
    assert imp.lanes["1-1:1-2:1"] == "1-1>1-2_0"  # the connection runs onto b's own lane
    assert net.junction_type[net.junction_ids.index("1-2")] == "priority"
    assert [e for e in validate(net) if e.severity == "error"] == []
