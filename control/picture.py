"""What control decides from: the traffic picture at one tick.

Control reads only these fields, so any object carrying them works (fusion's picture, the
cloud's, or an oracle built from simulator truth): ``t`` and ``lanes`` are required; connected
vehicles come from ``vehicles`` (``proto.arrays.VEHICLE_REPORT_DTYPE``) or, failing that, from
``tracks`` rows with a non-empty ``vehicle_id`` (fusion's ``TRACK_DTYPE``: x, y, vx, vy, cls,
bus_line); ``events``, ``parking``, ``edge_tt`` and ``closed_lanes`` are optional.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from proto import VEHICLE_REPORT_DTYPE, pb

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


@dataclass
class Picture:
    """The traffic picture control decides from (local frame, SI).

    Attributes
    ----------
    t
        Time, s since the epoch.
    lanes
        ``LANE_STATE_DTYPE`` rows, shape (L,), by roadnet lane index.
    vehicles
        Connected vehicles, ``VEHICLE_REPORT_DTYPE`` rows, shape (N,).
    events
        Ongoing events (``closed_lanes`` of incidents feed routing).
    parking
        Latest occupancy per parking area.
    edge_tt
        (E,) live travel time per edge, s (NaN: derive from lane states); None: derive all.
    closed_lanes
        (L,) lanes closed now; None: from the events.
    """

    t: float
    lanes: npt.NDArray[Any]
    vehicles: npt.NDArray[Any] = field(default_factory=lambda: np.zeros(0, dtype=VEHICLE_REPORT_DTYPE))
    events: list[pb.Event] = field(default_factory=list)
    parking: list[pb.ParkingStatus] = field(default_factory=list)
    edge_tt: F64 | None = None
    closed_lanes: B | None = None


def connected_vehicles(picture: Any) -> npt.NDArray[Any]:
    """The picture's connected vehicles as ``VEHICLE_REPORT_DTYPE`` rows, shape (N,)."""
    v = getattr(picture, "vehicles", None)
    if v is not None:
        return np.asarray(v)
    tracks = getattr(picture, "tracks", None)
    if tracks is None or len(tracks) == 0 or "vehicle_id" not in (tracks.dtype.names or ()):
        return np.zeros(0, dtype=VEHICLE_REPORT_DTYPE)
    tr = tracks[tracks["vehicle_id"] != ""]
    out = np.zeros(len(tr), dtype=VEHICLE_REPORT_DTYPE)
    for name in ("vehicle_id", "t", "x", "y", "vx", "vy", "cls", "length", "width", "bus_line"):
        if name in (tr.dtype.names or ()):
            out[name] = tr[name]
    out["speed"] = np.hypot(out["vx"], out["vy"])
    out["heading"] = np.arctan2(out["vy"], out["vx"])
    return out


def parking_of(picture: Any) -> list[pb.ParkingStatus]:
    """The picture's parking statuses as a list (a mapping by area id is accepted too)."""
    p = getattr(picture, "parking", None)
    if p is None:
        return []
    if isinstance(p, Mapping):
        return list(p.values())
    return list(p) if isinstance(p, Iterable) else []


def events_of(picture: Any) -> list[pb.Event]:
    """The picture's events (empty when it has none)."""
    return list(getattr(picture, "events", None) or [])
