"""Minimum-cost assignment on a sparse bipartite graph where leaving a node unmatched has a price.

Used for data association (global nearest neighbour) and for the GOSPA metric. Edges whose two
ends touch no other edge (isolated pairs, the common case after gating) are decided without a
solver; everything else goes to one call of SciPy's sparse LAPJV
(:func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`) on the graph augmented with a
dummy partner per node, which is the same as solving each connected component on its own (a
remainder of a few edges goes to the dense :func:`scipy.optimize.linear_sum_assignment`
instead, which costs less up to about a hundred edges).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from fusion.arraytypes import BoolArray, FloatArray, IntArray
from fusion.indexing import amax, amin, compact


def assign(
    left: IntArray,
    right: IntArray,
    cost: FloatArray,
    miss_left: float,
    miss_right: float,
    *,
    sizes: tuple[int, int] | None = None,
) -> BoolArray:
    """Choose edges of least total cost, each node matched at most once.

    The objective is the sum of the chosen edges' costs plus ``miss_left`` for every left node
    and ``miss_right`` for every right node that is left unmatched.

    Parameters
    ----------
    left, right
        (k,) integer labels of the two ends of each edge (any values; no duplicate edges).
    cost
        (k,) edge costs.
    miss_left, miss_right
        Price of leaving a left / right node unmatched.
    sizes
        When known, bounds ``(L, R)`` with ``0 <= left < L`` and ``0 <= right < R`` (fewer
        calls: the labels index tables directly).

    Returns
    -------
    chosen
        (k,) bool, the edges of an optimal matching.
    """
    if len(cost) == 0:
        return np.zeros(0, dtype=np.bool_)
    if not amax(cost) < miss_left + miss_right:  # edges dearer than two misses are never chosen
        useful = (cost < miss_left + miss_right).nonzero()[0]
        some = np.zeros(len(cost), dtype=np.bool_)
        if len(useful):
            some[useful[assign(left[useful], right[useful], cost[useful], miss_left, miss_right, sizes=sizes)]] = True
        return some
    if sizes is None:
        dl, dr = _degree(left), _degree(right)
    else:
        dl, dr = np.bincount(left)[left], np.bincount(right)[right]
    chosen: BoolArray = dl + dr == 2  # both ends on this edge alone (the common case after gating)
    rest = (~chosen).nonzero()[0]
    if len(rest):
        li, ri, c = left[rest], right[rest], cost[rest]
        if len(rest) <= DENSE_EDGES:
            pick = _solve_dense(li, ri, c, miss_left, miss_right, sizes)
        else:
            pick = _solve(li, ri, c, miss_left, miss_right)
        chosen[rest[pick]] = True
    return chosen


def _degree(labels: IntArray) -> IntArray:
    """How many edges share each edge's label, shape (k,)."""
    lo = int(amin(labels))
    if int(amax(labels)) - lo <= 8 * len(labels) + 1024:
        shifted = labels - lo
        return np.bincount(shifted)[shifted]
    ids, _ = compact(labels)
    return np.bincount(ids)[ids]


#: up to this many edges the non-trivial part is solved densely: the sparse solver's set-up costs
#: about as much as a dense solve of some 100 edges (a few hundred microseconds)
DENSE_EDGES = 96


def _solve(li: IntArray, ri: IntArray, cost: FloatArray, miss_left: float, miss_right: float) -> BoolArray:
    """Exact matching of the non-trivial part; labels need not be compact."""
    l_, nl = compact(li)
    r_, nr = compact(ri)
    e = len(cost)
    # rows: left nodes, then one dummy per right node; columns: right nodes, then one dummy per
    # left node. Dummy-dummy edges mirror the real ones so that a full matching always exists.
    # A constant shift keeps every weight positive (explicit zeros would read as no edge) and
    # does not change the optimum: every full matching has nl + nr edges.
    rows = np.concatenate([l_, np.arange(nl), nl + np.arange(nr), nl + r_])
    cols = np.concatenate([r_, nr + np.arange(nl), np.arange(nr), nr + l_])
    w = np.concatenate([cost, np.full(nl, miss_left), np.full(nr, miss_right), np.zeros(e)]) + 1.0
    graph = csr_matrix((w, (rows, cols)), shape=(nl + nr, nr + nl))
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    real = (row_ind < nl) & (col_ind < nr)
    key = l_.astype(np.int64) * nr + r_
    order = key.argsort()
    hit = np.searchsorted(key, row_ind[real].astype(np.int64) * nr + col_ind[real], sorter=order)
    chosen = np.zeros(e, dtype=np.bool_)
    chosen[order[hit]] = True
    return chosen


def _solve_dense(
    li: IntArray, ri: IntArray, cost: FloatArray, miss_left: float, miss_right: float, sizes: tuple[int, int] | None
) -> BoolArray:
    """A small non-trivial part as one dense augmented matrix for ``linear_sum_assignment``
    (absent edges are infinite)."""
    l_, nl = compact(li, None if sizes is None else sizes[0])
    r_, nr = compact(ri, None if sizes is None else sizes[1])
    w = nl + nr
    m = np.empty((w, w))
    m.fill(np.inf)
    m[l_, r_] = cost
    flat = m.reshape(-1)  # the dummies' diagonals as strided slices
    flat[nr : nl * (w + 1) : w + 1] = miss_left  # (i, nr + i)
    flat[nl * w : nl * w + nr * (w + 1) : w + 1] = miss_right  # (nl + i, i)
    m[nl:, nr:] = 0.0
    _, cols = linear_sum_assignment(m)
    return np.asarray(cols[l_] == r_)
