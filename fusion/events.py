"""Traffic events found in the picture: stopped vehicle, wrong way, speeding, red-light
violation, pedestrian on a crosswalk (or a vehicle path) during a conflicting green.

Conditions that must last (stopped, wrong way, speeding) are timed per track; an event is
raised once when its condition has lasted long enough and re-armed when the condition ends.
Red-light violations and pedestrian conflicts are raised at the tick they happen (a pedestrian
conflict once per stay in the zone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion.arraytypes import BoolArray, FloatArray, IntArray, StructArray
from proto import pb

#: One row per event raised in a tick, shape (k,). kind = proto EventKind; t s; track_id of the
#: track; lane index (-1 none); x, y m; value: speed m/s (speeding, wrong way, red light),
#: seconds stopped (stopped vehicle), 0 otherwise; severity 1 (info) .. 5 (critical).
EVENT_DTYPE = np.dtype(
    [
        ("kind", np.uint8),
        ("t", np.float64),
        ("track_id", np.int64),
        ("lane", np.int64),
        ("x", np.float64),
        ("y", np.float64),
        ("value", np.float64),
        ("severity", np.uint8),
    ]
)

STOPPED = int(pb.EVENT_KIND_STOPPED_VEHICLE)
WRONG_WAY = int(pb.EVENT_KIND_WRONG_WAY)
SPEEDING = int(pb.EVENT_KIND_SPEEDING)
RED_LIGHT = int(pb.EVENT_KIND_RED_LIGHT_VIOLATION)
PEDESTRIAN = int(pb.EVENT_KIND_PEDESTRIAN_CONFLICT)

#: bits of the per-track "raised and still going" memory
_BIT = {STOPPED: 1, WRONG_WAY: 2, SPEEDING: 4, PEDESTRIAN: 8}


@dataclass(frozen=True)
class EventRules:
    """Thresholds of the events.

    Parameters
    ----------
    stopped_after
        A halting vehicle outside any queue, bus stop or parking area for this long, s.
    halt_speed
        Below this a vehicle is stopped, m/s.
    wrong_way_after
        Driving against the lane for this long, s.
    wrong_way_speed
        Only above this speed, m/s.
    wrong_way_cos
        Against the lane: cosine of the angle to the lane's direction below this.
    speeding_after
        Over the limit for this long, s.
    speeding_margin
        Tolerance over the lane's speed limit: ``limit * (1 + ratio) + add`` (ratio, m/s).
    """

    stopped_after: float = 60.0
    halt_speed: float = 0.5
    wrong_way_after: float = 2.0
    wrong_way_speed: float = 3.0
    wrong_way_cos: float = -0.5
    speeding_after: float = 3.0
    speeding_margin: tuple[float, float] = (0.1, 1.0)


def lasting(condition: BoolArray, since: FloatArray, t: float) -> FloatArray:
    """Start times of conditions, carried: (n,) ``since`` where the condition holds, else NaN."""
    return np.where(condition, np.where(np.isnan(since), t, since), np.nan)


def raise_once(
    kind: int, condition: BoolArray, since: FloatArray, after: float, raised: IntArray, t: float
) -> tuple[BoolArray, IntArray]:
    """Which tracks raise ``kind`` now (condition lasted ``after`` s, not yet raised), and the
    updated raised bits (cleared where the condition has ended)."""
    bit = _BIT[kind]
    due = condition & (t - since >= after - 1e-9) & ((raised & bit) == 0)
    raised = np.where(condition, raised, raised & ~bit)
    raised = np.where(due, raised | bit, raised)
    return due, raised


def rows(
    kind: int,
    t: float,
    who: IntArray,
    track_id: IntArray,
    lane: IntArray,
    xy: FloatArray,
    value: FloatArray,
    severity: int,
) -> StructArray:
    """Event rows for tracks ``who`` (indices into the per-track arrays)."""
    out = np.zeros(len(who), dtype=EVENT_DTYPE)
    out["kind"] = kind
    out["t"] = t
    out["track_id"] = track_id[who]
    out["lane"] = lane[who]
    out["x"] = xy[who, 0]
    out["y"] = xy[who, 1]
    out["value"] = value[who]
    out["severity"] = severity
    return out
