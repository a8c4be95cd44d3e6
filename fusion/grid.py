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
from fusion.indexing import amax, amin, ragged_ranges, stack2

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
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return np.zeros((2, 0), dtype=np.int64)
    if n * m <= DENSE_PAIRS:  # a small problem: all pairs at once costs fewer calls than a grid
        near = (np.abs(a[:, 0:1] - b[:, 0]) <= radius) & (np.abs(a[:, 1:2] - b[:, 1]) <= radius)
        return stack2(*near.nonzero())
    if n > m:
        return grid_pairs(b, a, radius)[::-1]
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    x0 = float(min(amin(ax), amin(bx)))
    y0 = float(min(amin(ay), amin(by)))
    ex = max(float(max(amax(ax), amax(bx))) - x0, 1e-9)
    ey = max(float(max(amax(ay), amax(by))) - y0, 1e-9)
    cell = float(radius)
    budget = MAX_CELLS_PER_POINT * (n + m) + _MIN_CELLS
    if (ex / cell + 3) * (ey / cell + 3) > budget:
        cell = max(float(np.sqrt(ex * ey / budget)), max(ex, ey) / (budget - 3)) * 1.05
    inv = 1.0 / cell
    # cells with a one-cell border, so that neighbours of any point exist (the same arithmetic
    # as the points' cells below, so the farthest point's cell is inside)
    nx = int(ex * inv) + 3
    ny = int(ey * inv) + 3
    # non-negative offsets: truncation is the floor
    ka = ((ay - y0) * inv).astype(np.int64) * nx + ((ax - x0) * inv).astype(np.int64) + (nx + 1)
    order = ka.argsort(kind="stable")
    start = np.zeros(nx * ny + 1, dtype=np.int64)
    np.cumsum(np.bincount(ka, minlength=nx * ny), out=start[1:])
    kb = ((by - y0) * inv).astype(np.int64) * nx + ((bx - x0) * inv).astype(np.int64) + (nx + 1)
    # three rows of the 3 x 3 block: contiguous keys (row y, columns x-1 .. x+1)
    keys = (kb[:, None] + np.array([-nx, 0, nx], dtype=np.int64)).ravel()
    first = start[keys - 1]
    last = start[keys + 2]
    owner, pos = ragged_ranges(first, last)
    return stack2(order[pos], owner // 3)
