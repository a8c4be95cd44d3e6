"""End to end on a grid map: sensors -> tracker -> picture, scored against the truth's picture."""

from __future__ import annotations

import numpy as np

from fusion import Picture, Tracker
from fusion.metrics import gospa, queue_error
from fusion.tracks import TRACK_DTYPE
from roadnet import grid
from tests.fusion.conftest import detections

DT = 0.1


def test_queue_length_error_from_noisy_sensors() -> None:
    net = grid(2, 2)
    rng = np.random.default_rng(5)
    # a queue of 8 cars at J0_0's eastbound approach, closing up; a car arriving behind it
    stop_x, y = -7.9, -4.8
    standing = np.array([[stop_x - 3.0 - 7.5 * k, y] for k in range(8)])
    truth_pic, est_pic = Picture(net), Picture(net)
    tracker = Tracker()
    errors = []
    for k in range(120):
        t = k * DT
        arriving = np.array([[stop_x - 150.0 + 10.0 * t, y]])
        moving_v = np.array([[10.0, 0.0]])
        if arriving[0, 0] > standing[-1, 0] - 7.5:
            arriving[0, 0] = standing[-1, 0] - 7.5
            moving_v[:] = 0.0
        pos = np.vstack([standing, arriving])
        vel = np.vstack([np.zeros_like(standing), moving_v])
        truth = np.zeros(len(pos), dtype=TRACK_DTYPE)
        truth["track_id"] = np.arange(1, len(pos) + 1)
        truth["x"], truth["y"] = pos.T
        truth["vx"], truth["vy"] = vel.T
        truth["cls"], truth["length"] = 1, 4.5
        seen = [detections(t, s, pos + rng.normal(0, sd, pos.shape), sigma=sd) for s, sd in ((0, 0.5), (1, 1.0))]
        tab = tracker.step(t, np.concatenate(seen))
        est = est_pic.update(t, tab)
        ref = truth_pic.update(t, truth)
        if k >= 40:  # after the tracks and their smoothed speeds have settled
            errors.append(queue_error(est.lanes["queue_m"], ref.lanes["queue_m"]))
            assert gospa(pos, np.stack([tab["x"], tab["y"]], axis=1)).distance < 3.0
    err = np.array(errors)
    lane = net.lane_index_of["W0-J0_0_0"]
    assert ref.lanes["queue_veh"][lane] == 9
    # within a metre most of the time; one car's length while the last car's stop is smoothed
    assert np.median(err[:, lane]) < 1.0 and np.percentile(err[:, lane], 95) < 8.0
    assert np.delete(err, lane, axis=1).max() == 0.0
