"""Helpers and fakes for the fusion tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from fusion.tracks import TrackStore
from proto.arrays import VEHICLE_REPORT_DTYPE, empty_detections


def detections(
    t: float,
    sensor: Sequence[int] | int,
    xy: npt.ArrayLike,
    *,
    sigma: float = 0.5,
    cls: int = 0,
    confidence: float = 1.0,
    length: float = 0.0,
    width: float = 0.0,
) -> npt.NDArray[np.void]:
    """``DETECTION_DTYPE`` rows at positions ``xy`` (k, 2), with covariance ``sigma^2 I``."""
    p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    out = empty_detections(len(p))
    out["t"] = t
    out["sensor"] = sensor
    out["x"] = p[:, 0]
    out["y"] = p[:, 1]
    out["r_xx"] = out["r_yy"] = sigma**2
    out["r_xy"] = 0.0
    out["cls"] = cls
    out["confidence"] = confidence
    out["length"] = length
    out["width"] = width
    return out


def report(
    t: float,
    vehicle_id: str,
    xy: tuple[float, float],
    v: tuple[float, float],
    *,
    cls: int = 1,
    bus_line: str = "",
    length: float = 4.5,
    width: float = 1.8,
) -> npt.NDArray[np.void]:
    """One ``VEHICLE_REPORT_DTYPE`` row."""
    r = np.zeros(1, dtype=VEHICLE_REPORT_DTYPE)
    r["vehicle_id"] = vehicle_id
    r["t"] = t
    r["x"], r["y"] = xy
    r["vx"], r["vy"] = v
    r["speed"] = np.hypot(*v)
    r["heading"] = np.arctan2(v[1], v[0])
    r["cls"] = cls
    r["bus_line"] = bus_line
    r["length"] = length
    r["width"] = width
    return r


class NeverDelete:
    """A deleter that keeps every confirmed track."""

    def delete(self, store: TrackStore) -> npt.NDArray[np.bool_]:
        return np.zeros(store.n, dtype=np.bool_)


class RecordingPredictor:
    """A predictor that records the steps it is asked for and moves nothing."""

    def __init__(self) -> None:
        self.steps: list[float] = []

    def predict(self, x: npt.NDArray[np.float64], P: npt.NDArray[np.float64], dt: float | npt.ArrayLike) -> None:
        d = np.asarray(dt, dtype=np.float64)
        if d.ndim == 0:
            self.steps.append(float(d))
