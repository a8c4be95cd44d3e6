"""Conversions between SI values and the V2X wire units of the contract.

All functions take scalars or arrays and return ``numpy`` arrays (or numpy scalars).
Wire units: 1e-7 degree, 0.02 m/s, 0.0125 degree (heading, clockwise from north),
0.01 m/s^2, centimetres.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

#: Largest speed the 0.02 m/s unit carries (J2735 Speed 0..8190; 8191 = unavailable).
SPEED_MAX_002 = 8190
#: Heading units per full turn (0.0125 degree each).
HEADING_UNITS = 28800


def deg_to_e7(deg: ArrayLike) -> npt.NDArray[np.int32]:
    """Degrees -> 1e-7 degree integers, rounded to nearest."""
    return np.rint(np.asarray(deg, dtype=np.float64) * 1e7).astype(np.int32)


def e7_to_deg(e7: ArrayLike) -> FloatArray:
    """1e-7 degree integers -> degrees."""
    return np.asarray(e7, dtype=np.float64) * 1e-7


def speed_to_002(mps: ArrayLike) -> npt.NDArray[np.uint32]:
    """Speed in m/s (>= 0) -> 0.02 m/s units, clipped to the wire range."""
    v = np.rint(np.asarray(mps, dtype=np.float64) / 0.02)
    return np.clip(v, 0, SPEED_MAX_002).astype(np.uint32)


def speed_from_002(units: ArrayLike) -> FloatArray:
    """0.02 m/s units -> m/s."""
    return np.asarray(units, dtype=np.float64) * 0.02


def compass_to_00125(compass_rad: ArrayLike) -> npt.NDArray[np.uint32]:
    """Compass heading (radians, clockwise from north) -> 0.0125 degree units in [0, 28800)."""
    deg = np.degrees(np.asarray(compass_rad, dtype=np.float64))
    units = np.rint(deg / 0.0125).astype(np.int64) % HEADING_UNITS
    return units.astype(np.uint32)


def compass_from_00125(units: ArrayLike) -> FloatArray:
    """0.0125 degree units -> compass heading in radians, clockwise from north, in [0, 2*pi)."""
    return np.radians(np.asarray(units, dtype=np.float64) * 0.0125)


def accel_to_001(mps2: ArrayLike) -> npt.NDArray[np.int32]:
    """Acceleration in m/s^2 -> 0.01 m/s^2 units, clipped to +-20 m/s^2 (J2735 range)."""
    a = np.rint(np.asarray(mps2, dtype=np.float64) / 0.01)
    return np.clip(a, -2000, 2000).astype(np.int32)


def accel_from_001(units: ArrayLike) -> FloatArray:
    """0.01 m/s^2 units -> m/s^2."""
    return np.asarray(units, dtype=np.float64) * 0.01


def m_to_cm(m: ArrayLike) -> npt.NDArray[np.uint32]:
    """Metres (>= 0) -> centimetres."""
    return np.clip(np.rint(np.asarray(m, dtype=np.float64) * 100.0), 0, 2**31 - 1).astype(np.uint32)


def cm_to_m(cm: ArrayLike) -> FloatArray:
    """Centimetres -> metres."""
    return np.asarray(cm, dtype=np.float64) * 0.01
