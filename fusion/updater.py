"""Update role: Kalman updates of many tracks at once, each with its own measurement.

A position measurement ``z`` taken ``tau`` seconds after the tracks' time relates to the state
by ``H(tau) = [I, tau I]`` (constant velocity over the small offset of a sensor frame from the
tick); a velocity measurement by ``H = [0, I]``. Updates are closed-form for 2-D measurements:
no solver, no per-track matrix.

Internally the arithmetic is component-first: a (4, k) state block and a (4, 4, k)
covariance block, so every operation runs along the long axis of ``k`` tracks. The public
functions take the usual (N, 4) / (N, 4, 4) arrays in any memory layout; they are fastest on the
component-first views that :class:`fusion.tracks.TrackStore` hands out.
"""

from __future__ import annotations

import numpy as np

from fusion.arraytypes import FloatArray, IntArray


def innovation(
    xs: FloatArray, Ps: FloatArray, z: FloatArray, R: FloatArray, tau: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Position innovation, component-first.

    Parameters
    ----------
    xs
        (4, k) states.
    Ps
        (4, 4, k) covariances.
    z
        (2, k) measured positions, m.
    R
        (2, 2, k) measurement covariances, m^2.
    tau
        (k,) measurement time minus state time, s.

    Returns
    -------
    r
        (2, k) residuals ``z - H x``, m.
    S
        (2, 2, k) innovation covariances ``H P H^T + R``.
    PHt
        (4, 2, k) cross covariances ``P H^T``.
    """
    r = z - (xs[0:2] + tau * xs[2:4])
    PHt = Ps[:, 0:2] + tau * Ps[:, 2:4]
    S = PHt[0:2] + tau * PHt[2:4] + R
    return r, S, PHt


def mahalanobis2(r: FloatArray, S: FloatArray) -> FloatArray:
    """Squared Mahalanobis distances ``r^T S^-1 r``, shape (k,), of (2, k) residuals under (2, 2, k) S."""
    a = S[0, 0]
    b = 0.5 * (S[0, 1] + S[1, 0])
    d = S[1, 1]
    dx = r[0]
    dy = r[1]
    return np.asarray((d * dx * dx - 2.0 * b * dx * dy + a * dy * dy) / (a * d - b * b))


def _apply(xs: FloatArray, Ps: FloatArray, r: FloatArray, S: FloatArray, PHt: FloatArray) -> FloatArray:
    """Kalman gain step on component-first blocks; updates ``xs`` in place, returns new ``Ps``."""
    det = S[0, 0] * S[1, 1] - S[0, 1] * S[1, 0]
    Si = np.empty_like(S)
    Si[0, 0] = S[1, 1] / det
    Si[0, 1] = -S[0, 1] / det
    Si[1, 0] = -S[1, 0] / det
    Si[1, 1] = S[0, 0] / det
    K = PHt[:, 0:1] * Si[None, 0] + PHt[:, 1:2] * Si[None, 1]
    xs += K[:, 0] * r[0] + K[:, 1] * r[1]
    Ps -= K[:, None, 0] * PHt[None, :, 0] + K[:, None, 1] * PHt[None, :, 1]
    return np.asarray(0.5 * (Ps + Ps.transpose(1, 0, 2)))


def _blocks(x: FloatArray, P: FloatArray, rows: IntArray) -> tuple[FloatArray, FloatArray]:
    return x.T[:, rows], P.transpose(1, 2, 0)[:, :, rows]


def _store(x: FloatArray, P: FloatArray, rows: IntArray, xs: FloatArray, Ps: FloatArray) -> None:
    x.T[:, rows] = xs
    P.transpose(1, 2, 0)[:, :, rows] = Ps


class KalmanUpdater:
    """Kalman update of selected tracks with position (and optionally velocity) measurements."""

    def update(
        self,
        x: FloatArray,
        P: FloatArray,
        rows: IntArray,
        z: FloatArray,
        R: FloatArray,
        tau: FloatArray,
    ) -> None:
        """Update tracks ``rows`` with one position measurement each, in place.

        Parameters
        ----------
        x, P
            (N, 4) states and (N, 4, 4) covariances of all tracks.
        rows
            (k,) distinct track rows.
        z, R, tau
            (k, 2) positions m, (k, 2, 2) covariances m^2, (k,) time offsets s.
        """
        xs, Ps = _blocks(x, P, rows)
        r, S, PHt = innovation(xs, Ps, z.T, R.transpose(1, 2, 0), tau)
        _store(x, P, rows, xs, _apply(xs, Ps, r, S, PHt))

    def update_velocity(self, x: FloatArray, P: FloatArray, rows: IntArray, v: FloatArray, Rv: FloatArray) -> None:
        """Update tracks ``rows`` with one velocity measurement each, in place.

        Parameters
        ----------
        x, P
            (N, 4) states and (N, 4, 4) covariances of all tracks.
        rows
            (k,) distinct track rows.
        v, Rv
            (k, 2) velocities m/s and (k, 2, 2) covariances (m/s)^2.
        """
        xs, Ps = _blocks(x, P, rows)
        r = v.T - xs[2:4]
        PHt = Ps[:, 2:4]
        S = PHt[2:4] + Rv.transpose(1, 2, 0)
        _store(x, P, rows, xs, _apply(xs, Ps, r, S, PHt))


def combine(group: IntArray, n_groups: int, z: FloatArray, R: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Fuse measurements of the same quantity, group by group, in information form.

    ``R_c = (sum R_j^-1)^-1`` and ``z_c = R_c sum R_j^-1 z_j``: one update with ``(z_c, R_c)``
    equals the sequential updates with every ``(z_j, R_j)`` of the group (same ``H``,
    independent errors).

    Parameters
    ----------
    group
        (k,) group of each measurement, 0 .. n_groups - 1 (every group non-empty).
    n_groups
        Number of groups ``G``.
    z
        (k, 2) measurements.
    R
        (k, 2, 2) covariances.

    Returns
    -------
    zc
        (G, 2) fused measurements.
    Rc
        (G, 2, 2) their covariances.
    """
    a, b, c = R[:, 0, 0], 0.5 * (R[:, 0, 1] + R[:, 1, 0]), R[:, 1, 1]
    det = a * c - b * b
    ia, ib, ic = c / det, -b / det, a / det
    y0 = ia * z[:, 0] + ib * z[:, 1]
    y1 = ib * z[:, 0] + ic * z[:, 1]
    sums = [np.bincount(group, weights=w, minlength=n_groups) for w in (ia, ib, ic, y0, y1)]
    sa, sb, sc, s0, s1 = sums
    sdet = sa * sc - sb * sb
    Rc = np.empty((n_groups, 2, 2))
    Rc[:, 0, 0] = sc / sdet
    Rc[:, 0, 1] = Rc[:, 1, 0] = -sb / sdet
    Rc[:, 1, 1] = sa / sdet
    zc = np.stack([Rc[:, 0, 0] * s0 + Rc[:, 0, 1] * s1, Rc[:, 1, 0] * s0 + Rc[:, 1, 1] * s1], axis=1)
    return zc, Rc
