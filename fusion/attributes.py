"""Class and size of each track by confidence-weighted vote over its measurements."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import FloatArray, IntArray
from fusion.measurements import Measurements
from fusion.tracks import N_CLASSES, TrackStore

#: the tally row of a measurement's class (0, the class is added), size weight and sums
_ROWS = np.array([0, N_CLASSES, N_CLASSES + 1, N_CLASSES + 2])[:, None]


class AttributeVoter:
    """Accumulates votes: a class gets the measurement's weight; sizes are weighted means."""

    def vote(self, store: TrackStore, rows: IntArray, meas: Measurements, idx: IntArray) -> None:
        """Add the votes of measurements ``idx`` to tracks ``rows`` (both (k,); rows may repeat).

        All tallies of all tracks in one ``bincount``: row ``c`` of ``store.tallies`` is class
        ``c``'s votes, then the size weight and the weighted length and width sums.
        """
        n, k = store.n, len(rows)
        cls = meas.cls[idx]
        w = meas.weight[idx]
        length = meas.length[idx]
        width = meas.width[idx]
        keys = rows + _ROWS * n  # rows of the tallies: class (added below), size weight, sums
        keys[0] += cls.astype(np.int64) * n
        weights = np.empty((4, k))
        np.multiply(w, cls > 0, out=weights[0])
        np.multiply(w, np.minimum(length, width) > 0, out=weights[1])  # unknown sizes weigh nothing
        np.multiply(weights[1], length, out=weights[2])
        np.multiply(weights[1], width, out=weights[3])
        store.tallies += np.bincount(keys.ravel(), weights.ravel(), minlength=(N_CLASSES + 3) * n).reshape(
            N_CLASSES + 3, n
        )

    def resolve(self, store: TrackStore, rows: IntArray) -> tuple[npt.NDArray[np.uint8], FloatArray, FloatArray]:
        """Voted class (0 with no votes), length and width (m, 0 unknown) of tracks ``rows``."""
        tallies = store.tallies.take(rows, axis=1)  # (N_CLASSES + 3, k)
        # class 0 never gets a vote, so the first maximum is 0 exactly when there are no votes
        cls = tallies[:N_CLASSES].argmax(axis=0).astype(np.uint8)
        w = tallies[N_CLASSES]
        sizes = np.zeros((2, len(rows)))
        np.divide(tallies[N_CLASSES + 1 :], w, out=sizes, where=w > 0)
        return cls, sizes[0], sizes[1]
