"""Gating role: which (track, measurement) pairs are close enough to be associated.

Candidates come from a uniform grid (:func:`fusion.grid.grid_pairs_xy`) whose cell is the largest
gate's half-width, so a tick costs O(N log N) rather than O(N^2); each candidate is then
tested by its squared Mahalanobis distance against the chi-square threshold. A gated pair's
cost is its negative log-likelihood up to a constant, ``d^2 + ln det S``: the squared distance
alone would let a young, uncertain track (large ``S``) win detections from an established one.
"""

from __future__ import annotations

import numpy as np

from fusion.arraytypes import FloatArray, IntArray
from fusion.grid import grid_pairs_xy
from fusion.indexing import amax, amin
from fusion.measurements import Measurements

#: chi-square quantile, 2 degrees of freedom, probability 0.999.
CHI2_2D_999 = 13.8155
#: extra candidate pairs worth a second grid pass for the widest gates
SPLIT_PAIRS = 4000.0
#: with fewer tracks a second grid pass never pays
SPLIT_MIN_TRACKS = 2000
#: up to this many candidate pairs, when no gate was cut to max_radius, the Mahalanobis test
#: alone decides (the box prefilter costs more calls than it saves arithmetic)
BOX_PAIRS = 4096


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

    def radii(self, x: FloatArray, P: FloatArray, meas: Measurements, scale: float | FloatArray = 1.0) -> FloatArray:
        """Spatial half-width (m) of each track's gate against these measurements, shape (N,).

        Bounds ``sqrt(threshold * S_axis)`` over the measurements' covariances and time
        offsets, plus the track's displacement over the largest offset; at most ``max_radius``.
        """
        lo, hi = meas.tau_range
        tau = max(-lo, hi)
        PT = P.transpose(1, 2, 0)
        var_pos: FloatArray = np.maximum(PT[0, 0], PT[1, 1])
        if tau > 0.0:
            sd = np.sqrt(var_pos) + tau * np.sqrt(np.maximum(PT[2, 2], PT[3, 3]))
            var_pos = sd * sd
            xT = x.T
            shift = tau * np.maximum(np.abs(xT[2]), np.abs(xT[3]))
        var_pos += meas.r_max
        var_pos *= self.threshold * scale
        np.sqrt(var_pos, out=var_pos)
        if tau > 0.0:
            var_pos += shift
        np.minimum(var_pos, self.max_radius * np.sqrt(scale), out=var_pos)
        return var_pos  # the half-widths

    def gate(
        self, x: FloatArray, P: FloatArray, meas: Measurements, scale: float | FloatArray = 1.0
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Gated pairs.

        The grid cell is the widest gate's half-width, or, when that would cost many more
        candidate pairs than a second pass, the 90th percentile of the half-widths with the
        tracks above it searched on a second grid of their own.
        Candidates outside a track's gate box are dropped before any matrix arithmetic (in a
        large problem, or when a gate was cut to ``max_radius``; the box only bounds the
        Mahalanobis test otherwise).

        Parameters
        ----------
        x, P
            (N, 4) states and (N, 4, 4) covariances at the tick time (fastest as the store's
            component-first views).
        meas
            The ``m`` measurements.
        scale
            Multiplies the threshold (a wider gate, e.g. to find detections near a track): one
            number, or one per track, shape (N,).

        Returns
        -------
        pairs
            (2, k) int64: row 0 track index, row 1 measurement index.
        d2
            (k,) squared Mahalanobis distances, all within ``threshold * scale`` (the pair's track's).
        cost
            (k,) ``d^2 + ln det S`` of each pair.
        """
        if len(x) == 0 or len(meas) == 0:
            return np.zeros((2, 0), dtype=np.int64), np.zeros(0), np.zeros(0)
        half = self.radii(x, P, meas, scale)
        xT = x.T
        xy = xT[0:2]  # (2, N) track positions
        top = float(amax(half))
        split = False
        if len(half) > SPLIT_MIN_TRACKS:
            # one grid sized for the widest gate costs extra candidate pairs (about m x density
            # x 9 x the difference of the squared cells); a second grid for the wide tracks
            # costs a pass over the measurements. Take whichever is cheaper.
            k = (9 * len(half)) // 10
            cell = float(np.partition(half, k)[k])
            wide = half > cell
            xs, ys = xT[0], xT[1]
            area = max(float((amax(xs) - amin(xs)) * (amax(ys) - amin(ys))), top * top)
            extra = len(meas) * len(half) / area * 9.0 * (top * top - cell * cell)
            split = extra > SPLIT_PAIRS and bool(wide.any())
        if not split:
            ij = grid_pairs_xy(xy, meas.z, top)
        else:
            narrow = (~wide).nonzero()[0]
            broad = wide.nonzero()[0]
            p1 = grid_pairs_xy(xy.take(narrow, axis=1), meas.z, cell)
            p2 = grid_pairs_xy(xy.take(broad, axis=1), meas.z, top)
            ij = np.concatenate([p1, p2], axis=1)
            ij[0] = np.concatenate([narrow[p1[0]], broad[p2[0]]])
        d = meas.z.take(ij[1], axis=1)
        d -= xy.take(ij[0], axis=1)
        least = scale if isinstance(scale, float) else float(amin(scale))  # smallest cut: max_radius sqrt(least)
        if ij.shape[1] > BOX_PAIRS or top * top >= self.max_radius * self.max_radius * min(least, 1.0):
            # the gate box: both coordinates within the track's half-width (a bound the
            # Mahalanobis test implies, except where max_radius cut a half-width short)
            a = np.abs(d)
            box = (np.maximum(a[0], a[1], out=a[0]) <= half[ij[0]]).nonzero()[0]
            ij = ij.take(box, axis=1)
            d = d.take(box, axis=1)
        i, j = ij
        # packed S = H P H^T + R, [xx; xy; yy]
        P16 = P.transpose(1, 2, 0).reshape(16, -1)
        S = P16.take(_POS, axis=0).take(i, axis=1)
        S += meas.R.take(j, axis=1)
        lo, hi = meas.tau_range
        if lo != 0.0 or hi != 0.0:
            tau = meas.tau[j]
            PT = P.transpose(1, 2, 0)
            d -= tau * xT[2:4].take(i, axis=1)
            S[0] += 2.0 * tau * PT[0, 2][i] + tau * tau * PT[2, 2][i]
            S[1] += tau * (PT[0, 3][i] + PT[1, 2][i]) + tau * tau * PT[2, 3][i]
            S[2] += 2.0 * tau * PT[1, 3][i] + tau * tau * PT[3, 3][i]
        det = S[0] * S[2]
        det -= S[1] * S[1]
        dd = d * d
        d2 = S[2] * dd[0]
        d2 += S[0] * dd[1]
        cross = d[0] * d[1]
        cross *= S[1]
        cross *= 2.0
        d2 -= cross
        d2 /= det
        limit = self.threshold * (scale if isinstance(scale, float) else scale[i])
        ok = (d2 <= limit).nonzero()[0]
        d2 = d2[ok]
        return ij.take(ok, axis=1), d2, d2 + np.log(det[ok])


#: rows of a row-major 4 x 4 covariance holding the position block [xx, xy, yy]
_POS = np.array([0, 1, 5])
