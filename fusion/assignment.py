"""Minimum-cost assignment on a sparse bipartite graph where leaving a node unmatched has a price.

Used for data association (global nearest neighbour) and for the GOSPA metric. Edges whose two
ends touch no other edge (isolated pairs, the common case after gating) are decided without a
solver; everything else goes to one call of SciPy's sparse LAPJV
(:func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`) on the graph augmented with a
dummy partner per node, which is the same as solving each connected component on its own (a
small remainder goes to the dense :func:`scipy.optimize.linear_sum_assignment` instead, which
costs less to call).
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

    Returns
    -------
    chosen
        (k,) bool, the edges of an optimal matching.
    """
    k = len(cost)
    chosen = np.zeros(k, dtype=np.bool_)
    useful = (cost < miss_left + miss_right).nonzero()[0]
    if len(useful) == 0:
        return chosen
    li = left[useful]
    ri = right[useful]
    lone = (_degree(li) == 1) & (_degree(ri) == 1)
    chosen[useful[lone]] = True
    rest = useful[~lone]
    if len(rest):
        chosen[rest[_solve(li[~lone], ri[~lone], cost[rest], miss_left, miss_right)]] = True
    return chosen


def _degree(labels: IntArray) -> IntArray:
    """How many edges share each edge's label, shape (k,)."""
    lo = int(amin(labels))
    if int(amax(labels)) - lo <= 8 * len(labels) + 1024:
        shifted = labels - lo
        return np.bincount(shifted)[shifted]
    ids, _ = compact(labels)
    return np.bincount(ids)[ids]


#: below this many nodes the augmented problem is solved densely (less overhead than sparse)
DENSE_NODES = 48


def _solve(li: IntArray, ri: IntArray, cost: FloatArray, miss_left: float, miss_right: float) -> BoolArray:
    """Exact matching of the non-trivial part; labels need not be compact."""
    l_, nl = compact(li)
    r_, nr = compact(ri)
    if nl + nr <= DENSE_NODES:
        return _solve_dense(l_, r_, nl, nr, cost, miss_left, miss_right)
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
    order = np.argsort(key)
    hit = np.searchsorted(key, row_ind[real].astype(np.int64) * nr + col_ind[real], sorter=order)
    chosen = np.zeros(e, dtype=np.bool_)
    chosen[order[hit]] = True
    return chosen


def _solve_dense(
    l_: IntArray, r_: IntArray, nl: int, nr: int, cost: FloatArray, miss_left: float, miss_right: float
) -> BoolArray:
    """The same augmented problem as a small dense matrix for ``linear_sum_assignment``."""
    forbidden = 2.0 * (float(amax(np.abs(cost))) + miss_left + miss_right) + 1.0
    m = np.full((nl + nr, nr + nl), forbidden)
    m[l_, r_] = cost
    m[np.arange(nl), nr + np.arange(nl)] = miss_left
    m[nl + np.arange(nr), np.arange(nr)] = miss_right
    m[nl:, nr:] = 0.0
    rows, cols = linear_sum_assignment(m)
    match = np.full(nl, -1, dtype=np.int64)
    real = (rows < nl) & (cols < nr)
    match[rows[real]] = cols[real]
    return np.asarray(match[l_] == r_)
