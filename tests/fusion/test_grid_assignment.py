"""Grid neighbour search and sparse assignment against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from fusion.assignment import assign
from fusion.grid import grid_pairs
from fusion.indexing import compact, ragged_ranges


@pytest.mark.parametrize(
    ("n", "m", "spread", "radius"),
    [(200, 300, 100.0, 5.0), (50, 5, 1000.0, 30.0), (1, 1, 1.0, 2.0), (400, 400, 0.0, 1.0), (300, 50, 1e5, 1.0)],
    ids=["dense", "sparse", "single", "all-at-one-point", "huge-extent"],
)
def test_grid_pairs_find_every_close_pair(n: int, m: int, spread: float, radius: float) -> None:
    rng = np.random.default_rng(n + m)
    a = rng.uniform(0, spread, (n, 2))
    b = rng.uniform(0, spread, (m, 2))
    pairs = grid_pairs(a, b, radius)
    got = set(map(tuple, pairs.T.tolist()))
    assert len(got) == pairs.shape[1], "no pair twice"
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    want = set(zip(*np.nonzero(d <= radius), strict=True))
    assert want <= got


def test_grid_pairs_on_a_line() -> None:
    a = np.stack([np.linspace(0, 10_000, 500), np.zeros(500)], axis=1)
    pairs = grid_pairs(a, a, 25.0)
    i, j = pairs
    assert np.all(np.abs(a[i, 0] - a[j, 0]) <= 3 * 1e4)
    close = np.abs(np.subtract.outer(a[:, 0], a[:, 0])) <= 25.0
    assert close.sum() <= pairs.shape[1]
    assert set(zip(*np.nonzero(close), strict=True)) <= set(map(tuple, pairs.T.tolist()))


@pytest.mark.parametrize("radius", [49.0, 0.7, 3.0])
def test_grid_pairs_with_points_on_cell_edges(radius: float) -> None:
    """Points at the lowest coordinate and on multiples of the cell: no cell off the grid."""
    rng = np.random.default_rng(11)
    a = np.vstack([[[0.0, 0.0]], radius * rng.integers(0, 20, (119, 2)).astype(float)])
    b = np.vstack([[[0.0, 0.0]], radius * rng.integers(0, 20, (99, 2)).astype(float)])
    got = set(map(tuple, grid_pairs(a, b, radius).T.tolist()))
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    assert set(zip(*np.nonzero(d <= radius), strict=True)) <= got


def test_grid_pairs_empty() -> None:
    assert grid_pairs(np.zeros((0, 2)), np.ones((3, 2)), 1.0).shape == (2, 0)


def test_ragged_ranges_and_compact() -> None:
    owner, values = ragged_ranges(np.array([3, 7, 7]), np.array([5, 7, 9]))
    assert owner.tolist() == [0, 0, 2, 2]
    assert values.tolist() == [3, 4, 7, 8]
    ids, count = compact(np.array([40, 7, 40, 9]))
    assert ids.tolist() == [2, 0, 2, 1] and count == 3
    ids, count = compact(np.array([10**12, 5, 10**12]))
    assert ids.tolist() == [1, 0, 1] and count == 2


def _dense_optimum(n_l: int, n_r: int, edges: dict[tuple[int, int], float], miss: float) -> float:
    """Brute force through a padded dense matrix: unmatched costs ``miss`` per side."""
    big = 1e9
    size = n_l + n_r
    cost = np.full((size, size), big)
    for (i, j), c in edges.items():
        cost[i, j] = c
    for i in range(n_l):
        cost[i, n_r + i] = miss
    for j in range(n_r):
        cost[n_l + j, j] = miss
    cost[n_l:, n_r:] = 0.0
    r, c = linear_sum_assignment(cost)
    return float(cost[r, c].sum())


@pytest.mark.parametrize("solver", ["dense", "sparse"])
@pytest.mark.parametrize("bounded", [False, True], ids=["any-labels", "bounded-labels"])
@pytest.mark.parametrize("seed", range(6), ids=[f"seed{s}" for s in range(6)])
def test_assign_is_optimal(seed: int, bounded: bool, solver: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import fusion.assignment

    monkeypatch.setattr(fusion.assignment, "DENSE_EDGES", 10_000 if solver == "dense" else 0)
    rng = np.random.default_rng(seed)
    n_l, n_r = rng.integers(3, 30, 2)
    cand = [(i, j) for i, j in itertools.product(range(n_l), range(n_r)) if rng.random() < 0.15]
    edges = {e: float(rng.uniform(0, 10)) for e in cand}
    left = np.array([e[0] for e in cand], dtype=np.int64) * 3 + 100  # labels need not be compact
    right = np.array([e[1] for e in cand], dtype=np.int64) * 7
    cost = np.array(list(edges.values()))
    miss = 4.0
    sizes = (int(left.max()) + 1, int(right.max()) + 1) if bounded else None
    chosen = assign(left, right, cost, miss, miss, sizes=sizes)
    assert len(set(left[chosen])) == chosen.sum() and len(set(right[chosen])) == chosen.sum()
    total = cost[chosen].sum() + miss * (n_l - chosen.sum()) + miss * (n_r - chosen.sum())
    assert total == pytest.approx(_dense_optimum(n_l, n_r, edges, miss))


def test_assign_by_hand() -> None:
    # two left nodes compete for right node 0; left 1 can also take right 1 at a higher cost
    left = np.array([0, 1, 1, 5])
    right = np.array([0, 0, 1, 9])
    cost = np.array([1.0, 0.5, 2.0, 30.0])
    chosen = assign(left, right, cost, 5.0, 5.0)
    # {0-0, 1-1} = 3 beats {1-0} + miss(0) + miss(1) = 10.5; edge 5-9 costs more than two misses
    assert chosen.tolist() == [True, False, True, False]


@pytest.mark.parametrize("seed", range(4), ids=[f"seed{s}" for s in range(4)])
def test_components_match_scipy(seed: int) -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from fusion.initiator import components

    rng = np.random.default_rng(seed)
    k = 40
    i = rng.integers(0, k, 30)
    j = rng.integers(0, k, 30)
    ours = components(i, j, k)
    _, theirs = connected_components(coo_matrix((np.ones(30), (i, j)), shape=(k, k)), directed=False)
    # the same partition: equal labels exactly where scipy's are equal
    assert np.array_equal(ours[:, None] == ours[None, :], theirs[:, None] == theirs[None, :])
