"""The state of every running vehicle as a structure of arrays (one row per vehicle in the network).

Rows are kept in insertion order; arrived vehicles are dropped by :meth:`Fleet.keep`, which
preserves the order of the rest (the order matters for determinism).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: blocking reasons (why a vehicle plans to stop), kept per vehicle from the last step
R_NONE: Final = 0
R_RED: Final = 1
R_AMBER: Final = 2
R_YIELD: Final = 3
R_CLEAR: Final = 4  # the exit is jammed (keep the junction clear)
R_LANE_END: Final = 5  # wrong lane: no connection to the next edge from here
R_STOP: Final = 6  # a bus stop or another planned stop
R_CLOSED: Final = 7  # a closed lane
R_STOP_SIGN: Final = 8

#: name -> (dtype, initial value) of every per-vehicle column
COLUMNS: Final[dict[str, tuple[type, Any]]] = {
    "vid": (np.int64, -1),  # demand index
    "lane": (np.int64, -1),  # lane index (normal or internal)
    "s": (np.float64, 0.0),  # front position along the lane, m
    "v": (np.float64, 0.0),  # speed, m/s
    "acc": (np.float64, 0.0),  # acceleration of the last step, m/s^2
    "rpos": (np.int64, 0),  # index into the flat routes of the edge of the lane being driven or entered
    "rend": (np.int64, 0),  # end (exclusive) of the route in the flat routes
    "rstart": (np.int64, 0),  # where the route's free-flow costs are counted from
    "prev_lane": (np.int64, -1),  # the lane the vehicle came from (its tail may still be there)
    "jconn": (np.int64, -1),  # the last connection entered
    "lc_time": (np.float64, 1e9),  # s since the last lane change
    "wait": (np.float64, 0.0),  # s standing still without a planned stop
    "moving": (np.bool_, False),  # has moved since the last stop (for counting stops)
    "stop_cur": (np.int64, 0),  # next planned stop (index into the engine's stop arrays)
    "stop_end": (np.int64, 0),
    "dwell_end": (np.float64, np.nan),  # dwelling at a stop until this time (NaN: not dwelling)
    "adv_v": (np.float64, np.nan),  # advised speed cap, m/s (NaN: none)
    "adv_until": (np.float64, -np.inf),
    "accel": (np.float64, 2.6),
    "decel": (np.float64, 4.5),
    "emerg": (np.float64, 9.0),
    "length": (np.float64, 5.0),
    "width": (np.float64, 1.8),
    "min_gap": (np.float64, 2.5),
    "tau": (np.float64, 1.0),
    "sigma": (np.float64, 0.5),
    "vmax": (np.float64, 55.0),
    "sf": (np.float64, 1.0),  # speed factor
    "grp": (np.int64, 0),  # permission group (Topology.perm_bits)
    "cls": (np.uint8, 1),
    "connected": (np.bool_, False),
    "arr_pos": (np.float64, np.nan),  # arrival position on the last edge, m (NaN: its end)
    "blocked": (np.int64, R_NONE),  # reason of the last step's planned stop
    "odo": (np.float64, 0.0),  # metres driven
}


class Fleet:
    """Per-vehicle columns (see :data:`COLUMNS`), each of shape (R,) for R running vehicles."""

    vid: I64
    lane: I64
    s: F64
    v: F64
    acc: F64
    rpos: I64
    rend: I64
    rstart: I64
    prev_lane: I64
    jconn: I64
    lc_time: F64
    wait: F64
    moving: B
    stop_cur: I64
    stop_end: I64
    dwell_end: F64
    adv_v: F64
    adv_until: F64
    accel: F64
    decel: F64
    emerg: F64
    length: F64
    width: F64
    min_gap: F64
    tau: F64
    sigma: F64
    vmax: F64
    sf: F64
    grp: I64
    cls: npt.NDArray[np.uint8]
    connected: B
    arr_pos: F64
    blocked: I64
    odo: F64

    def __init__(self) -> None:
        for name, (dt, _) in COLUMNS.items():
            setattr(self, name, np.zeros(0, dtype=dt))

    @property
    def n(self) -> int:
        """Number of running vehicles."""
        return len(self.vid)

    def append(self, cols: dict[str, npt.ArrayLike], n: int) -> None:
        """Add ``n`` vehicles; columns not given take their initial value."""
        for name, (dt, init) in COLUMNS.items():
            new: npt.NDArray[Any] = np.asarray(cols[name], dtype=dt) if name in cols else np.full(n, init, dtype=dt)
            setattr(self, name, np.concatenate([getattr(self, name), np.broadcast_to(new, (n,))]))

    def keep(self, mask: B) -> None:
        """Keep the rows where ``mask`` is True (order preserved)."""
        for name in COLUMNS:
            setattr(self, name, getattr(self, name)[mask])
