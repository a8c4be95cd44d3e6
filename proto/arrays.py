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


def empty_detections(n: int = 0) -> np.ndarray:
    """An array of ``n`` detections with NaN velocity and covariance, shape (n,)."""
    a = np.zeros(n, dtype=DETECTION_DTYPE)
    for c in ("vx", "vy", "r_xx", "r_xy", "r_yy"):
        a[c] = np.nan
    a["confidence"] = 1.0
    return a
