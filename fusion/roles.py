"""The roles a :class:`fusion.tracker.Tracker` is built from, as structural interfaces.

Each role has one verb and works on arrays of all tracks at once. The defaults are
:class:`~fusion.predictor.KalmanPredictor`, :class:`~fusion.gating.MahalanobisGate`,
:class:`~fusion.association.GNNAssociator`, :class:`~fusion.updater.KalmanUpdater`,
:class:`~fusion.initiator.MofNInitiator`, :class:`~fusion.deleter.MissDeleter` and
:class:`~fusion.attributes.AttributeVoter`; tests may pass anything with the same methods.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import BoolArray, FloatArray, IntArray
from fusion.measurements import Measurements
from fusion.tracks import TrackStore


class Predictor(Protocol):
    """Moves (N, 4) states and (N, 4, 4) covariances ``dt`` seconds (scalar or (N,)), in place."""

    def predict(self, x: FloatArray, P: FloatArray, dt: float | npt.ArrayLike) -> None: ...


class Gate(Protocol):
    """Finds the (track, measurement) pairs that may be associated, with their costs."""

    threshold: float
    max_radius: float

    def gate(
        self, x: FloatArray, P: FloatArray, meas: Measurements, scale: float | FloatArray = 1.0
    ) -> tuple[IntArray, FloatArray, FloatArray]: ...


class Associator(Protocol):
    """Chooses pairs: each measurement at most once, each track at most once per scan."""

    def associate(self, pairs: IntArray, cost: FloatArray, scan: IntArray) -> IntArray: ...


class Updater(Protocol):
    """Kalman-updates rows of (N, 4) / (N, 4, 4) arrays in place, or all of them from summed
    position information."""

    def update(
        self, x: FloatArray, P: FloatArray, rows: IntArray, z: FloatArray, R: FloatArray, tau: FloatArray
    ) -> None: ...

    def update_information(
        self, x: FloatArray, P: FloatArray, info: FloatArray, vec: FloatArray, tau: float
    ) -> None: ...

    def update_velocity(self, x: FloatArray, P: FloatArray, rows: IntArray, v: FloatArray, Rv: FloatArray) -> None: ...


class Initiator(Protocol):
    """Starts tracks from measurements and decides when tentative tracks are confirmed or fail."""

    velocity_sd: float

    def initiate(self, meas: Measurements) -> tuple[FloatArray, FloatArray]: ...

    def confirm(self, store: TrackStore) -> None: ...

    def failed(self, store: TrackStore) -> BoolArray: ...


class Deleter(Protocol):
    """Says which tracks to delete, (n,) bool."""

    def delete(self, store: TrackStore) -> BoolArray: ...


class Voter(Protocol):
    """Accumulates class and size votes and resolves them."""

    def vote(self, store: TrackStore, rows: IntArray, meas: Measurements, idx: IntArray) -> None: ...

    def resolve(self, store: TrackStore, rows: IntArray) -> tuple[npt.NDArray[np.uint8], FloatArray, FloatArray]: ...
