"""Class and size of each track by confidence-weighted vote over its measurements."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import FloatArray, IntArray
from fusion.measurements import Measurements
from fusion.tracks import TrackStore


class AttributeVoter:
    """Accumulates votes: a class gets the measurement's weight; sizes are weighted means."""

    def vote(self, store: TrackStore, rows: IntArray, meas: Measurements, idx: IntArray) -> None:
        """Add the votes of measurements ``idx`` to tracks ``rows`` (both (k,); rows may repeat)."""
        cls = meas.cls[idx]
        w = meas.weight[idx]
        known = cls > 0
        np.add.at(store.votes, (rows[known], cls[known]), w[known])
        length = meas.length[idx]
        width = meas.width[idx]
        sized = (length > 0) & (width > 0)
        r, ws = rows[sized], w[sized]
        np.add.at(store.size_w, r, ws)
        np.add.at(store.length_sum, r, ws * length[sized])
        np.add.at(store.width_sum, r, ws * width[sized])

    def resolve(self, store: TrackStore, rows: IntArray) -> tuple[npt.NDArray[np.uint8], FloatArray, FloatArray]:
        """Voted class (0 with no votes), length and width (m, 0 unknown) of tracks ``rows``."""
        votes = store.votes.T[:, rows]  # (N_CLASSES, k), one contiguous row per class
        best = votes.argmax(axis=0)
        cls = np.where(votes.max(axis=0) > 0, best, 0).astype(np.uint8)
        w = store.size_w[rows].astype(np.float64)
        safe = np.where(w > 0, w, 1.0)
        length = np.where(w > 0, store.length_sum[rows] / safe, 0.0)
        width = np.where(w > 0, store.width_sum[rows] / safe, 0.0)
        return cls, length, width
