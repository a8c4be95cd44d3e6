"""The peer: Stone Soup 1.9's MultiTargetTracker on the same detection stream.

Components as in ``shared/MEASURED.md``: Kalman predictor/updater with the same
nearly-constant-velocity model as ours (q per axis), Mahalanobis ``DistanceHypothesiser`` (gate
3), ``GNNWith2DAssignment`` behind a KD-tree pre-gate of 10 m (``DetectionKDTreeGNN2D``),
``MultiMeasurementInitiator`` (3 points) and ``UpdateTimeStepsDeleter`` (5 time steps). Each
sensor's detections are one scan (the KD-tree associator needs one measurement model per scan);
the three scans of a tick share its timestamp, so every tick is 5 "time steps" apart as for ours.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.transition.linear import CombinedLinearGaussianTransitionModel, ConstantVelocity
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import KalmanUpdater

from bench.fusion_vs_stonesoup.scenario import Frame

EPOCH = datetime.datetime(2026, 1, 1, 8, 0, 0)


def _when(t: float) -> datetime.datetime:
    return EPOCH + datetime.timedelta(seconds=t)


class _Scans:
    """Yields ``(time, detections)`` per sensor scan; the tracker's detector."""

    def __init__(self, scans: list[tuple[datetime.datetime, set[Any]]]) -> None:
        self.scans = scans

    def __iter__(self) -> Iterator[tuple[datetime.datetime, set[Any]]]:
        return iter(self.scans)


def to_scans(frames: list[Frame], sigma: npt.NDArray[np.float64]) -> list[list[tuple[datetime.datetime, set[Any]]]]:
    """Stone Soup detections, per tick a list of per-sensor scans (built before any timing)."""
    models = [LinearGaussian(ndim_state=4, mapping=(0, 2), noise_covar=np.eye(2) * s**2) for s in sigma]
    out = []
    for f in frames:
        when = _when(f.t)
        d = f.detections
        ticks = []
        for s, model in enumerate(models):
            rows = d[d["sensor"] == s]
            dets = {
                Detection(np.array([[x], [y]]), timestamp=when, measurement_model=model)
                for x, y in zip(rows["x"].tolist(), rows["y"].tolist(), strict=True)
            }
            ticks.append((when, dets))
        out.append(ticks)
    return out


def build(scans: list[tuple[datetime.datetime, set[Any]]], q: float) -> MultiTargetTracker:
    """The peer tracker over a flat list of scans."""
    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(q), ConstantVelocity(q)])
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(measurement_model=None)
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(), missed_distance=3)
    associator = DetectionKDTreeGNN2D(
        hypothesiser=hypothesiser, predictor=predictor, updater=updater, max_distance=10.0
    )
    prior = GaussianState(np.zeros((4, 1)), np.diag([0.0, 10.0**2, 0.0, 10.0**2]))
    initiator = MultiMeasurementInitiator(
        prior_state=prior,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=2),
        data_associator=GNNWith2DAssignment(hypothesiser),
        updater=updater,
        measurement_model=None,
        min_points=3,
    )
    return MultiTargetTracker(
        initiator=initiator,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=5),
        detector=_Scans(scans),
        data_associator=associator,
        updater=updater,
    )


def run(
    ticks: list[list[tuple[datetime.datetime, set[Any]]]],
    q: float,
    pause: Callable[[], None] | None = None,
    every: int = 20,
) -> tuple[float, float, list[tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]]]:
    """Track every tick; after every ``every`` ticks call ``pause`` (outside the timing).

    Returns
    -------
    seconds, cpu_seconds
        Wall and CPU time spent inside Stone Soup.
    tracks
        Per tick, the (n, 2) track positions m and (n,) track numbers (stable per track).
    """
    flat = [scan for tick in ticks for scan in tick]
    tracker = build(flat, q)
    it = iter(tracker)
    spent = cpu = 0.0
    numbers: dict[int, int] = {}
    out = []
    for tick in ticks:
        tracks: set[Any] = set()
        for _ in tick:
            t0, c0 = time.perf_counter(), time.process_time()
            _, tracks = next(it)
            spent += time.perf_counter() - t0
            cpu += time.process_time() - c0
        listed = list(tracks)
        xy = np.array([[float(tr.state_vector[0, 0]), float(tr.state_vector[2, 0])] for tr in listed])
        ids = np.array([numbers.setdefault(id(tr), len(numbers)) for tr in listed], dtype=np.int64)
        out.append((xy.reshape(-1, 2), ids))
        if pause is not None and len(out) % every == 0:
            pause()
    return spent, cpu, out


def gospa_check(truth: npt.NDArray[np.float64], tracks: npt.NDArray[np.float64], c: float, p: float) -> float:
    """Stone Soup's own GOSPAMetric (alpha 2) on one tick, positions only, for a cross-check."""
    from stonesoup.measures import Euclidean
    from stonesoup.metricgenerator.ospametric import GOSPAMetric
    from stonesoup.types.state import State

    when = EPOCH

    def states(xy: npt.NDArray[np.float64]) -> list[Any]:
        return [State(np.array([[x], [0.0], [y], [0.0]]), timestamp=when) for x, y in xy.tolist()]

    metric = GOSPAMetric(c=c, p=p, measure=Euclidean(mapping=[0, 2]))
    value, _ = metric.compute_gospa_metric(states(tracks), states(truth))
    return float(value.value["distance"])
