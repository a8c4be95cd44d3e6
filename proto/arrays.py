"""In-platform array contracts: what ingest hands to fusion and control, in the local frame.

These are numpy structured dtypes, not wire messages: SI units, the map's local metric frame
(east/north metres, see ``roadnet.frames``), math headings (radians counter-clockwise from east),
times as float seconds since the Unix epoch on the platform's clock (a sender's clock offset
already removed by ingest).
"""

from __future__ import annotations

import numpy as np

#: One row per roadside detection, shape (N,).
#: t s; sensor = ingest's index of the sensor (stable within a process); local_id = the sensor's
#: own object id; x, y m; vx, vy m/s (NaN when the sensor gives no velocity); length, width m
#: (0 unknown); cls = proto ObjectClass value; confidence 0..1; r_xx, r_xy, r_yy = position
#: measurement covariance m^2 (NaN when the sensor does not say; fusion then uses its default).
DETECTION_DTYPE = np.dtype(
    [
        ("t", np.float64),
        ("sensor", np.int32),
        ("local_id", np.uint32),
        ("x", np.float64),
        ("y", np.float64),
        ("vx", np.float64),
        ("vy", np.float64),
        ("length", np.float32),
        ("width", np.float32),
        ("cls", np.uint8),
        ("confidence", np.float32),
        ("r_xx", np.float32),
        ("r_xy", np.float32),
        ("r_yy", np.float32),
    ]
)

#: One row per connected-vehicle report (BSM) in the local frame, shape (N,).
#: vehicle_id is the (pseudonymous) id; t s; x, y m; vx, vy, speed m/s; heading rad (math);
#: accel m/s^2; length, width m; cls ObjectClass; bus_line; schedule_dev s (+ = late).
VEHICLE_REPORT_DTYPE = np.dtype(
    [
        ("vehicle_id", "U40"),
        ("t", np.float64),
        ("x", np.float64),
        ("y", np.float64),
        ("vx", np.float64),
        ("vy", np.float64),
        ("speed", np.float64),
        ("heading", np.float64),
        ("accel", np.float64),
        ("length", np.float32),
        ("width", np.float32),
        ("cls", np.uint8),
        ("bus_line", "U16"),
        ("schedule_dev", np.float64),
    ]
)


#: The state of every lane of the map at one instant, shape (L,), indexed by roadnet lane index.
#: count vehicles on the lane; halting = of them slower than 0.5 m/s; queue_m = metres from the
#: stop line back to the farthest halting vehicle of the queue touching it; queue_veh = vehicles
#: in that queue; mean_speed m/s (NaN when empty); occupancy 0..1 (vehicle length on the lane /
#: lane length); flow veh/s over the stop line (smoothed); gap_s = seconds since a vehicle last
#: entered the 30 m before the stop line (detector gap, inf when none seen); density veh/m.
LANE_STATE_DTYPE = np.dtype(
    [
        ("count", np.int32),
        ("halting", np.int32),
        ("queue_m", np.float64),
        ("queue_veh", np.int32),
        ("mean_speed", np.float64),
        ("occupancy", np.float64),
        ("flow", np.float64),
        ("gap_s", np.float64),
        ("density", np.float64),
    ]
)


def empty_lane_states(n_lanes: int) -> np.ndarray:
    """Lane states of an empty road, shape (n_lanes,)."""
    a = np.zeros(n_lanes, dtype=LANE_STATE_DTYPE)
    a["mean_speed"] = np.nan
    a["gap_s"] = np.inf
    return a


def empty_detections(n: int = 0) -> np.ndarray:
    """An array of ``n`` detections with NaN velocity and covariance, shape (n,)."""
    a = np.zeros(n, dtype=DETECTION_DTYPE)
    for c in ("vx", "vy", "r_xx", "r_xy", "r_yy"):
        a[c] = np.nan
    a["confidence"] = 1.0
    return a
