"""Oracle lane states from vehicle positions: counts, queues from the stop line, flow and detector gap."""

from __future__ import annotations

import numpy as np
import pytest

from control.lanestate import LaneStateEstimator
from roadnet import RoadNetwork


def test_lane_states_from_positions(grid_net: RoadNetwork) -> None:
    est = LaneStateEstimator(grid_net)
    lane = grid_net.lane_index_of["J0_1-J1_1_0"]
    length = float(grid_net.lane_length[lane])
    # three halted at the line (2, 9, 16 m), a moving one at 30 m, a halted one far back (not in the queue)
    dist = np.array([2.0, 9.0, 16.0, 30.0, 120.0])
    speed = np.array([0.0, 0.1, 0.2, 8.0, 0.0])
    ids = np.array([f"v{i}" for i in range(5)])
    st = est.update(100.0, ids, np.full(5, lane), length - dist, speed, np.full(5, 4.5))
    row = st[lane]
    assert row["count"] == 5 and row["halting"] == 4
    assert row["queue_veh"] == 3 and row["queue_m"] == pytest.approx(16.0 + 4.5)
    assert row["mean_speed"] == pytest.approx(8.3 / 5)
    assert row["occupancy"] == pytest.approx(5 * 4.5 / length)
    assert row["gap_s"] == 0.0  # vehicles entered the 30 m zone now
    # one second later the first vehicle has left over the stop line, nobody entered the zone
    other = grid_net.lane_index_of["J1_1-J2_1_0"]
    lanes = np.array([other, lane, lane, lane, lane])
    s = np.array([1.0, length - 8.0, length - 15.0, length - 25.0, length - 120.0])
    st = est.update(101.0, ids, lanes, s, np.array([5.0, 2.0, 1.0, 8.0, 0.0]), np.full(5, 4.5))
    assert est.departures[lane] == 1
    assert st[lane]["flow"] > 0
    assert st[lane]["gap_s"] == pytest.approx(1.0)
    assert st[lane]["count"] == 4 and st[other]["count"] == 1
    # a lane change is not a departure
    lane1 = grid_net.lane_index_of["J0_1-J1_1_1"]
    est.update(102.0, ids[4:], np.array([lane1]), np.array([length - 120.0]), np.array([0.0]), np.array([4.5]))
    assert est.departures[lane] == 1 + 3  # v1..v3 vanished from the picture: counted as gone


def test_empty_ticks(grid_net: RoadNetwork) -> None:
    est = LaneStateEstimator(grid_net)
    e = np.zeros(0)
    st = est.update(1.0, np.zeros(0, dtype="U40"), np.zeros(0, np.int64), e, e, e)
    assert (st["count"] == 0).all() and np.isinf(st["gap_s"]).all()
    st = est.update(2.0, np.zeros(0, dtype="U40"), np.zeros(0, np.int64), e, e, e)
    assert (st["flow"] == 0).all()
