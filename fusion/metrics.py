"""Accuracy against ground truth: GOSPA, identity switches, per-lane queue-length error.

GOSPA (Rahmathullah, García-Fernández, Svensson 2017) with ``alpha = 2``::

    d = ( min over assignments  sum d_ij^p  +  c^p / 2 * (|X| + |Y| - 2 |assignment|) )^(1/p)

over pairs closer than ``c``. Pairs are found on a grid (only pairs closer than ``c`` can be
assigned) and assigned with :func:`fusion.assignment.assign`, so large scenes stay sparse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import FloatArray, IntArray
from fusion.assignment import assign
from fusion.grid import grid_pairs


@dataclass(frozen=True)
class Gospa:
    """One GOSPA evaluation.

    Attributes
    ----------
    distance
        GOSPA, m.
    localisation
        Sum of ``d^p`` over assigned pairs, m^p.
    missed, false
        Truths and tracks left unassigned.
    pairs
        (2, a) the assignment: row 0 truth index, row 1 track index.
    """

    distance: float
    localisation: float
    missed: int
    false: int
    pairs: IntArray


def _points(a: npt.ArrayLike) -> FloatArray:
    p = np.asarray(a, dtype=np.float64)
    return p.reshape(0, 2) if p.size == 0 else p


def gospa(truth: npt.ArrayLike, tracks: npt.ArrayLike, c: float = 10.0, p: float = 2.0) -> Gospa:
    """GOSPA (alpha = 2) between two point sets.

    Parameters
    ----------
    truth
        (n, d) true positions, m.
    tracks
        (m, d) estimated positions, m.
    c
        Cut-off distance, m.
    p
        Order (>= 1).

    Returns
    -------
    Gospa
        The distance and its parts.
    """
    x = _points(truth)
    y = _points(tracks)
    i, j = grid_pairs(x[:, 0:2], y[:, 0:2], c)
    d = np.sqrt(((x[i] - y[j]) ** 2).sum(axis=1))
    near = d < c
    i, j, d = i[near], j[near], d[near]
    half = c**p / 2.0
    chosen = assign(i, j, d**p, half, half)
    loc = float((d[chosen] ** p).sum())
    a = int(np.count_nonzero(chosen))
    missed, false = len(x) - a, len(y) - a
    total = loc + half * (missed + false)
    return Gospa(float(total ** (1.0 / p)), loc, missed, false, np.stack([i[chosen], j[chosen]]))


class IdentityScore:
    """Counts identity switches over time, as in CLEAR-MOT.

    Feed each tick's truth-to-track matches (e.g. :attr:`Gospa.pairs` mapped to ids); a switch is
    a truth matched to a different track id than at its previous match. Truth ids are
    non-negative integers.
    """

    def __init__(self) -> None:
        self._last: IntArray = np.zeros(0, dtype=np.int64)
        self.switches = 0
        self.matches = 0

    def add(self, truth_ids: npt.ArrayLike, track_ids: npt.ArrayLike) -> int:
        """Add one tick's matched (truth id, track id) pairs, shape (a,) each; returns its switches."""
        t_ids = np.asarray(truth_ids, dtype=np.int64)
        k_ids = np.asarray(track_ids, dtype=np.int64)
        if len(t_ids) == 0:
            return 0
        need = int(t_ids.max()) + 1
        if need > len(self._last):
            self._last = np.concatenate([self._last, np.full(need - len(self._last), -1, dtype=np.int64)])
        prev = self._last[t_ids]
        switched = int(np.count_nonzero((prev >= 0) & (prev != k_ids)))
        self._last[t_ids] = k_ids
        self.switches += switched
        self.matches += len(t_ids)
        return switched


def queue_error(estimated: npt.ArrayLike, truth: npt.ArrayLike) -> FloatArray:
    """Absolute per-lane queue-length error, m, shape as the inputs ((L,) or (T, L)); NaN stays NaN."""
    return np.abs(np.asarray(estimated, dtype=np.float64) - np.asarray(truth, dtype=np.float64))
