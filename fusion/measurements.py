"""Measurement columns of one tick, from roadside detections or connected-vehicle reports.

All sensors' frames of a tick are handled together (merged scans): each measurement keeps its
own time as ``tau`` = measurement time minus tick time, and its frame as ``scan`` (one scan per
distinct ``(sensor, t)``), so that association lets a track take at most one measurement per
scan and the update relates the measurement to the tick-time state by ``H(tau)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import FloatArray, IntArray, StructArray
from fusion.indexing import amax, amin, compact, count
from fusion.tracks import N_CLASSES, grouped
from proto.arrays import DETECTION_DTYPE


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

    # Summaries several steps of a tick ask for, computed once. They are bounds: exact for
    # measurements built from inputs, and a subset (take) keeps its parent's.

    @cached_property
    def tau_range(self) -> tuple[float, float]:
        """``(lo, hi)`` with ``lo <= tau <= hi`` for every measurement, s ((0, 0) when empty)."""
        if len(self.tau) == 0:
            return 0.0, 0.0
        return float(amin(self.tau)), float(amax(self.tau))

    @cached_property
    def r_max(self) -> float:
        """At least the largest position variance on either axis, m^2 (0 when empty)."""
        return float(amax(self.R[0:3:2])) if len(self.tau) else 0.0

    @cached_property
    def with_velocity(self) -> bool:
        """False when no measurement has a known velocity."""
        return count(np.isfinite(self.v[0])) > 0

    def take(self, idx: IntArray) -> Measurements:
        """The measurements at integer positions ``idx``, (k,)."""
        k = len(idx)
        velocity = self.with_velocity
        sub = Measurements(
            self.z.take(idx, axis=1),  # cheaper than z[:, idx]
            self.R.take(idx, axis=1),
            self.tau[idx],
            self.v.take(idx, axis=1) if velocity else _constant(np.nan, k)[0:2],
            self.Rv.take(idx, axis=1),
            self.scan[idx],
            self.cls[idx],
            self.weight[idx],
            self.length[idx],
            self.width[idx],
        )
        _summaries(sub, self.tau_range, self.r_max, velocity)
        return sub


def _summaries(meas: Measurements, tau_range: tuple[float, float], r_max: float, with_velocity: bool) -> None:
    """Set the cached summaries of ``meas`` (bounds already known)."""
    cache = meas.__dict__
    cache["tau_range"] = tau_range
    cache["r_max"] = r_max
    cache["with_velocity"] = with_velocity


def _known_class(cls: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """ObjectClass values, with numbers beyond the contract's as unknown (0)."""
    if len(cls) and amax(cls) >= N_CLASSES:
        return np.where(cls < N_CLASSES, cls, 0).astype(np.uint8)
    return cls.astype(np.uint8)


def _positive(a: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """A contiguous copy of ``a`` with values that are not positive (NaN too) as 0."""
    return _clip_positive(a.astype(np.float32))


def _clip_positive(out: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``out`` (any shape) with values that are not positive (NaN too) set to 0, in place."""
    if out.size and amin(out) >= 0.0:  # nothing to clip (a NaN compares false)
        return out
    return np.fmax(out, np.float32(0.0), out=out)


#: ``DETECTION_DTYPE`` with its runs of same-typed columns as blocks (one field access and one
#: copy each): x, y, vx, vy; length, width; r_xx, r_xy, r_yy
_DETECTION_BLOCKS = grouped(
    DETECTION_DTYPE,
    {
        "t": ("t",),
        "sensor": ("sensor",),
        "xyv": ("x", "y", "vx", "vy"),
        "size": ("length", "width"),
        "cls": ("cls",),
        "confidence": ("confidence",),
        "r": ("r_xx", "r_xy", "r_yy"),
    },
)


def _as_detections(det: StructArray) -> StructArray:
    """Rows of another structured dtype with the detection fields as ``DETECTION_DTYPE``."""
    out = np.empty(len(det), dtype=DETECTION_DTYPE)
    for name in DETECTION_DTYPE.names or ():
        out[name] = det[name]
    return out


#: value -> (3, k) read-only table of that value, grown as needed
_TABLES: dict[float, FloatArray] = {}


def _constant(value: float, m: int) -> FloatArray:
    """(3, m) read-only array of ``value`` (a view of a shared table)."""
    table = _TABLES.get(value)
    if table is None or table.shape[1] < m:
        table = np.full((3, max(m, 2 * (0 if table is None else table.shape[1]), 256)), value)
        table.flags.writeable = False
        _TABLES[value] = table
    return table[:, :m]


#: variance -> (3, k) read-only packed ``var * I``, grown as needed
_ISO: dict[float, FloatArray] = {}


def _iso(var: float, m: int) -> FloatArray:
    """(3, m) packed covariances ``var * I`` (read-only; a view of a shared table)."""
    table = _ISO.get(var)
    if table is None or table.shape[1] < m:
        table = np.zeros((3, max(m, 2 * (0 if table is None else table.shape[1]), 256)))
        table[0] = table[2] = var
        table.flags.writeable = False
        _ISO[var] = table
    return table[:, :m]


def scan_index(sensor: npt.NDArray[np.integer], tau: FloatArray, lo: float, hi: float) -> IntArray:
    """Label of each row's frame, a frame being a distinct (sensor, time).

    Labels are non-negative, equal within a frame and distinct between frames, and at most a
    few times the number of rows: the sensor numbers themselves when all frames share one time
    and the numbers are small, else 0 .. S-1.

    Parameters
    ----------
    sensor
        (m,) sensor numbers.
    tau
        (m,) times s (any origin); equal to the microsecond within one frame.
    lo, hi
        Smallest and largest of ``tau``.

    Returns
    -------
    scan
        (m,) int64.
    """
    m = len(tau)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    if lo == hi:  # every frame at one time: the common, synchronous case
        scan = sensor.astype(np.int64)
        if amin(scan) >= 0 and amax(scan) <= 4 * m + 64:
            return scan
        return compact(scan)[0]
    rank, n_sensors = compact(sensor)
    us = np.rint((tau - lo) * 1e6).astype(np.int64)
    return compact(us * n_sensors + rank)[0]


def from_detections(det: StructArray, t: float, noise: NoiseDefaults) -> tuple[Measurements, int]:
    """Measurements from a ``DETECTION_DTYPE`` array, and how many rows were left out.

    Rows without finite ``t, x, y`` cannot be used and are left out. A row's own covariance
    ``r_xx, r_xy, r_yy`` is used when finite and positive definite, else
    ``noise.position_var``. Velocities with a NaN component count as unknown (both NaN).
    Sizes that are not positive count as unknown (0); confidence is clipped to 0..1.

    Returns
    -------
    meas
        The ``m`` measurements of the usable rows, in order.
    invalid
        Number of rows left out.
    """
    if det.dtype != DETECTION_DTYPE:
        det = _as_detections(det)
    m = len(det)
    g = det.view(_DETECTION_BLOCKS)
    block = np.empty((5, m))  # tau, x, y, vx, vy
    block[0] = g["t"]
    block[0] -= t
    block[1:5] = g["xyv"].T
    finite = np.isfinite(block[0:3])
    if count(finite) < finite.size:
        ok = finite[0] & finite[1] & finite[2]
        return from_detections(det[ok], t, noise)[0], m - int(np.count_nonzero(ok))
    finite = np.isfinite(block[3:5])
    known = count(finite[0] & finite[1])
    with_velocity = known > 0
    if not with_velocity:  # unknown velocities: both components NaN
        block[3:5] = np.nan
    elif known < m:
        block[3:5] = np.where(finite[0] & finite[1], block[3:5], np.nan)
    R = np.empty((3, m))
    R[:] = g["r"].T
    det_r = R[0] * R[2]
    det_r -= R[1] * R[1]
    if m and not amin(np.minimum(R[0], det_r)) > 0:  # not all positive definite (NaN included)
        own = (R[0] > 0) & (det_r > 0)
        R[0] = np.where(own, R[0], noise.position_var)
        R[1] = np.where(own, R[1], 0.0)
        R[2] = np.where(own, R[2], noise.position_var)
    conf = g["confidence"].astype(np.float32)
    if m and not (amin(conf) >= 0.0 and amax(conf) <= 1.0):  # NaN compares false
        np.fmin(conf, np.float32(1.0), out=conf)  # NaN -> 1
        np.maximum(conf, np.float32(0.0), out=conf)
    if noise.detection_weight != 1.0:
        conf *= np.float32(noise.detection_weight)
    size = np.empty((2, m), dtype=np.float32)  # length, width
    size[:] = g["size"].T
    _clip_positive(size)
    lo, hi = (float(amin(block[0])), float(amax(block[0]))) if m else (0.0, 0.0)
    meas = Measurements(
        z=block[1:3],
        R=R,
        tau=block[0],
        v=block[3:5],
        Rv=_iso(noise.velocity_var, m),
        scan=scan_index(g["sensor"], block[0], lo, hi),
        cls=_known_class(g["cls"]),
        weight=conf,
        length=size[0],
        width=size[1],
    )
    _summaries(meas, (lo, hi), float(amax(np.maximum(R[0], R[2]))) if m else 0.0, with_velocity)
    return meas, 0


def from_reports(rep: StructArray, t: float, noise: NoiseDefaults) -> Measurements:
    """Measurements from a ``VEHICLE_REPORT_DTYPE`` array (one row per vehicle), shape (m,).

    Each report is its own scan. Velocity comes from ``vx, vy``.
    """
    m = len(rep)
    return Measurements(
        z=np.stack([rep["x"], rep["y"]]).astype(np.float64),
        R=_iso(noise.report_position_var, m),
        tau=rep["t"].astype(np.float64) - t,
        v=np.stack([rep["vx"], rep["vy"]]).astype(np.float64),
        Rv=_iso(noise.report_velocity_var, m),
        scan=np.arange(m, dtype=np.int64),
        cls=_known_class(rep["cls"]),
        weight=np.full(m, noise.report_weight, dtype=np.float32),
        length=_positive(rep["length"]),
        width=_positive(rep["width"]),
    )
