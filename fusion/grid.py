"""Uniform-grid neighbour search: candidate pairs as a (2, n) index array.

The smaller point set is bucketed into square cells by sorting its cell keys; every point of
the other looks at the 3 x 3 block of cells around it, read as three contiguous key ranges (one
per row of the block). Building is O(n log n + cells) for the smaller set, querying O(m + pairs).
The grid is capped at :data:`MAX_CELLS_PER_POINT` cells per point: a sparse spread of points
gets larger cells rather than a huge table. Small problems (up to :data:`DENSE_PAIRS` pairs)
skip the grid and test every pair.
"""

from __future__ import annotations

import numpy as np

from fusion.arraytypes import FloatArray, IntArray
from fusion.indexing import ragged_ranges, stack2

#: Up to this many point pairs, all pairs are tested directly (no grid).
DENSE_PAIRS = 8192
#: Upper bound on grid cells per point (plus a constant), which bounds memory and build time.
MAX_CELLS_PER_POINT = 8
_MIN_CELLS = 4096


def grid_pairs(a: FloatArray, b: FloatArray, radius: float) -> IntArray:
    """Pairs of points that may lie within ``radius`` of each other.

    Parameters
    ----------
    a
        (n, 2) points, m (finite).
    b
        (m, 2) points, m (finite).
    radius
        Search radius, m (> 0).

    Returns
    -------
    pairs
        (2, k) int64: row 0 indexes ``a``, row 1 indexes ``b``. Every pair closer than
        ``radius`` is included; others in neighbouring cells may be too (filter them).
    """
    return grid_pairs_xy(a.T, b.T, radius)


def grid_pairs_xy(a: FloatArray, b: FloatArray, radius: float) -> IntArray:
    """:func:`grid_pairs` of points given as (2, n) and (2, m) coordinate rows ``[x; y]``
    (fastest when each row is contiguous, as in the tracker's component-first arrays)."""
    n, m = a.shape[1], b.shape[1]
    if n == 0 or m == 0:
        return np.zeros((2, 0), dtype=np.int64)
    if n * m <= DENSE_PAIRS:  # a small problem: all pairs at once costs fewer calls than a grid
        near = np.abs(a[0][:, None] - b[0]) <= radius
        near &= np.abs(a[1][:, None] - b[1]) <= radius
        return stack2(*near.nonzero())
    if n > m:
        return grid_pairs_xy(b, a, radius)[::-1]
    both = np.concatenate((a, b), axis=1)
    low = both[_XY, both.argmin(axis=1)]
    ex, ey = (both[_XY, both.argmax(axis=1)] - low).tolist()
    ex, ey = max(ex, 1e-9), max(ey, 1e-9)
    # a hair wider than the radius, so that rounding cannot put two points within it two
    # cells apart
    cell = float(radius) * (1.0 + 1e-6)
    budget = MAX_CELLS_PER_POINT * (n + m) + _MIN_CELLS
    if (ex / cell + 3) * (ey / cell + 3) > budget:
        cell = max(float(np.sqrt(ex * ey / budget)), max(ex, ey) / (budget - 3)) * 1.05
    inv = 1.0 / cell
    # cells with a one-cell border, so that neighbours of any point exist (the same arithmetic
    # as the points' cells below, so the farthest point's cell is inside)
    nx = int(ex * inv) + 3
    ny = int(ey * inv) + 3
    both -= low[:, None]
    key = _keys(both, inv, nx)
    ka, kb = key[:n], key[n:]
    order = ka.argsort(kind="stable")
    # start[k + 1] = number of points of ``a`` in cells before k, as a step function of the
    # sorted keys (one repeat: a cumulative sum over every cell costs more when most are empty)
    sk = ka.take(order)
    steps = np.empty(n + 1, dtype=np.int64)
    steps[0] = sk[0] + 2
    np.subtract(sk[1:], sk[:-1], out=steps[1:n])
    steps[n] = nx * ny - sk[n - 1]
    start = np.arange(n + 1).repeat(steps)
    # three rows of the 3 x 3 block: contiguous keys (row y, columns x-1 .. x+1), all points'
    # row below, then their own row, then the row above
    keys = (_ROWS * nx + kb).ravel()
    owner, pos = ragged_ranges(start.take(keys), start[3:].take(keys))
    out = np.empty((2, len(pos)), dtype=np.int64)
    order.take(pos, out=out[0], mode="clip")  # all in range: clip only spares a buffered copy
    np.remainder(owner, m, out=out[1])
    return out


_ROWS = np.array([-1, 0, 1], dtype=np.int64)[:, None]
_XY = np.arange(2)


def _keys(offsets: FloatArray, inv: float, nx: int) -> IntArray:
    """Cell key ``row * nx + column`` of (2, k) non-negative offsets from the origin (so
    truncation is the floor), shape (k,), one cell in from the border; scales ``offsets``."""
    offsets *= inv
    cell = offsets.astype(np.int64)
    key: IntArray = cell[1] * nx
    key += cell[0]
    key += nx + 1
    return key
