"""Stable integer codes for vehicle ids, and wire-safe device ids.

Devices keep per-vehicle state (a sensor's local id, an OBU's compliance draw) by an integer
code that stays the same for as long as the run lasts, found for a whole truth array at once
with a sorted-array lookup (no Python loop per vehicle).
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_UNSAFE = re.compile(r"[/+#\x00\s]")


def wire_id(ident: str) -> str:
    """A device id usable as one MQTT topic level: ``/``, ``+``, ``#``, NUL and spaces become ``_``."""
    return _UNSAFE.sub("_", ident) or "_"


class VehicleIndex:
    """Vehicle id -> stable code 0, 1, 2, ... in order of first appearance.

    Each code also gets a uniform draw ``u`` in [0, 1) from the seeded generator at the moment
    the vehicle first appears, so per-vehicle choices (compliance) are reproducible for a
    given run and seed.
    """

    def __init__(self, seed: int = 0) -> None:
        self._sorted = np.zeros(0, dtype="<U40")
        self._sorted_code: I64 = np.zeros(0, dtype=np.int64)
        self._rng = np.random.default_rng([seed, 0x7E4])
        #: per code: the vehicle id, (V,)
        self.ids = np.zeros(0, dtype="<U40")
        #: per code: a uniform draw made when the vehicle first appeared, (V,)
        self.u: F64 = np.zeros(0)

    def __len__(self) -> int:
        return len(self.ids)

    def codes(self, ids: npt.NDArray[np.str_]) -> I64:
        """Codes of ``ids`` (N,), registering the ones not seen before (in order of appearance)."""
        ids = np.asarray(ids, dtype="<U40")
        if len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(self._sorted, ids)
        found = np.zeros(len(ids), dtype=np.bool_)
        if len(self._sorted):
            pc = np.minimum(pos, len(self._sorted) - 1)
            found = self._sorted[pc] == ids
        if not found.all():
            new, first = np.unique(ids[~found], return_index=True)
            new = new[np.argsort(first)]  # keep order of appearance for the codes
            start = len(self.ids)
            new_codes = np.arange(start, start + len(new), dtype=np.int64)
            self.ids = np.concatenate([self.ids, new])
            self.u = np.concatenate([self.u, self._rng.random(len(new))])
            o = np.argsort(new, kind="stable")
            ins = np.searchsorted(self._sorted, new[o])
            # np.insert keeps the given (sorted) order for equal positions: the result stays sorted
            self._sorted = np.insert(self._sorted, ins, new[o])
            self._sorted_code = np.insert(self._sorted_code, ins, new_codes[o])
            pos = np.searchsorted(self._sorted, ids)
        out: I64 = self._sorted_code[pos]
        return out
