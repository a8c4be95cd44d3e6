"""GOSPA, identity switches and queue error against hand-computed answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fusion.metrics import IdentityScore, gospa, queue_error

C = 10.0


@pytest.mark.parametrize(
    ("truth", "tracks", "want"),
    [
        ([], [], 0.0),
        ([(0.0, 0.0)], [], C / np.sqrt(2.0)),
        ([], [(5.0, 5.0), (50.0, 5.0)], C),
        ([(0.0, 0.0)], [(3.0, 4.0)], 5.0),
        ([(0.0, 0.0)], [(12.0, 0.0)], C),
        ([(0.0, 0.0), (10.0, 0.0)], [(1.0, 0.0), (10.0, 2.0), (50.0, 50.0)], np.sqrt(1 + 4 + 50)),
        ([(0.0, 0.0), (1.0, 0.0)], [(1.0, 0.0), (0.0, 0.0)], 0.0),
    ],
    ids=["empty", "one-missed", "two-false", "one-at-5m", "beyond-cutoff", "mixed", "swapped"],
)
def test_gospa_by_hand(truth: list[tuple[float, float]], tracks: list[tuple[float, float]], want: float) -> None:
    assert gospa(truth, tracks, c=C, p=2.0).distance == pytest.approx(want)


def _brute(x: np.ndarray, y: np.ndarray, c: float, p: float) -> float:
    best = np.inf
    n, m = len(x), len(y)
    small, large = (x, y) if n <= m else (y, x)
    for perm in itertools.permutations(range(len(large)), len(small)):
        d = np.minimum(np.hypot(*(small - large[list(perm)]).T), c) ** p
        best = min(best, d.sum() + c**p / 2 * abs(n - m))
    return float(best ** (1 / p))


@pytest.mark.parametrize("seed", range(5), ids=[f"seed{s}" for s in range(5)])
def test_gospa_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 25, (rng.integers(0, 6), 2))
    y = rng.uniform(0, 25, (rng.integers(0, 6), 2))
    g = gospa(x, y, c=C, p=2.0)
    assert g.distance == pytest.approx(_brute(x, y, C, 2.0))
    assert g.missed == len(x) - g.pairs.shape[1] and g.false == len(y) - g.pairs.shape[1]


def test_identity_switches() -> None:
    s = IdentityScore()
    assert s.add([0, 1], [10, 11]) == 0
    assert s.add([0, 1], [10, 11]) == 0
    assert s.add([0, 1], [11, 10]) == 2  # swapped
    assert s.add([1], [10]) == 0  # truth 0 unmatched this tick: no switch
    assert s.add([0], [12]) == 1
    assert s.switches == 3 and s.matches == 8


def test_queue_error() -> None:
    np.testing.assert_allclose(queue_error([10.0, 0.0, np.nan], [7.0, 5.0, 1.0]), [3.0, 5.0, np.nan])
