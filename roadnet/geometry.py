"""Polyline helpers (metres): length, offset, trim, curves. Arrays of shape (k, 2)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def seg_lengths(line: F64) -> F64:
    """(k-1,) lengths of the segments of a (k, 2) polyline."""
    return np.asarray(np.hypot(*np.diff(line, axis=0).T), dtype=np.float64)


def length(line: F64) -> float:
    """Length of a (k, 2) polyline."""
    return float(seg_lengths(line).sum()) if len(line) > 1 else 0.0


def offset_right(line: F64, d: float) -> F64:
    """The polyline shifted ``d`` metres to the right of its direction (mitred joints)."""
    if len(line) < 2 or d == 0.0:
        return line.copy()
    seg = np.diff(line, axis=0)
    seg = seg / np.maximum(np.hypot(*seg.T), 1e-12)[:, None]
    normals = np.stack([seg[:, 1], -seg[:, 0]], axis=1)  # right-hand normal
    vert = np.empty_like(line)
    vert[0], vert[-1] = normals[0], normals[-1]
    if len(line) > 2:
        m = normals[:-1] + normals[1:]
        m /= np.maximum(np.hypot(*m.T), 1e-12)[:, None]
        cos = np.maximum((m * normals[:-1]).sum(axis=1), 0.3)
        vert[1:-1] = m / cos[:, None]
    return np.asarray(line + d * vert, dtype=np.float64)


def point_at(line: F64, s: float) -> tuple[F64, F64]:
    """Point and unit direction at distance ``s`` along the polyline (clamped)."""
    sl = seg_lengths(line)
    cum = np.concatenate([[0.0], np.cumsum(sl)])
    s = float(np.clip(s, 0.0, cum[-1]))
    i = int(np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(sl) - 1))
    d = (line[i + 1] - line[i]) / max(sl[i], 1e-12)
    return line[i] + d * (s - cum[i]), d


def trim(line: F64, start: float, end: float) -> F64:
    """Cut ``start`` metres off the beginning and ``end`` metres off the end of a polyline.

    When the two cuts overlap, the middle half of the line is kept instead.
    """
    total = length(line)
    if start + end > total - 1.0:
        start, end = total * 0.25, total * 0.25
    sl = seg_lengths(line)
    cum = np.concatenate([[0.0], np.cumsum(sl)])
    a, _ = point_at(line, start)
    b, _ = point_at(line, total - end)
    inner = line[(cum > start) & (cum < total - end)]
    return np.vstack([a, inner, b])


def bezier(p0: F64, d0: F64, p1: F64, d1: F64, n: int = 9) -> F64:
    """A cubic curve from ``p0`` leaving along ``d0`` to ``p1`` arriving along ``d1``, (n, 2)."""
    dist = float(np.hypot(*(p1 - p0)))
    cross = float(d0[0] * d1[1] - d0[1] * d1[0])
    if abs(cross) < 1e-6 and float(np.dot(d0, d1)) > 0:
        return np.linspace(p0, p1, 2)
    c0 = p0 + d0 * dist * 0.4
    c1 = p1 - d1 * dist * 0.4
    t = np.linspace(0.0, 1.0, n)[:, None]
    out = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c0 + 3 * (1 - t) * t**2 * c1 + t**3 * p1
    return np.asarray(out, dtype=np.float64)


def turn_angle(d0: F64, d1: F64) -> float:
    """Signed angle (radians, + = left / counter-clockwise) from direction d0 to d1."""
    return float(np.arctan2(d0[0] * d1[1] - d0[1] * d1[0], np.dot(d0, d1)))
