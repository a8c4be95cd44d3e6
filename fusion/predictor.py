"""Prediction role: move every track's state and covariance forward in time at once.

The motion model is nearly-constant velocity in the plane (white-noise acceleration with
spectral density ``q`` per axis), state ``[x, y, vx, vy]``::

    F(dt) = [[I, dt I], [0, I]]        Q(dt) = q [[dt^3/3 I, dt^2/2 I], [dt^2/2 I, dt I]]

``F P F^T`` is applied in place with slice arithmetic (no per-track matrices are built). A
negative ``dt`` (a sensor frame slightly older than the tracks) moves the mean back exactly and
adds ``Q(|dt|)``: a conservative retrodiction.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import FloatArray


def transition_matrix(dt: float) -> FloatArray:
    """``F(dt)``, shape (4, 4), for state ``[x, y, vx, vy]`` (dt in s)."""
    f = np.eye(4)
    f[0, 2] = f[1, 3] = dt
    return f


def process_noise(dt: float, q: float) -> FloatArray:
    """``Q(dt)``, shape (4, 4), for spectral density ``q`` (m^2/s^3) and ``|dt|`` s."""
    a = abs(dt)
    out = np.zeros((4, 4))
    out[0, 0] = out[1, 1] = q * a**3 / 3.0
    out[0, 2] = out[2, 0] = out[1, 3] = out[3, 1] = q * a**2 / 2.0
    out[2, 2] = out[3, 3] = q * a
    return out


class KalmanPredictor:
    """Nearly-constant-velocity Kalman prediction of all tracks.

    Parameters
    ----------
    q
        Acceleration noise spectral density per axis, m^2/s^3.
    """

    def __init__(self, q: float = 2.0) -> None:
        self.q = float(q)
        self._q_for = (float("nan"), float("nan"))  # (dt, q) of the cached Q
        self._q: FloatArray = np.zeros((4, 4, 1))

    def predict(self, x: FloatArray, P: FloatArray, dt: float | npt.ArrayLike) -> None:
        """Predict in place.

        Parameters
        ----------
        x
            (N, 4) states, overwritten.
        P
            (N, 4, 4) covariances, overwritten.
        dt
            Time step(s) in s: a scalar or shape (N,).
        """
        d: float | FloatArray = float(dt) if isinstance(dt, float | int) else np.asarray(dt, dtype=np.float64)
        if not isinstance(d, float) and d.ndim == 0:
            d = float(d)
        if isinstance(d, float) and d == 0.0:
            return
        # component-first views: on the store's contiguous blocks every operation runs along
        # the long axis of tracks
        xT = x.T
        PT = P.transpose(1, 2, 0)
        xT[0:2] += d * xT[2:4]
        PT[0:2] += d * PT[2:4]
        PT[:, 0:2] += d * PT[:, 2:4]
        if isinstance(d, float):
            if (d, self.q) != self._q_for:
                self._q_for, self._q = (d, self.q), process_noise(d, self.q)[:, :, None]
            PT += self._q
            return
        a = np.abs(d)
        q3 = self.q * a**3 / 3.0
        q2 = self.q * a**2 / 2.0
        q1 = self.q * a
        PT[0, 0] += q3
        PT[1, 1] += q3
        PT[0, 2] += q2
        PT[2, 0] += q2
        PT[1, 3] += q2
        PT[3, 1] += q2
        PT[2, 2] += q1
        PT[3, 3] += q1
