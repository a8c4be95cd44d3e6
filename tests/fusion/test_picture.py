"""The traffic picture on a generated grid map: lane states, queues, edges and events."""

from __future__ import annotations

import numpy as np
import pytest

from fusion import Picture, PictureState, link_states
from fusion.events import PEDESTRIAN as PED_CONFLICT
from fusion.events import RED_LIGHT, SPEEDING, STOPPED, WRONG_WAY
from fusion.tracks import TRACK_DTYPE
from proto import pb
from roadnet import RoadNetwork, grid

CAR = pb.OBJECT_CLASS_CAR
PEDESTRIAN = pb.OBJECT_CLASS_PEDESTRIAN
DT = 0.1


@pytest.fixture(scope="module")
def net() -> RoadNetwork:
    return grid(2, 2)


def tracks(
    xy: list[tuple[float, float]], v: list[tuple[float, float]], cls: int = CAR, first_id: int = 1
) -> np.ndarray:
    out = np.zeros(len(xy), dtype=TRACK_DTYPE)
    out["track_id"] = np.arange(first_id, first_id + len(xy))
    out["x"], out["y"] = np.array(xy, dtype=float).reshape(-1, 2).T
    out["vx"], out["vy"] = np.array(v, dtype=float).reshape(-1, 2).T
    out["cls"] = cls
    out["length"] = 4.5
    return out


def lane(net: RoadNetwork, lane_id: str) -> int:
    return net.lane_index_of[lane_id]


# the eastbound approach to J0_0 (lane 0): y = -4.8, stop line at x = -7.9
APPROACH = "W0-J0_0_0"
STOP_X, Y0 = -7.9, -4.8


def test_queue_count_speed_and_occupancy(net: RoadNetwork) -> None:
    # five cars standing back from the stop line 7 m apart, one car coming at 10 m/s
    xs = [STOP_X - 3.0 - 7.0 * k for k in range(5)] + [STOP_X - 80.0]
    vs = [(0.0, 0.0)] * 5 + [(10.0, 0.0)]
    pic = Picture(net)
    st = pic.update(0.0, tracks([(x, Y0) for x in xs], vs))
    row = st.lanes[lane(net, APPROACH)]
    assert row["count"] == 6 and row["halting"] == 5 and row["queue_veh"] == 5
    assert row["queue_m"] == pytest.approx(3.0 + 28.0 + 2.25)
    assert row["mean_speed"] == pytest.approx(10.0 / 6)
    assert row["occupancy"] == pytest.approx(6 * 4.5 / net.lane_length[lane(net, APPROACH)])
    assert st.queued.tolist() == [True] * 5 + [False]
    others = np.delete(st.lanes, lane(net, APPROACH))
    assert others["count"].sum() == 0 and np.isnan(others["mean_speed"]).all()


@pytest.mark.parametrize(
    ("xs", "want_veh"),
    [([STOP_X - 30.0, STOP_X - 37.0], 0), ([STOP_X - 3.0, STOP_X - 30.0], 1), ([STOP_X - 3.0, STOP_X - 10.0], 2)],
    ids=["away-from-the-line", "gap-breaks-the-queue", "two-in-a-row"],
)
def test_what_counts_as_a_queue(net: RoadNetwork, xs: list[float], want_veh: int) -> None:
    st = Picture(net).update(0.0, tracks([(x, Y0) for x in xs], [(0.0, 0.0)] * len(xs)))
    assert st.lanes[lane(net, APPROACH)]["queue_veh"] == want_veh


def _drive(
    pic: Picture,
    start: tuple[float, float],
    v: tuple[float, float],
    ticks: int,
    signals: np.ndarray | None = None,
    cls: int = CAR,
) -> list[PictureState]:
    states = []
    for k in range(ticks):
        p = (start[0] + v[0] * k * DT, start[1] + v[1] * k * DT)
        states.append(pic.update(k * DT, tracks([p], [v], cls=cls), signals))
    return states


def _all(states: list[PictureState], kind: int) -> np.ndarray:
    ev = np.concatenate([s.events for s in states])
    out: np.ndarray = ev[ev["kind"] == kind]
    return out


@pytest.mark.parametrize(("phase", "violation"), [(0, False), (2, True), (1, False)], ids=["green", "red", "amber"])
def test_red_light_violation_and_flow(net: RoadNetwork, phase: int, violation: bool) -> None:
    signals = link_states(net, {t: net.phase_state[phase] for t in net.tls_ids})
    pic = Picture(net)
    states = _drive(pic, (STOP_X - 20.0, Y0), (10.0, 0.0), 40, signals)
    assert len(_all(states, RED_LIGHT)) == int(violation)
    assert states[-1].lanes[lane(net, APPROACH)]["flow"] > 0.0
    assert np.isfinite(states[-1].lanes[lane(net, APPROACH)]["gap_s"])


def test_speeding(net: RoadNetwork) -> None:
    states = _drive(Picture(net), (-190.0, Y0), (20.0, 0.0), 50)
    fast = _all(states, SPEEDING)
    assert len(fast) == 1 and fast["t"][0] == pytest.approx(3.0) and fast["value"][0] == pytest.approx(20.0)
    assert len(_all(_drive(Picture(net), (-190.0, Y0), (13.0, 0.0), 50), SPEEDING)) == 0


@pytest.mark.parametrize("y", [Y0, -1.6], ids=["outer-lane", "inner-lane"])
def test_wrong_way_on_a_two_way_road(net: RoadNetwork, y: float) -> None:
    # westbound in the eastbound lanes
    states = _drive(Picture(net), (-30.0, y), (-8.0, 0.0), 40)
    wrong = _all(states, WRONG_WAY)
    assert len(wrong) == 1 and wrong["t"][0] == pytest.approx(2.0)
    # the right way in the westbound lanes is fine
    assert len(_all(_drive(Picture(net), (-30.0, -y), (-8.0, 0.0), 40), WRONG_WAY)) == 0


def test_stopped_vehicle_but_not_a_queue_or_a_bus_stop(net: RoadNetwork) -> None:
    pic = Picture(net)
    blocked = (STOP_X - 100.0, Y0)  # mid-block, nothing in front
    queued = (STOP_X - 3.0, 200.0 + Y0)  # at the head of the eastbound approach to J0_1
    bay = net.stop_lane[0]
    s_mid = 0.5 * (net.stop_start[0] + net.stop_end[0])
    shape = net.lane_shape(int(bay))
    d = (shape[-1] - shape[0]) / np.linalg.norm(shape[-1] - shape[0])
    at_stop = tuple(shape[0] + d * s_mid)
    found = []
    for k in range(int(70 / 0.5)):
        t = k * 0.5
        tab = tracks([blocked, queued, at_stop], [(0.0, 0.0)] * 3)
        found.append(pic.update(t, tab).events)
    ev = np.concatenate(found)
    stopped = ev[ev["kind"] == STOPPED]
    assert stopped["track_id"].tolist() == [1]
    assert stopped["t"][0] == pytest.approx(60.0)


def test_pedestrian_in_a_green_vehicle_path(net: RoadNetwork) -> None:
    # standing in the middle of J0_0 on the eastbound through path (y = -4.8)
    where = (0.0, -4.8)
    for phase, want in ((0, 1), (3, 0)):
        signals = link_states(net, {t: net.phase_state[phase] for t in net.tls_ids})
        pic = Picture(net)
        states = [pic.update(k * DT, tracks([where], [(0.0, 0.0)], cls=PEDESTRIAN), signals) for k in range(10)]
        assert len(_all(states, PED_CONFLICT)) == want
        assert states[-1].lane[0] == -1  # pedestrians are not vehicles on lanes


def test_edge_travel_time_and_congestion(net: RoadNetwork) -> None:
    pic = Picture(net)
    e = net.lane_edge[lane(net, APPROACH)]
    free = pic.free_time[e]
    crawl = [(STOP_X - 20.0 - 8.0 * k, Y0) for k in range(10)]
    st = None
    for k in range(600):
        st = pic.update(k * 0.5, tracks(crawl, [(1.0, 0.0)] * 10))
    assert st is not None
    assert st.edges["travel_time"][e] == pytest.approx(net.lane_length[0] / 1.0, rel=0.05)
    assert st.edges["congestion"][e] == 3
    assert st.edges["congestion"][np.arange(len(net.edge_ids)) != e].max() == 0
    assert st.edges["free_time"][e] == pytest.approx(free)


def test_link_states_checks_its_input(net: RoadNetwork) -> None:
    with pytest.raises(ValueError, match="16 links"):
        link_states(net, {"J0_0": "GGr"})
    with pytest.raises(ValueError, match="not in the map"):
        link_states(net, {"nowhere": "G"})
