"""The Intelligent Driver Model (Treiber, Hennecke, Helbing 2000), vectorised, and kinematic helpers.

    a = a_max * [1 - (v / v0)^delta - (s*(v, dv) / s)^2],
    s*(v, dv) = s0 + max(0, v * T + v * dv / (2 * sqrt(a_max * b)))

with v the speed, v0 the desired speed, dv = v - v_leader the approach rate, s the gap (front
bumper to the leader's back), s0 the jam distance (SUMO's minGap), T the time gap (SUMO's tau),
b the comfortable deceleration. Above the desired speed the free-road term is bounded by -b (as
in the improved IDM), so a lower speed limit ahead brakes at most comfortably.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

#: the IDM acceleration exponent
DELTA = 4.0


def free_accel(v: F64, v0: F64, a_max: F64, b: F64, delta: float = DELTA) -> F64:
    """(N,) the free-road term a_max * (1 - (v/v0)^delta), bounded below by -b, m/s^2."""
    ratio = v / np.maximum(v0, 1e-3)
    out: F64 = np.maximum(a_max * (1.0 - ratio**delta), -b)
    return out


def desired_gap(v: F64, dv: F64, s0: F64, T: F64, a_max: F64, b: F64) -> F64:
    """(N,) s*(v, dv), the IDM desired gap, m."""
    out: F64 = s0 + np.maximum(0.0, v * T + v * dv / (2.0 * np.sqrt(a_max * b)))
    return out


def idm_accel(
    v: F64, v0: F64, gap: F64, v_lead: F64, *, s0: F64, T: F64, a_max: F64, b: F64, delta: float = DELTA
) -> F64:
    """(N,) IDM acceleration, m/s^2; ``gap`` = inf means no leader.

    Parameters
    ----------
    v, v0, v_lead
        (N,) speed, desired speed and the leader's speed, m/s.
    gap
        (N,) gap to the leader, m (inf: free road).
    s0, T, a_max, b
        (N,) jam distance m, time gap s, maximum acceleration and comfortable deceleration m/s^2.
    """
    free = free_accel(v, v0, a_max, b, delta)
    s_star = desired_gap(v, v - v_lead, s0, T, a_max, b)
    inter = np.where(np.isfinite(gap), (s_star / np.maximum(gap, 0.01)) ** 2, 0.0)
    out: F64 = free - a_max * inter
    return out


def equilibrium_gap(v: float, v0: float, s0: float, T: float, delta: float = DELTA) -> float:
    """The IDM steady-state gap behind a leader driving at ``v`` (< v0), m.

    s_e = (s0 + v * T) / sqrt(1 - (v / v0)^delta)
    """
    return (s0 + v * T) / float(np.sqrt(1.0 - (v / v0) ** delta))


def time_to_cover(dist: F64, v: F64, a: F64, vmax: F64) -> F64:
    """(N,) seconds to drive ``dist`` m from speed ``v`` accelerating at ``a`` up to ``vmax``."""
    d = np.maximum(dist, 0.0)
    a = np.maximum(a, 0.1)
    vmax = np.maximum(vmax, np.maximum(v, 0.1))
    t1 = (vmax - v) / a
    d1 = (v + vmax) * 0.5 * t1
    t_acc = (np.sqrt(v * v + 2.0 * a * d) - v) / a
    out: F64 = np.where(d <= d1, t_acc, t1 + (d - d1) / vmax)
    return out
