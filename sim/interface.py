"""The lock-step contract between the simulator and the platform.

In lock-step mode the simulator does not publish over MQTT: every tick it hands the platform
what its field devices would have published (:class:`Observations`, already as the platform's
in-platform arrays, see ``proto.arrays``) and applies what the platform decides
(:class:`Decisions`: the same protobuf commands and advisories that travel on the
``.../command/down`` and ``.../advisory/down`` topics). The platform side is any object with a
``tick`` method (:class:`Platform`); ``cloud`` builds one from fusion and control.

Times are float seconds since the Unix epoch: lock-step runs start at a fixed, documented
epoch (:data:`LOCKSTEP_EPOCH`) plus simulated time, so runs are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from proto import pb
from proto.arrays import DETECTION_DTYPE, VEHICLE_REPORT_DTYPE

#: 2026-01-01 08:00:00 +08:00 (Changsha morning peak), seconds since the Unix epoch
LOCKSTEP_EPOCH = 1767225600.0

#: Ground truth of every simulated vehicle at one instant, shape (N,). Local frame, SI.
#: lane = roadnet lane index (-1 off-network); s = metres along it; cls = ObjectClass;
#: schedule_dev = bus lateness s (+ late), 0 for others; connected = has an OBU.
TRUTH_DTYPE = np.dtype(
    [
        ("vehicle_id", "U40"),
        ("x", np.float64),
        ("y", np.float64),
        ("vx", np.float64),
        ("vy", np.float64),
        ("speed", np.float64),
        ("heading", np.float64),
        ("accel", np.float64),
        ("lane", np.int64),
        ("s", np.float64),
        ("length", np.float32),
        ("width", np.float32),
        ("cls", np.uint8),
        ("bus_line", "U16"),
        ("schedule_dev", np.float64),
        ("connected", np.bool_),
    ]
)


def _empty(dtype: np.dtype) -> npt.NDArray[np.void]:
    return np.zeros(0, dtype=dtype)


@dataclass
class Observations:
    """What the field devices report during one tick (as ingest would hand it on)."""

    t: float  #: end of the tick, s since the epoch
    detections: npt.NDArray[np.void] = field(default_factory=lambda: _empty(DETECTION_DTYPE))
    reports: npt.NDArray[np.void] = field(default_factory=lambda: _empty(VEHICLE_REPORT_DTYPE))
    spat: list[pb.Spat] = field(default_factory=list)
    parking: list[pb.ParkingStatus] = field(default_factory=list)
    priority_requests: list[pb.PriorityRequest] = field(default_factory=list)
    #: ground truth (TRUTH_DTYPE), for oracle pictures and accuracy scoring; None in the field
    truth: npt.NDArray[np.void] | None = None


@dataclass
class Decisions:
    """What the platform sends back: signal commands and per-vehicle advisories."""

    commands: list[pb.SignalCommand] = field(default_factory=list)
    advisories: list[pb.Advisory] = field(default_factory=list)


class Platform(Protocol):
    """The platform as the lock-step simulator sees it."""

    def tick(self, obs: Observations) -> Decisions:
        """Take one tick's observations, return the decisions to apply before the next tick."""
        ...
