"""Data-association role: global nearest neighbour over the gated pairs of a tick."""

from __future__ import annotations

import numpy as np

from fusion.arraytypes import FloatArray, IntArray
from fusion.assignment import assign
from fusion.indexing import amax


class GNNAssociator:
    """Global nearest neighbour: least total cost, one measurement per track and scan.

    Parameters
    ----------
    miss_cost
        Price of leaving a measurement, or a track in one scan, unassigned. None (default):
        more than any gated pair costs, so that as many gated pairs as possible are taken and
        the costs decide between them (the gate alone decides what may be associated).
    """

    def __init__(self, miss_cost: float | None = None) -> None:
        self.miss_cost = miss_cost

    def associate(self, pairs: IntArray, cost: FloatArray, scan: IntArray) -> IntArray:
        """Assigned pairs.

        Parameters
        ----------
        pairs
            (2, k) gated (track, measurement) pairs.
        cost
            (k,) their costs (e.g. ``d^2 + ln det S``).
        scan
            (m,) scan index of every measurement.

        Returns
        -------
        assigned
            (2, a) the chosen (track, measurement) pairs: each measurement at most once, each
            track at most once per scan.
        """
        if pairs.shape[1] == 0:
            return pairs
        n_scans = int(amax(scan)) + 1
        track, det = pairs
        right = track * n_scans
        right += scan[det]
        miss = self.miss_cost if self.miss_cost is not None else float(amax(np.abs(cost))) + 1.0
        sizes = (len(scan), (int(amax(track)) + 1) * n_scans)
        chosen = assign(det, right, cost, miss, miss, sizes=sizes)
        return pairs.take(chosen.nonzero()[0], axis=1)
