"""Deletion role: confirmed tracks that lost their object."""

from __future__ import annotations

import numpy as np

from fusion.arraytypes import BoolArray
from fusion.tracks import TrackStore


class MissDeleter:
    """Delete a confirmed track after consecutive missed ticks or when its position is lost.

    Parameters
    ----------
    max_misses
        Ticks without any update after which a track is deleted.
    max_position_var
        Largest ``P_xx + P_yy`` (m^2) a track may reach before it is deleted.
    """

    def __init__(self, max_misses: int = 5, max_position_var: float = 100.0) -> None:
        self.max_misses = int(max_misses)
        self.max_position_var = float(max_position_var)

    def delete(self, store: TrackStore) -> BoolArray:
        """Rows to delete, shape (n_tracks,) bool (tentative tracks are the initiator's)."""
        lost = (store.misses >= self.max_misses) | (store.P[:, 0, 0] + store.P[:, 1, 1] > self.max_position_var)
        return np.asarray(store.confirmed & lost)
