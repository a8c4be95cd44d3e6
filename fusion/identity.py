"""Identities of connected vehicles (from their reports) and what they say about themselves."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import IntArray, StructArray


class IdentityTable:
    """Vehicle ids seen in reports, each with an index; the latest self-description of each.

    Attributes
    ----------
    vehicle_id
        (K,) str ids, in order of first sight.
    bus_line
        (K,) str line of a bus ("" otherwise).
    cls
        (K,) uint8 ObjectClass the vehicle reports (0 unknown).
    length, width
        (K,) float32 sizes m (0 unknown).
    """

    def __init__(self) -> None:
        self.vehicle_id: npt.NDArray[np.str_] = np.zeros(0, dtype="U40")
        self.bus_line: npt.NDArray[np.str_] = np.zeros(0, dtype="U16")
        self.cls: npt.NDArray[np.uint8] = np.zeros(0, dtype=np.uint8)
        self.length: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self.width: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._sorted: npt.NDArray[np.str_] = np.zeros(0, dtype="U40")
        self._order: IntArray = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.vehicle_id)

    def lookup(self, ids: npt.NDArray[np.str_]) -> IntArray:
        """Index of each id, shape (k,); unseen ids are added."""
        uniq, inv = np.unique(ids, return_inverse=True)
        pos = np.searchsorted(self._sorted, uniq)
        known = pos < len(self._sorted)
        known[known] = self._sorted[pos[known]] == uniq[known]
        index = np.empty(len(uniq), dtype=np.int64)
        index[known] = self._order[pos[known]]
        new = uniq[~known]
        if len(new):
            k = len(self.vehicle_id)
            index[~known] = np.arange(k, k + len(new))
            self.vehicle_id = np.concatenate([self.vehicle_id, new.astype("U40")])
            self.bus_line = np.concatenate([self.bus_line, np.zeros(len(new), dtype="U16")])
            self.cls = np.concatenate([self.cls, np.zeros(len(new), dtype=np.uint8)])
            self.length = np.concatenate([self.length, np.zeros(len(new), dtype=np.float32)])
            self.width = np.concatenate([self.width, np.zeros(len(new), dtype=np.float32)])
            self._order = np.argsort(self.vehicle_id, kind="stable").astype(np.int64)
            self._sorted = self.vehicle_id[self._order]
        return index[inv.reshape(-1)]

    def record(self, index: IntArray, reports: StructArray) -> None:
        """Store the self-description of ``reports`` (``VEHICLE_REPORT_DTYPE``, (k,)) at ``index``."""
        self.bus_line[index] = reports["bus_line"]
        self.cls[index] = reports["cls"]
        self.length[index] = reports["length"]
        self.width[index] = reports["width"]
