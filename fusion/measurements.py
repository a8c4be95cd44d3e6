"""Measurement columns of one tick, from roadside detections or connected-vehicle reports.

All sensors' frames of a tick are handled together (merged scans): each measurement keeps its
own time as ``tau`` = measurement time minus tick time, and its frame as ``scan`` (one scan per
distinct ``(sensor, t)``), so that association lets a track take at most one measurement per
scan and the update relates the measurement to the tick-time state by ``H(tau)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import BoolArray, FloatArray, IntArray, StructArray
from fusion.indexing import amax, amin, compact
from fusion.tracks import N_CLASSES


@dataclass(frozen=True)
class NoiseDefaults:
    """Measurement noise used where an input does not state its own.

    Parameters
    ----------
    position_var
        Detection position variance per axis, m^2.
    velocity_var
        Detection velocity variance per axis, (m/s)^2.
    report_position_var
        Connected-vehicle (BSM) position variance per axis, m^2.
    report_velocity_var
        Connected-vehicle velocity variance per axis, (m/s)^2.
    detection_weight
        Vote weight of a detection per unit of its confidence.
    report_weight
        Vote weight of one report (reports override votes anyway; this counts for their size).
    """

    position_var: float = 1.0
    velocity_var: float = 1.0
    report_position_var: float = 0.25
    report_velocity_var: float = 0.09
    detection_weight: float = 1.0
    report_weight: float = 10.0


@dataclass(frozen=True)
class Measurements:
    """Columns of ``m`` measurements, component-first (each component one contiguous row).

    Attributes
    ----------
    z
        (2, m) positions ``[x; y]``, m.
    R
        (3, m) position covariances ``[xx; xy; yy]``, m^2.
    tau
        (m,) measurement time minus tick time, s.
    v
        (2, m) velocities ``[vx; vy]`` m/s, NaN where unknown.
    Rv
        (3, m) velocity covariances ``[xx; xy; yy]``, (m/s)^2.
    scan
        (m,) int64 scan index: one per distinct (sensor, time) frame.
    cls
        (m,) uint8 ObjectClass, 0 unknown.
    weight
        (m,) float32 vote weight (confidence).
    length, width
        (m,) float32 sizes m, 0 unknown.
    """

    z: FloatArray
    R: FloatArray
    tau: FloatArray
    v: FloatArray
    Rv: FloatArray
    scan: IntArray
    cls: npt.NDArray[np.uint8]
    weight: npt.NDArray[np.float32]
    length: npt.NDArray[np.float32]
    width: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.tau)

    def take(self, idx: IntArray) -> Measurements:
        """The measurements at integer positions ``idx``, (k,)."""
        return Measurements(
            self.z[:, idx],
            self.R[:, idx],
            self.tau[idx],
            self.v[:, idx],
            self.Rv[:, idx],
            self.scan[idx],
            self.cls[idx],
            self.weight[idx],
            self.length[idx],
            self.width[idx],
        )


def _known_class(cls: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """ObjectClass values, with numbers beyond the contract's as unknown (0)."""
    return np.where(cls < N_CLASSES, cls, 0).astype(np.uint8)


def _iso(var: float, m: int) -> FloatArray:
    """(3, m) packed covariances ``var * I``."""
    out = np.zeros((3, m))
    out[0] = out[2] = var
    return out


def valid_detections(det: StructArray) -> BoolArray:
    """Rows of a ``DETECTION_DTYPE`` array that can be used: finite t, x, y. Shape (N,)."""
    return np.asarray(np.isfinite(det["t"]) & np.isfinite(det["x"]) & np.isfinite(det["y"]))


def scan_index(sensor: npt.ArrayLike, t: FloatArray) -> IntArray:
    """Compact index (0 .. S-1) of each row's frame, a frame being a distinct (sensor, time).

    Parameters
    ----------
    sensor
        (m,) sensor numbers.
    t
        (m,) times s; equal to the microsecond within one frame.

    Returns
    -------
    scan
        (m,) int64.
    """
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64)
    rank, n_sensors = compact(sensor)
    if amin(t) == amax(t):  # every frame at one time: the common, synchronous case
        return rank
    us = np.rint((t - amin(t)) * 1e6).astype(np.int64)
    return compact(us * n_sensors + rank)[0]


def from_detections(det: StructArray, t: float, noise: NoiseDefaults) -> Measurements:
    """Measurements from a ``DETECTION_DTYPE`` array (all rows valid), shape (m,).

    A row's own covariance ``r_xx, r_xy, r_yy`` is used when finite and positive definite,
    else ``noise.position_var``. Velocities with a NaN component count as unknown (both NaN).
    Sizes that are not positive count as unknown (0); confidence is clipped to 0..1.
    """
    m = len(det)
    z = np.empty((2, m))
    z[0] = det["x"]
    z[1] = det["y"]
    R = np.empty((3, m))
    R[0] = det["r_xx"]
    R[1] = det["r_xy"]
    R[2] = det["r_yy"]
    own = (R[0] > 0) & (R[0] * R[2] - R[1] * R[1] > 0)  # False where any is NaN
    if not own.all():
        R[0] = np.where(own, R[0], noise.position_var)
        R[1] = np.where(own, R[1], 0.0)
        R[2] = np.where(own, R[2], noise.position_var)
    v = np.empty((2, m))
    v[0] = det["vx"]
    v[1] = det["vy"]
    v[:, ~(np.isfinite(v[0]) & np.isfinite(v[1]))] = np.nan
    tt = det["t"].astype(np.float64)
    conf = det["confidence"].astype(np.float32)
    conf[~(conf <= 1.0)] = 1.0  # NaN and > 1
    conf[conf < 0.0] = 0.0
    length = det["length"].astype(np.float32)
    length[~(length > 0)] = 0.0
    width = det["width"].astype(np.float32)
    width[~(width > 0)] = 0.0
    return Measurements(
        z=z,
        R=R,
        tau=tt - t,
        v=v,
        Rv=_iso(noise.velocity_var, m),
        scan=scan_index(det["sensor"], tt),
        cls=_known_class(det["cls"]),
        weight=conf * np.float32(noise.detection_weight),
        length=length,
        width=width,
    )


def from_reports(rep: StructArray, t: float, noise: NoiseDefaults) -> Measurements:
    """Measurements from a ``VEHICLE_REPORT_DTYPE`` array (one row per vehicle), shape (m,).

    Each report is its own scan. Velocity comes from ``vx, vy``.
    """
    m = len(rep)
    length = rep["length"].astype(np.float32)
    length[~(length > 0)] = 0.0
    width = rep["width"].astype(np.float32)
    width[~(width > 0)] = 0.0
    return Measurements(
        z=np.stack([rep["x"], rep["y"]]).astype(np.float64),
        R=_iso(noise.report_position_var, m),
        tau=rep["t"].astype(np.float64) - t,
        v=np.stack([rep["vx"], rep["vy"]]).astype(np.float64),
        Rv=_iso(noise.report_velocity_var, m),
        scan=np.arange(m, dtype=np.int64),
        cls=_known_class(rep["cls"]),
        weight=np.full(m, noise.report_weight, dtype=np.float32),
        length=length,
        width=width,
    )
