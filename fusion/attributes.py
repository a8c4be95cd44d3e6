"""Class and size of each track by confidence-weighted vote over its measurements."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import FloatArray, IntArray
from fusion.measurements import Measurements
from fusion.tracks import N_CLASSES, TrackStore


class AttributeVoter:
    """Accumulates votes: a class gets the measurement's weight; sizes are weighted means."""

    def vote(self, store: TrackStore, rows: IntArray, meas: Measurements, idx: IntArray) -> None:
        """Add the votes of measurements ``idx`` to tracks ``rows`` (both (k,); rows may repeat).

        All tallies of all tracks in one ``bincount``: row ``c`` of ``store.tallies`` is class
        ``c``'s votes, then the size weight and the weighted length and width sums.
        """
        n = store.n
        cls = meas.cls[idx].astype(np.int64)
        w = meas.weight[idx].astype(np.float64)
        length = meas.length[idx]
        width = meas.width[idx]
        ws = np.where((length > 0) & (width > 0), w, 0.0)  # unknown sizes weigh nothing
        keys = np.concatenate(
            [cls * n + rows, rows + N_CLASSES * n, rows + (N_CLASSES + 1) * n, rows + (N_CLASSES + 2) * n]
        )
        weights = np.concatenate([np.where(cls > 0, w, 0.0), ws, ws * length, ws * width])
        store.tallies += np.bincount(keys, weights, minlength=(N_CLASSES + 3) * n).reshape(N_CLASSES + 3, n)

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
