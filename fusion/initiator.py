"""Initiation role: tentative tracks from unassigned measurements, confirmed M-of-N.

A new track starts at its measurement (position and, when measured, velocity; otherwise zero
velocity with a broad prior) and is tentative until ``m`` measurements have been associated to
it within its first ``n`` ticks. Measurements count per sensor frame: a vehicle seen by three
sensors is confirmed in its first tick, one seen by a single sensor after ``m`` ticks with
detections. A tentative track fails after ``n`` ticks, or after ``max_misses`` ticks in a row
without a measurement.
"""

from __future__ import annotations

import numpy as np

from fusion.arraytypes import BoolArray, FloatArray, IntArray
from fusion.grid import grid_pairs_xy
from fusion.indexing import amax, compact
from fusion.measurements import Measurements
from fusion.tracks import TrackStore
from fusion.updater import mahalanobis2

#: covariance rows (of the state-and-covariance block) of the position and velocity blocks
#: [xx, xy, yx, yy], and the packed [xx; xy; yy] rows that fill them
_POS = np.array([4, 5, 8, 9])
_VEL = np.array([14, 15, 18, 19])
_XY = np.array([0, 1, 1, 2])
#: (i < j) for up to this many measurements, which birth_seeds pairs directly
_UPPER = np.triu(np.ones((64, 64), dtype=np.bool_), 1)
_UPPER.flags.writeable = False


class MofNInitiator:
    """M-of-N initiation.

    Parameters
    ----------
    m, n
        Confirm after updates in ``m`` of the first ``n`` ticks (``1 <= m <= n <= 32``).
    velocity_sd
        Prior standard deviation of an unmeasured velocity component, m/s.
    """

    def __init__(self, m: int = 3, n: int = 4, velocity_sd: float = 10.0, max_misses: int = 2) -> None:
        if not 1 <= m <= n:
            raise ValueError(f"M-of-N needs 1 <= m <= n, got m={m}, n={n}")
        self.m = int(m)
        self.n = int(n)
        self.velocity_sd = float(velocity_sd)
        self.max_misses = int(max_misses)

    def initiate(self, meas: Measurements) -> tuple[FloatArray, FloatArray]:
        """Initial states of new tracks at the measurements' own times.

        Parameters
        ----------
        meas
            ``k`` measurements, one per new track.

        Returns
        -------
        x
            (k, 4) states.
        P
            (k, 4, 4) covariances.
        """
        k = len(meas)
        # component-first: rows 0-3 the state, 4-19 the covariance (row-major 4 x 4)
        out = np.zeros((20, k))
        out[0:2] = meas.z
        out[_POS] = meas.R.take(_XY, axis=0)
        out[14] = out[19] = self.velocity_sd**2  # velocity variances (2, 2) and (3, 3)
        if meas.with_velocity:
            known = np.isfinite(meas.v[0])
            out[2:4] = np.where(known, meas.v, 0.0)
            out[_VEL] = np.where(known, meas.Rv.take(_XY, axis=0), out[_VEL])
        return out[0:4].T, out[4:20].T.reshape(k, 4, 4)

    def confirm(self, store: TrackStore) -> None:
        """Mark tentative tracks with ``m`` measurements as confirmed (in place)."""
        store.confirmed |= store.hits >= self.m

    def failed(self, store: TrackStore) -> BoolArray:
        """Tentative tracks that can no longer be confirmed, shape (n_tracks,)."""
        return np.asarray(~store.confirmed & ((store.ticks >= self.n) | (store.misses >= self.max_misses)))


def components(i: IntArray, j: IntArray, k: int) -> IntArray:
    """Connected components of an undirected graph on ``k`` nodes with edges ``(i, j)``.

    Label propagation with pointer jumping: each node ends with the smallest node number of
    its component. Rounds grow with the components' diameters, which are small here (clusters
    of one object's detections); for large graphs use ``scipy.sparse.csgraph``.

    Returns
    -------
    labels
        (k,) int64.
    """
    label = np.arange(k, dtype=np.int64)
    while True:
        low = np.minimum(label[i], label[j])
        new = label.copy()
        np.minimum.at(new, i, low)
        np.minimum.at(new, j, low)
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def birth_seeds(meas: Measurements, threshold: float, velocity_sd: float, max_radius: float) -> BoolArray | None:
    """Which unassigned measurements start a track, so that overlapping sensors start one each.

    Measurements of different scans that gate with each other (squared Mahalanobis distance of
    their difference under ``R_i + R_j`` plus the velocity prior over their time difference)
    form clusters; in each cluster the scan with the most members seeds one track per member,
    ties going to the lowest scan. The others are left to be associated to the new tracks.

    Parameters
    ----------
    meas
        ``k`` unassigned measurements.
    threshold
        Gate on the squared Mahalanobis distance.
    velocity_sd
        Prior velocity standard deviation, m/s.
    max_radius
        Largest spatial gate half-width, m.

    Returns
    -------
    seed
        (k,) bool, or None when every measurement seeds a track.
    """
    k = len(meas)
    if k <= 1:
        return None
    lo, hi = meas.tau_range
    radius = min(float(np.sqrt(threshold * (2.0 * meas.r_max + ((hi - lo) * velocity_sd) ** 2))), max_radius)
    if k <= len(_UPPER):  # few: every pair at once (fewer calls than a grid)
        d = np.abs(meas.z[:, :, None] - meas.z[:, None])
        close = np.maximum(d[0], d[1]) <= radius
        close &= meas.scan[:, None] != meas.scan
        close &= _UPPER[:k, :k]
        i, j = close.nonzero()
    else:
        i, j = grid_pairs_xy(meas.z, meas.z, radius)
        keep = ((i < j) & (meas.scan[i] != meas.scan[j])).nonzero()[0]
        i, j = i[keep], j[keep]
    if len(i) == 0:  # no two frames saw anything close together: one track each
        return None
    S = meas.R[:, i] + meas.R[:, j]
    dt2 = (meas.tau[i] - meas.tau[j]) ** 2 * velocity_sd**2
    S[0] += dt2
    S[2] += dt2
    near = mahalanobis2(meas.z[:, i] - meas.z[:, j], S) <= threshold
    if not np.count_nonzero(near):
        return None
    comp = components(i[near], j[near], k)
    n_scans = int(amax(meas.scan)) + 1
    key = comp * n_scans + meas.scan
    inv, n_keys = compact(key)
    counts = np.bincount(inv, minlength=n_keys)
    keys = np.zeros(n_keys, dtype=np.int64)
    keys[inv] = key
    kcomp = keys // n_scans
    # per component, the key with most members (lowest scan on ties): sort and take the first
    order = np.lexsort((keys % n_scans, -counts, kcomp))
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = kcomp[order][1:] != kcomp[order][:-1]
    best = np.zeros(len(keys), dtype=np.bool_)
    best[order[first]] = True
    return np.asarray(best[inv.reshape(-1)])
