"""Routing around a closed edge, route advice on an incident, nearest free parking."""

from __future__ import annotations

import numpy as np
import pytest

from control.parking import ParkingGuide
from control.routing import Router, closed_lanes
from proto import empty_lane_states, pb
from roadnet import RoadNetwork
from tests.control.test_tsp import bus

T0 = 1000.0


def test_shortest_route_avoids_a_closed_edge(grid_net: RoadNetwork) -> None:
    r = Router(grid_net)
    lanes = empty_lane_states(len(grid_net.lane_ids))
    route, t_free = r.best_route("W1-J0_1", "J2_1-E1", r.edge_times(lanes))
    assert route == ["W1-J0_1", "J0_1-J1_1", "J1_1-J2_1", "J2_1-E1"]
    ev = pb.Event(event_id="inc1", kind=pb.EVENT_KIND_INCIDENT, closed_lanes=["J1_1-J2_1_0", "J1_1-J2_1_1"])
    closed = closed_lanes(grid_net, [ev], T0)
    tt = r.edge_times(lanes, closed)
    assert np.isinf(tt[grid_net.edge_index_of["J1_1-J2_1"]])
    detour, t_detour = r.best_route("W1-J0_1", "J2_1-E1", tt)
    assert "J1_1-J2_1" not in detour and detour[0] == "W1-J0_1" and detour[-1] == "J2_1-E1"
    assert t_detour > t_free


def test_one_closed_lane_of_two_doubles_the_time(grid_net: RoadNetwork) -> None:
    r = Router(grid_net)
    lanes = empty_lane_states(len(grid_net.lane_ids))
    e = grid_net.edge_index_of["J1_1-J2_1"]
    free = r.edge_times(lanes)[e]
    closed = np.zeros(len(grid_net.lane_ids), dtype=np.bool_)
    closed[grid_net.lane_index_of["J1_1-J2_1_0"]] = True
    assert r.edge_times(lanes, closed)[e] == pytest.approx(2 * free)


def test_a_robotaxi_on_a_blocked_route_is_diverted(grid_net: RoadNetwork) -> None:
    r = Router(grid_net)
    r.register_trip("taxi1", "J2_1-E1", ["W1-J0_1", "J0_1-J1_1", "J1_1-J2_1", "J2_1-E1"])
    taxi = bus(grid_net, "W1-J0_1_0", 100.0, 10.0, 0.0, vid="taxi1")
    taxi["cls"] = 4
    lanes = empty_lane_states(len(grid_net.lane_ids))
    assert r.advisories(T0, taxi, r.edge_times(lanes)) == []  # its route is the best: no advice
    ev = pb.Event(event_id="inc1", kind=pb.EVENT_KIND_INCIDENT, closed_lanes=["J1_1-J2_1_0", "J1_1-J2_1_1"])
    tt = r.edge_times(lanes, closed_lanes(grid_net, [ev], T0))
    advs = r.advisories(T0 + 60, taxi, tt)
    assert len(advs) == 1
    ra = advs[0].route
    assert ra.reason == "incident" and "J1_1-J2_1" not in ra.edge_ids and ra.destination_edge == "J2_1-E1"
    assert ra.edge_ids[0] == "W1-J0_1"


def test_congestion_makes_a_notably_faster_route_worth_advising(grid_net: RoadNetwork) -> None:
    r = Router(grid_net)
    r.register_trip("taxi1", "J2_1-E1", ["W1-J0_1", "J0_1-J1_1", "J1_1-J2_1", "J2_1-E1"])
    taxi = bus(grid_net, "W1-J0_1_0", 100.0, 10.0, 0.0, vid="taxi1")
    lanes = empty_lane_states(len(grid_net.lane_ids))
    jam = grid_net.edge_lanes(grid_net.edge_index_of["J1_1-J2_1"])
    lanes["count"][jam], lanes["mean_speed"][jam], lanes["queue_veh"][jam] = 25, 0.5, 25
    advs = r.advisories(T0, taxi, r.edge_times(lanes))
    assert len(advs) == 1 and advs[0].route.reason == "congestion"
    assert advs[0].route.expected_travel_s < advs[0].route.current_route_s


def _guide(grid_net: RoadNetwork) -> ParkingGuide:
    g = ParkingGuide(grid_net)
    statuses = []
    for i, a in enumerate(grid_net.parking_ids):
        cap = int(grid_net.parking_capacity[i])
        statuses.append(pb.ParkingStatus(area_id=a, measured_ns=round(T0 * 1e9), capacity=cap, occupied=cap))
    g.update(statuses)
    return g


def test_nearest_free_parking_is_ordered_by_distance(grid_net: RoadNetwork) -> None:
    g = _guide(grid_net)
    assert g.nearest_free_xy(np.array([[200.0, 200.0]]), 3, T0)[0][0, 0] == -1  # everything is full
    ids = ["pk_J1_0-J1_1", "pk_J0_1-J0_2", "pk_J2_1-J2_2"]
    g.update([pb.ParkingStatus(area_id=a, measured_ns=round((T0 + 1) * 1e9), capacity=20, occupied=15) for a in ids])
    lat, lon = grid_net.frame.to_wgs84(np.array([200.0]), np.array([150.0]))
    opts = g.nearest_free(float(lat[0]), float(lon[0]), k=3, now=T0 + 2)
    assert opts[0].area_id == "pk_J1_0-J1_1"
    assert [o.distance_m for o in opts] == sorted(o.distance_m for o in opts)
    assert {o.area_id for o in opts} == set(ids) and all(o.free == 5 for o in opts)
    # stale availability is not trusted
    assert g.nearest_free(float(lat[0]), float(lon[0]), k=3, now=T0 + 5000) == []


def test_bay_sensors_override_the_count_and_unknown_areas_are_counted(grid_net: RoadNetwork) -> None:
    g = ParkingGuide(grid_net)
    a = grid_net.parking_ids[0]
    g.update(
        [
            pb.ParkingStatus(
                area_id=a, measured_ns=round(T0 * 1e9), capacity=4, occupied=4, bay_occupied=[True, False, False, True]
            )
        ]
    )
    g.update([pb.ParkingStatus(area_id="lamp-curb-x", measured_ns=round(T0 * 1e9), capacity=3)])
    assert g.free(T0)[0] == 2 and g.unknown_areas == 1


def test_robotaxis_asking_to_park_are_guided(grid_net: RoadNetwork) -> None:
    g = _guide(grid_net)
    g.update([pb.ParkingStatus(area_id="pk_J1_0-J1_1", measured_ns=round(T0 * 1e9), capacity=20, occupied=10)])
    taxi = bus(grid_net, "J0_1-J1_1_1", 50.0, 8.0, 0.0, vid="taxi9")
    taxi["cls"] = 4
    assert g.guidance(T0, taxi) == []
    g.request("taxi9", T0)
    advs = g.guidance(T0, taxi)
    assert len(advs) == 1 and advs[0].parking.area_id == "pk_J1_0-J1_1" and advs[0].parking.free_spaces == 10
    assert g.guidance(T0 + 1, taxi) == []  # same answer: not repeated
