"""Gating role: which (track, measurement) pairs are close enough to be associated.

Candidates come from a uniform grid (:func:`fusion.grid.grid_pairs`) whose cell is the largest
gate's half-width, so a tick costs O(N log N) rather than O(N^2); each candidate is then
tested by its squared Mahalanobis distance against the chi-square threshold. A gated pair's
cost is its negative log-likelihood up to a constant, ``d^2 + ln det S``: the squared distance
alone would let a young, uncertain track (large ``S``) win detections from an established one.
"""

from __future__ import annotations

import numpy as np

from fusion.arraytypes import FloatArray, IntArray
from fusion.grid import grid_pairs
from fusion.indexing import amax, amin
from fusion.measurements import Measurements

#: chi-square quantile, 2 degrees of freedom, probability 0.999.
CHI2_2D_999 = 13.8155
#: extra candidate pairs worth a second grid pass for the widest gates
SPLIT_PAIRS = 4000.0
#: with fewer tracks a second grid pass never pays
SPLIT_MIN_TRACKS = 2000


class MahalanobisGate:
    """Squared-Mahalanobis gate over a spatial grid.

    Parameters
    ----------
    threshold
        Gate on the squared Mahalanobis distance of the position innovation.
    max_radius
        Largest spatial half-width of a gate, m: tracks whose uncertainty would need more are
        gated within this radius only (they are about to be deleted anyway).
    """

    def __init__(self, threshold: float = CHI2_2D_999, max_radius: float = 30.0) -> None:
        self.threshold = float(threshold)
        self.max_radius = float(max_radius)

    def radii(self, x: FloatArray, P: FloatArray, meas: Measurements, scale: float = 1.0) -> FloatArray:
        """Spatial half-width (m) of each track's gate against these measurements, shape (N,).

        Bounds ``sqrt(threshold * S_axis)`` over the measurements' covariances and time
        offsets, plus the track's displacement over the largest offset; at most ``max_radius``.
        """
        tau = max(-float(amin(meas.tau)), float(amax(meas.tau)))
        r_max = max(float(amax(meas.R[0])), float(amax(meas.R[2])))
        var_pos = np.maximum(P[:, 0, 0], P[:, 1, 1])
        if tau > 0.0:
            sd = np.sqrt(var_pos) + tau * np.sqrt(np.maximum(P[:, 2, 2], P[:, 3, 3]))
            var_pos = sd * sd
            shift = tau * np.maximum(np.abs(x[:, 2]), np.abs(x[:, 3]))
        half = np.sqrt((var_pos + r_max) * (self.threshold * scale))
        if tau > 0.0:
            half += shift
        return np.asarray(np.minimum(half, self.max_radius * np.sqrt(scale)))

    def gate(
        self, x: FloatArray, P: FloatArray, meas: Measurements, scale: float = 1.0
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Gated pairs.

        The grid cell is the widest gate's half-width, or, when that would cost many more
        candidate pairs than a second pass, the 90th percentile of the half-widths with the
        tracks above it searched on a second grid of their own.
        Candidates outside a track's gate box are dropped before any matrix arithmetic.

        Parameters
        ----------
        x, P
            (N, 4) states and (N, 4, 4) covariances at the tick time.
        meas
            The ``m`` measurements.
        scale
            Multiplies the threshold (a wider gate, e.g. to find detections near a track).

        Returns
        -------
        pairs
            (2, k) int64: row 0 track index, row 1 measurement index.
        d2
            (k,) squared Mahalanobis distances, all ``<= threshold * scale``.
        cost
            (k,) ``d^2 + ln det S`` of each pair.
        """
        if len(x) == 0 or len(meas) == 0:
            return np.zeros((2, 0), dtype=np.int64), np.zeros(0), np.zeros(0)
        half = self.radii(x, P, meas, scale)
        xy = x[:, 0:2]
        zxy = meas.z.T
        top = float(amax(half))
        xT = x.T
        xs, ys = xT[0], xT[1]
        split = False
        if len(half) > SPLIT_MIN_TRACKS:
            # one grid sized for the widest gate costs extra candidate pairs (about m x density
            # x 9 x the difference of the squared cells); a second grid for the wide tracks
            # costs a pass over the measurements. Take whichever is cheaper.
            k = (9 * len(half)) // 10
            cell = float(np.partition(half, k)[k])
            wide = half > cell
            area = max(float((amax(xs) - amin(xs)) * (amax(ys) - amin(ys))), top * top)
            extra = len(meas) * len(half) / area * 9.0 * (top * top - cell * cell)
            split = extra > SPLIT_PAIRS and bool(wide.any())
        if not split:
            i, j = grid_pairs(xy, zxy, top)
        else:
            narrow = (~wide).nonzero()[0]
            broad = wide.nonzero()[0]
            p1 = grid_pairs(xy[narrow], zxy, cell)
            p2 = grid_pairs(xy[broad], zxy, top)
            i = np.concatenate([narrow[p1[0]], broad[p2[0]]])
            j = np.concatenate([p1[1], p2[1]])
        PT = P.transpose(1, 2, 0)
        dx = meas.z[0][j] - xs[i]
        dy = meas.z[1][j] - ys[i]
        h = half[i]
        box = ((np.abs(dx) <= h) & (np.abs(dy) <= h)).nonzero()[0]
        i, j, dx, dy = i[box], j[box], dx[box], dy[box]
        sxx = PT[0, 0][i] + meas.R[0][j]
        sxy = PT[0, 1][i] + meas.R[1][j]
        syy = PT[1, 1][i] + meas.R[2][j]
        tau = meas.tau[j]
        if tau.any():
            dx -= tau * xT[2][i]
            dy -= tau * xT[3][i]
            sxx += 2.0 * tau * PT[0, 2][i] + tau * tau * PT[2, 2][i]
            sxy += tau * (PT[0, 3][i] + PT[1, 2][i]) + tau * tau * PT[2, 3][i]
            syy += 2.0 * tau * PT[1, 3][i] + tau * tau * PT[3, 3][i]
        det = sxx * syy - sxy * sxy
        d2 = (syy * dx * dx - 2.0 * sxy * dx * dy + sxx * dy * dy) / det
        ok = (d2 <= self.threshold * scale).nonzero()[0]
        d2 = d2[ok]
        pairs = np.empty((2, len(ok)), dtype=np.int64)
        pairs[0] = i[ok]
        pairs[1] = j[ok]
        return pairs, d2, d2 + np.log(det[ok])
