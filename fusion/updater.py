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
        (3, k) packed measurement covariances ``[xx; xy; yy]``, m^2.
    tau
        (k,) measurement time minus state time, s.

    Returns
    -------
    r
        (2, k) residuals ``z - H x``, m.
    S
        (3, k) packed innovation covariances ``H P H^T + R``.
    PHt
        (4, 2, k) cross covariances ``P H^T``.
    """
    if np.count_nonzero(tau):
        r = z - (xs[0:2] + tau * xs[2:4])
        PHt = Ps[:, 0:2] + tau * Ps[:, 2:4]
        HPHt = PHt[0:2] + tau * PHt[2:4]
    else:
        r = z - xs[0:2]
        PHt = Ps[:, 0:2].copy()
        HPHt = PHt[0:2]
    S = np.empty((3, len(tau)))
    S[0] = HPHt[0, 0] + R[0]
    S[1] = 0.5 * (HPHt[0, 1] + HPHt[1, 0]) + R[1]
    S[2] = HPHt[1, 1] + R[2]
    return r, S, PHt


def mahalanobis2(r: FloatArray, S: FloatArray) -> FloatArray:
    """Squared Mahalanobis distances ``r^T S^-1 r``, shape (k,), of (2, k) residuals under packed (3, k) S."""
    dx = r[0]
    dy = r[1]
    return np.asarray((S[2] * dx * dx - 2.0 * S[1] * dx * dy + S[0] * dy * dy) / (S[0] * S[2] - S[1] * S[1]))


def _apply(
    xs: FloatArray, Ps: FloatArray, r: FloatArray, S: FloatArray, PHt: FloatArray, mask: FloatArray | None = None
) -> FloatArray:
    """Kalman gain step on component-first blocks; updates ``xs`` and ``Ps`` in place.

    ``P - K S K^T`` with ``K = P H^T S^-1`` is ``P - PHt S^-1 PHt^T`` (see :func:`_correct`).
    ``mask`` (k,) of 1.0 / 0.0 leaves the columns with 0.0 exactly as they are.
    """
    det = S[0] * S[2] - S[1] * S[1]
    inv = 1.0 / det if mask is None else mask / det  # zero gain where masked
    i00, i01, i11 = S[2] * inv, -S[1] * inv, S[0] * inv
    a = PHt[:, 0]  # (4, k)
    b = PHt[:, 1]
    xs += (a * i00 + b * i01) * r[0] + (a * i01 + b * i11) * r[1]
    _correct(Ps, a, b, i00, i01, i11)
    return Ps


def _correct(Ps: FloatArray, a: FloatArray, b: FloatArray, m00: FloatArray, m01: FloatArray, m11: FloatArray) -> None:
    """``Ps -= [a b] M [a b]^T`` for (4, k) columns ``a, b`` and symmetric positive
    semi-definite (2, 2, k) ``M``, in place.

    With the Cholesky factor ``M = L L^T`` the correction is ``u u^T + v v^T`` for
    ``[u v] = [a b] L``: two outer products, each symmetric to the last bit, so a symmetric
    ``Ps`` stays symmetric without re-symmetrising. Where ``M`` is zero the correction is
    exactly zero.
    """
    l00 = np.sqrt(np.maximum(m00, 0.0))
    l10 = np.divide(m01, l00, out=np.zeros(l00.shape), where=l00 > 0.0)
    l11 = m11 - l10 * l10
    np.maximum(l11, 0.0, out=l11)  # rounding
    np.sqrt(l11, out=l11)
    u = a * l00
    u += b * l10
    v = b * l11
    c = u[:, None] * u[None]
    c += v[:, None] * v[None]
    Ps -= c


#: rows gathered for B = info A + I ([b00; b01; b10; b11]): info [sa; sb; sc] rows times the
#: packed A rows, twice; from the covariance's 16 rows directly when tau is 0
_I1, _I2 = np.array([0, 0, 1, 1]), np.array([1, 1, 2, 2])
_A1, _A2 = np.array([0, 1, 0, 1]), np.array([1, 2, 1, 2])
_P1, _P2 = np.array([0, 1, 0, 1]), np.array([1, 5, 1, 5])
#: M = B^-1 info: [b11; b11; b00] * info - [b01; b01; b10] * [sb; sc; sb]
_M1, _M2, _M3 = np.array([3, 3, 0]), np.array([1, 1, 2]), np.array([1, 2, 1])
#: w = B^-1 y: [b11; b00] * y - [b01; b10] * [y1; y0]
_W1, _W2 = np.array([3, 0]), np.array([1, 2])


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
            (2, k) positions m, (3, k) packed covariances ``[xx; xy; yy]`` m^2, (k,) time
            offsets s.
        """
        n = len(x)
        if 2 * len(rows) > n:
            # most tracks: update all of them in place, the others with a zero gain, rather
            # than gather and scatter (4, 4, k) blocks
            zf, Rf, tf, mask = np.zeros((2, n)), np.ones((3, n)), np.zeros(n), np.zeros(n)
            Rf[1] = 0.0
            for c in range(2):
                zf[c][rows] = z[c]
            for c in range(3):
                Rf[c][rows] = R[c]
            tf[rows] = tau
            mask[rows] = 1.0
            xs, Ps = x.T, P.transpose(1, 2, 0)
            r, S, PHt = innovation(xs, Ps, zf, Rf, tf)
            _apply(xs, Ps, r, S, PHt, mask)
            return
        xs, Ps = _blocks(x, P, rows)
        r, S, PHt = innovation(xs, Ps, z, R, tau)
        _store(x, P, rows, xs, _apply(xs, Ps, r, S, PHt))

    def update_information(self, x: FloatArray, P: FloatArray, info: FloatArray, vec: FloatArray, tau: float) -> None:
        """Update every track with its measurements' summed position information, in place.

        For measurements ``z_j`` with covariances ``R_j`` taken ``tau`` s after the state,
        ``info = sum R_j^-1`` and ``vec = sum R_j^-1 z_j`` per track; with ``A = H P H^T`` and
        ``B = info A + I``, the gain step is ``x += P H^T B^-1 (vec - info H x)`` and
        ``P -= P H^T B^-1 info H P``: the Kalman update with the fused measurement, written so
        that a track without measurements (``info = 0``) gets exactly zero gain, and no
        per-track gathers or scatters are needed. ``B`` has determinant at least 1.

        Parameters
        ----------
        x, P
            (N, 4) states and (N, 4, 4) covariances of all tracks (fastest as the store's
            component-first views).
        info
            (3, N) packed ``[xx; xy; yy]`` information, m^-2 (zero for tracks not measured).
        vec
            (2, N) information-weighted positions, m^-1.
        tau
            Measurement time minus state time, s, the same for all.
        """
        xs = x.T
        Ps = P.transpose(1, 2, 0)
        if tau:
            PHt = Ps[:, 0:2] + tau * Ps[:, 2:4]
            h = xs[0:2] + tau * xs[2:4]
            A = np.empty((3, len(x)))  # H P H^T packed [a00; a01; a11]
            np.multiply(PHt[2, 0], tau, out=A[0])
            A[0] += PHt[0, 0]
            A[1] = 0.5 * (PHt[0, 1] + tau * PHt[2, 1] + PHt[1, 0] + tau * PHt[3, 0])
            np.multiply(PHt[3, 1], tau, out=A[2])
            A[2] += PHt[1, 1]
            a1, a2 = A.take(_A1, axis=0), A.take(_A2, axis=0)
        else:
            PHt = Ps[:, 0:2]
            h = xs[0:2]
            P16 = Ps.reshape(16, -1)
            a1, a2 = P16.take(_P1, axis=0), P16.take(_P2, axis=0)
        # B = info A + I as rows [b00; b01; b10; b11], then scaled by 1 / det B (adjugate entries)
        B = info.take(_I1, axis=0)
        B *= a1
        B += info.take(_I2, axis=0) * a2
        B[0::3] += 1.0
        B *= 1.0 / (B[0] * B[3] - B[1] * B[2])
        # y = vec - info H x, rows [y0; y1]
        y = info[0:2] * h[0]
        y += info[1:3] * h[1]
        np.subtract(vec, y, out=y)
        # M = B^-1 info (symmetric) [m00; m01; m11], weights w = B^-1 y
        M = B.take(_M1, axis=0)
        M *= info
        M -= B.take(_M2, axis=0) * info.take(_M3, axis=0)
        w = B.take(_W1, axis=0)
        w *= y
        w -= B.take(_W2, axis=0) * y[::-1]
        a = PHt[:, 0]  # (4, N)
        b = PHt[:, 1]
        xs += a * w[0] + b * w[1]
        _correct(Ps, a, b, M[0], M[1], M[2])

    def update_velocity(self, x: FloatArray, P: FloatArray, rows: IntArray, v: FloatArray, Rv: FloatArray) -> None:
        """Update tracks ``rows`` with one velocity measurement each, in place.

        Parameters
        ----------
        x, P
            (N, 4) states and (N, 4, 4) covariances of all tracks.
        rows
            (k,) distinct track rows.
        v, Rv
            (2, k) velocities m/s and (3, k) packed covariances (m/s)^2.
        """
        xs, Ps = _blocks(x, P, rows)
        r = v - xs[2:4]
        PHt = Ps[:, 2:4].copy()
        S = np.empty((3, len(rows)))
        S[0] = PHt[2, 0] + Rv[0]
        S[1] = 0.5 * (PHt[2, 1] + PHt[3, 0]) + Rv[1]
        S[2] = PHt[3, 1] + Rv[2]
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
        (2, k) measurements.
    R
        (3, k) packed covariances ``[xx; xy; yy]``.

    Returns
    -------
    zc
        (2, G) fused measurements.
    Rc
        (3, G) their packed covariances.
    """
    a, b, c = R[0], R[1], R[2]
    det = a * c - b * b
    ia, ib, ic = c / det, -b / det, a / det
    y0 = ia * z[0] + ib * z[1]
    y1 = ib * z[0] + ic * z[1]
    sa, sb, sc, s0, s1 = (np.bincount(group, weights=w, minlength=n_groups) for w in (ia, ib, ic, y0, y1))
    sdet = sa * sc - sb * sb
    Rc = np.empty((3, n_groups))
    Rc[0] = sc / sdet
    Rc[1] = -sb / sdet
    Rc[2] = sa / sdet
    zc = np.empty((2, n_groups))
    zc[0] = Rc[0] * s0 + Rc[1] * s1
    zc[1] = Rc[1] * s0 + Rc[2] * s1
    return zc, Rc
