"""From the devices' local-frame arrays to the wire messages (real-time mode only).

WGS84 and compass headings appear only here, at the edge: one projection call per tick for all
rows, then the contract's vectorised codecs (:func:`proto.array_to_perception`,
:func:`proto.array_to_bsms`, :func:`proto.array_to_bsm_batch`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from proto import BSM_DTYPE, PERCEPTION_DTYPE, array_to_perception, pb
from roadnet.frames import Frame
from sim.devices.sensors import Delivered
from sim.devices.vehicles import wire_id


def perception_frames(d: Delivered, sensor_ids: list[str], frame: Frame) -> list[tuple[int, pb.PerceptionFrame]]:
    """One :class:`pb.PerceptionFrame` per delivered frame, as (sensor index, message).

    Positions go to WGS84, velocities to speed and compass heading; the covariance travels in
    the local east/north frame as the contract says.
    """
    det = d.detections
    n = len(det)
    arr = np.zeros(n, dtype=PERCEPTION_DTYPE)
    if n:
        lat, lon = frame.to_wgs84(det["x"], det["y"])
        arr["lat"], arr["lon"] = lat, lon
        vx = np.nan_to_num(det["vx"])
        vy = np.nan_to_num(det["vy"])
        arr["speed"] = np.hypot(vx, vy)
        arr["heading"] = frame.math_to_compass(np.arctan2(vy, vx))
        for c in ("local_id", "length", "width", "cls", "confidence"):
            arr[c] = det[c]
        arr["cov_ee"] = det["r_xx"]
        arr["cov_en"] = det["r_xy"]
        arr["cov_nn"] = det["r_yy"]
    out = []
    off = d.offsets
    for f in range(len(d.frame_sensor)):
        s = int(d.frame_sensor[f])
        out.append((s, array_to_perception(arr[off[f] : off[f + 1]], sensor_ids[s], int(d.frame_ns[f]))))
    return out


def wire_ids(ids: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    """(N,) ids made topic-safe (:func:`~sim.devices.vehicles.wire_id`), converting only those that need it."""
    out = np.asarray(ids, dtype="<U40").copy()
    bad = np.zeros(len(out), dtype=np.bool_)
    for ch in ("/", "+", "#", " ", "\t", "\x00"):
        bad |= np.char.find(out, ch) >= 0
    for k in np.flatnonzero(bad).tolist():
        out[k] = wire_id(str(out[k]))
    return out


def bsm_rows(reports: npt.NDArray[np.void], frame: Frame) -> npt.NDArray[np.void]:
    """:data:`proto.arrays.VEHICLE_REPORT_DTYPE` rows -> :data:`proto.BSM_DTYPE` rows (WGS84, compass)."""
    n = len(reports)
    out = np.zeros(n, dtype=BSM_DTYPE)
    if n == 0:
        return out
    lat, lon = frame.to_wgs84(reports["x"], reports["y"])
    out["vehicle_id"] = wire_ids(reports["vehicle_id"])
    out["t_ns"] = np.rint(reports["t"] * 1e9).astype(np.int64)
    out["lat"], out["lon"] = lat, lon
    out["speed"] = reports["speed"]
    out["heading"] = frame.math_to_compass(reports["heading"])
    for c in ("accel", "cls", "bus_line", "schedule_dev", "length", "width"):
        out[c] = reports[c]
    return out
