"""The Kalman predictor and updater against closed-form answers."""

from __future__ import annotations

import numpy as np
import pytest

from fusion.predictor import KalmanPredictor, process_noise, transition_matrix
from fusion.tracks import TrackStore
from fusion.updater import KalmanUpdater, combine

RNG = np.random.default_rng(7)


def _pack(R: np.ndarray) -> np.ndarray:
    """(k, 2, 2) covariances as the updater's packed (3, k) ``[xx; xy; yy]``."""
    return np.stack([R[:, 0, 0], R[:, 0, 1], R[:, 1, 1]])


def _spd(n: int, k: int) -> np.ndarray:
    a = RNG.normal(size=(n, k, k))
    return a @ np.swapaxes(a, 1, 2) + k * np.eye(k)


@pytest.mark.parametrize("dt", [0.1, 1.0, 0.0, -0.05], ids=["tick", "one-second", "zero", "backwards"])
@pytest.mark.parametrize("layout", ["rows", "store"], ids=["row-major", "component-first"])
def test_predict_is_F_P_Ft_plus_Q(dt: float, layout: str) -> None:
    x = RNG.normal(size=(5, 4))
    P = _spd(5, 4)
    F = transition_matrix(dt)
    want_x = x @ F.T
    want_P = F @ P @ F.T + process_noise(dt, 2.0)
    if layout == "store":
        st = TrackStore()
        st.add(x, P, 0.0)
        xs, Ps = st.x, st.P
    else:
        xs, Ps = x.copy(), P.copy()
    KalmanPredictor(q=2.0).predict(xs, Ps, dt)
    np.testing.assert_allclose(xs, want_x, atol=1e-12)
    np.testing.assert_allclose(Ps, want_P, atol=1e-12)


def test_predict_per_track_steps() -> None:
    x = RNG.normal(size=(3, 4))
    P = _spd(3, 4)
    dts = np.array([0.1, 0.0, 0.5])
    xs, Ps = x.copy(), P.copy()
    KalmanPredictor(q=0.7).predict(xs, Ps, dts)
    for i, dt in enumerate(dts):
        F = transition_matrix(dt)
        np.testing.assert_allclose(xs[i], F @ x[i], atol=1e-12)
        np.testing.assert_allclose(Ps[i], F @ P[i] @ F.T + process_noise(dt, 0.7), atol=1e-12)


def test_process_noise_by_hand() -> None:
    # q = 3, dt = 2: dt^3/3 = 8/3, dt^2/2 = 2, dt = 2
    Q = process_noise(2.0, 3.0)
    assert Q[0, 0] == pytest.approx(8.0) and Q[1, 1] == pytest.approx(8.0)
    assert Q[0, 2] == pytest.approx(6.0) and Q[3, 1] == pytest.approx(6.0)
    assert Q[2, 2] == pytest.approx(6.0) and Q[0, 1] == 0.0


def _textbook(
    x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray, H: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    S = H @ P @ H.T + R
    K = P @ H.T @ np.linalg.inv(S)
    return x + K @ (z - H @ x), (np.eye(4) - K @ H) @ P


@pytest.mark.parametrize("tau", [0.0, 0.04, -0.07], ids=["same-time", "later-frame", "earlier-frame"])
@pytest.mark.parametrize("rows", [[4, 0, 2], [4, 0, 2, 5, 1]], ids=["some-tracks", "most-tracks"])
def test_position_update_matches_textbook(tau: float, rows: list[int]) -> None:
    n = 6
    x = RNG.normal(size=(n, 4))
    P = _spd(n, 4)
    z = RNG.normal(size=(n, 2))
    R = _spd(n, 2)
    idx = np.array(rows)
    xs, Ps = x.copy(), P.copy()
    KalmanUpdater().update(xs, Ps, idx, z[idx].T, _pack(R[idx]), np.full(len(idx), tau))
    H = np.hstack([np.eye(2), tau * np.eye(2)])
    for r in range(n):
        if r in rows:
            wx, wP = _textbook(x[r], P[r], z[r], R[r], H)
            np.testing.assert_allclose(xs[r], wx, atol=1e-10)
            np.testing.assert_allclose(Ps[r], wP, atol=1e-10)
            assert np.array_equal(Ps[r], Ps[r].T)  # symmetric to the last bit
        else:  # untouched, exactly
            assert np.array_equal(xs[r], x[r]) and np.array_equal(Ps[r], P[r])


def test_velocity_update_matches_textbook() -> None:
    x = RNG.normal(size=(2, 4))
    P = _spd(2, 4)
    v = RNG.normal(size=(2, 2))
    Rv = _spd(2, 2)
    xs, Ps = x.copy(), P.copy()
    KalmanUpdater().update_velocity(xs, Ps, np.array([0, 1]), v.T, _pack(Rv))
    H = np.hstack([np.zeros((2, 2)), np.eye(2)])
    for r in range(2):
        wx, wP = _textbook(x[r], P[r], v[r], Rv[r], H)
        np.testing.assert_allclose(xs[r], wx, atol=1e-10)
        np.testing.assert_allclose(Ps[r], wP, atol=1e-10)


def test_combined_measurements_equal_sequential_updates() -> None:
    x = RNG.normal(size=(1, 4))
    P = _spd(1, 4)
    z = RNG.normal(size=(3, 2))
    R = _spd(3, 2)
    seq_x, seq_P = x.copy(), P.copy()
    up = KalmanUpdater()
    for k in range(3):
        up.update(seq_x, seq_P, np.array([0]), z[k : k + 1].T, _pack(R[k : k + 1]), np.zeros(1))
    zc, Rc = combine(np.zeros(3, dtype=np.int64), 1, z.T, _pack(R))
    one_x, one_P = x.copy(), P.copy()
    up.update(one_x, one_P, np.array([0]), zc, Rc, np.zeros(1))
    np.testing.assert_allclose(one_x, seq_x, atol=1e-10)
    np.testing.assert_allclose(one_P, seq_P, atol=1e-10)


@pytest.mark.parametrize("tau", [0.0, 0.04], ids=["same-time", "later-frames"])
def test_information_update_equals_sequential_updates(tau: float) -> None:
    """Summed information of several measurements per track: the same as updating with each in
    turn; a track without information is left exactly as it was; P stays symmetric."""
    n = 5
    st = TrackStore()
    st.add(RNG.normal(size=(n, 4)), _spd(n, 4), 0.0)
    x0, P0 = st.x.copy(), st.P.copy()
    # track 0: three measurements, 1: one, 2: none, 3: two, 4: none
    rows = np.array([0, 0, 0, 1, 3, 3])
    z = RNG.normal(size=(len(rows), 2))
    R = _spd(len(rows), 2)
    info = np.zeros((3, n))
    vec = np.zeros((2, n))
    for k, r in enumerate(rows):
        Ri = np.linalg.inv(R[k])
        info[:, r] += Ri[0, 0], Ri[0, 1], Ri[1, 1]
        vec[:, r] += Ri @ z[k]
    KalmanUpdater().update_information(st.x, st.P, info, vec, tau)
    up = KalmanUpdater()
    seq_x, seq_P = x0.copy(), P0.copy()
    for k, r in enumerate(rows):
        up.update(seq_x, seq_P, np.array([r]), z[k : k + 1].T, _pack(R[k : k + 1]), np.array([tau]))
    np.testing.assert_allclose(st.x, seq_x, atol=1e-10)
    np.testing.assert_allclose(st.P, seq_P, atol=1e-10)
    for r in (2, 4):
        assert np.array_equal(st.x[r], x0[r]) and np.array_equal(st.P[r], P0[r])
    assert np.array_equal(st.P, st.P.transpose(0, 2, 1))


def test_filter_equals_batch_least_squares() -> None:
    """Without process noise the Kalman filter's posterior is the weighted least-squares fit."""
    n_tracks, n_steps, dt = 4, 12, 0.1
    truth = RNG.normal(scale=10.0, size=(n_tracks, 4))
    x0 = truth + RNG.normal(size=(n_tracks, 4))
    P0 = np.tile(np.diag([4.0, 4.0, 9.0, 9.0]), (n_tracks, 1, 1))
    R = np.tile(np.diag([0.5, 0.8]), (n_tracks, 1, 1))
    st = TrackStore()
    st.add(x0, P0, 0.0)
    pred, up = KalmanPredictor(q=0.0), KalmanUpdater()
    zs = []
    for k in range(1, n_steps + 1):
        pred.predict(st.x, st.P, dt)
        z = (truth @ transition_matrix(k * dt).T)[:, 0:2] + RNG.normal(scale=0.7, size=(n_tracks, 2))
        zs.append(z)
        up.update(st.x, st.P, np.arange(n_tracks), z.T, _pack(R), np.zeros(n_tracks))
    T = n_steps * dt
    H = np.hstack([np.eye(2), np.zeros((2, 2))])
    for i in range(n_tracks):
        FT = transition_matrix(T)
        info = np.linalg.inv(FT @ P0[i] @ FT.T)
        vec = info @ (FT @ x0[i])
        Ri = np.linalg.inv(R[i])
        for k, z in enumerate(zs, start=1):
            A = H @ transition_matrix(k * dt - T)
            info += A.T @ Ri @ A
            vec += A.T @ Ri @ z[i]
        cov = np.linalg.inv(info)
        np.testing.assert_allclose(st.x[i], cov @ vec, atol=1e-8)
        np.testing.assert_allclose(st.P[i], cov, atol=1e-8)
