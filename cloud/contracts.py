"""The small interfaces the platform wires together (Stone Soup style: one role, one verb).

The real implementations live in ``fusion`` (tracker, traffic picture) and ``control``
(decisions, overrides behind the safety layer); :mod:`cloud.standins` has minimal ones used only
where a stage has not landed yet, so the process runs end to end either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from proto import pb

StructArray = npt.NDArray[Any]


@dataclass
class Picture:
    """The live traffic picture at one tick (local frame, SI).

    Attributes
    ----------
    t
        Tick time, s since the epoch.
    tracks
        Confirmed tracks, ``fusion.TRACK_DTYPE`` rows, shape (N,).
    lane
        (N,) roadnet lane index of each track, -1 unmatched.
    dist_to_stop
        (N,) metres to the end of its lane (NaN when unmatched or inside a junction).
    lanes
        ``proto.LANE_STATE_DTYPE``, shape (L,), by roadnet lane index.
    events
        Ongoing events (incidents, stopped vehicles, congestion).
    signals
        Latest SPaT per signal controller id.
    parking
        Latest occupancy per parking area id.
    edge_tt
        (E,) live travel time per edge, s; None when unknown.
    """

    t: float
    tracks: StructArray
    lane: npt.NDArray[np.int64]
    dist_to_stop: npt.NDArray[np.float64]
    lanes: StructArray
    events: list[pb.Event] = field(default_factory=list)
    signals: dict[str, pb.Spat] = field(default_factory=dict)
    parking: dict[str, pb.ParkingStatus] = field(default_factory=dict)
    edge_tt: npt.NDArray[np.float64] | None = None


class Tracker(Protocol):
    """Multi-sensor tracking: one tick of detections and vehicle reports in, confirmed tracks out."""

    def step(self, t: float, detections: StructArray, reports: StructArray | None = None) -> StructArray:
        """Tracks (``TRACK_DTYPE``, (N,)) at time ``t``."""
        ...


class PictureBuilder(Protocol):
    """Tracks -> the traffic picture (map matching, lane states, events)."""

    def build(
        self,
        t: float,
        tracks: StructArray,
        signals: Mapping[str, pb.Spat],
        parking: Mapping[str, pb.ParkingStatus],
    ) -> Picture:
        """The picture at ``t``."""
        ...


class Decider(Protocol):
    """Control: the picture and the signals in, signal commands and vehicle advisories out."""

    def decide(
        self,
        now: float,
        picture: Picture,
        spat: Mapping[str, pb.Spat],
        priority_requests: Sequence[pb.PriorityRequest],
    ) -> tuple[list[pb.SignalCommand], list[pb.Advisory]]:
        """Decisions for this tick."""
        ...


@dataclass(frozen=True)
class OverrideRequest:
    """An operator's manual signal override.

    Attributes
    ----------
    junction_id
        Signal controller id.
    kind
        ``proto CommandKind`` value (HOLD_PHASE, FORCE_PHASE, SET_PROGRAM, ALL_RED, RELEASE).
    phase_index
        Target phase (FORCE_PHASE).
    program_id
        Target program (SET_PROGRAM).
    duration_s
        How long it holds; the controller falls back to its local plan after this.
    reason
        Why (free text, audited).
    operator
        Who (the token's subject).
    """

    junction_id: str
    kind: int
    phase_index: int
    program_id: str
    duration_s: float
    reason: str
    operator: str


@dataclass(frozen=True)
class OverrideOutcome:
    """What the safety layer did with an override: the command sent, or why it was refused."""

    accepted: bool
    reason: str
    command: pb.SignalCommand | None = None
    override_id: str = ""
    queued: bool = False


class OverrideGate(Protocol):
    """Operator overrides through the safety layer.

    ``audits`` is True when the gate writes the audit trail itself (control does: submitted,
    applied, expired); otherwise the API records each submission.
    """

    audits: bool

    def submit(self, request: OverrideRequest, now: float) -> OverrideOutcome:
        """Check ``request``; on acceptance the command goes out with the next decisions."""
        ...

    def active(self, now: float) -> list[str]:
        """Controller ids with an override in force at ``now``."""
        ...
