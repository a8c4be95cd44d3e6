"""One platform tick, in-process and I/O-free: fusion -> picture -> control.

The live pipeline (:mod:`cloud.pipeline`) feeds it from ingest every tick and publishes what
it returns; replays (:mod:`cloud.replay`) drive a fresh one over stored inputs. The same wiring
(fusion's tracker and picture, control's facade) is what ``cloud.lockstep_platform`` builds for
the simulator's lock-step mode with its ``picture="fused"`` option.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from cloud.contracts import Decider, OverrideGate, Picture, PictureBuilder, StructArray, Tracker
from proto import pb
from roadnet.model import RoadNetwork


@dataclass
class TickResult:
    """What one tick produced.

    Attributes
    ----------
    picture
        The traffic picture.
    commands, advisories
        Decisions to publish.
    rsu_spat
        SPaT for the RSUs to broadcast: control's predictions when it makes them, else the
        controllers' own.
    basis_t
        Sender time of the newest input of the tick, s since the epoch (NaN when none).
    stage_s
        Wall time per stage, s: ``fusion``, ``picture``, ``control``, and ``spat`` when the tick
        made the SPaT.
    """

    picture: Picture
    commands: list[pb.SignalCommand] = field(default_factory=list)
    advisories: list[pb.Advisory] = field(default_factory=list)
    rsu_spat: list[pb.Spat] = field(default_factory=list)
    basis_t: float = float("nan")
    stage_s: dict[str, float] = field(default_factory=dict)


def newest_input(detections: StructArray, reports: StructArray) -> float:
    """Latest ``t`` over detections and reports (s), NaN when both are empty."""
    ts = [float(a["t"].max()) for a in (detections, reports) if len(a)]
    return max(ts) if ts else float("nan")


class PlatformCore:
    """Fusion, the traffic picture and control, wired once.

    Parameters
    ----------
    net
        The road network.
    tracker, picture_builder, decider, overrides
        The stages (see :mod:`cloud.contracts`); :func:`cloud.wiring.build_core` picks them.
    """

    def __init__(
        self,
        net: RoadNetwork,
        *,
        tracker: Tracker,
        picture_builder: PictureBuilder,
        decider: Decider,
        overrides: OverrideGate,
    ) -> None:
        self.net = net
        self.tracker = tracker
        self.picture_builder = picture_builder
        self.decider = decider
        self.overrides = overrides
        self.ticks = 0

    def tick(
        self,
        t: float,
        detections: StructArray,
        reports: StructArray,
        spat: Mapping[str, pb.Spat],
        parking: Mapping[str, pb.ParkingStatus],
        priority_requests: Sequence[pb.PriorityRequest] = (),
    ) -> TickResult:
        """Run fusion, the picture and control for the inputs of one tick at time ``t`` (s).

        ``rsu_spat`` is left empty, for a caller that sends SPaT to fill with :meth:`rsu_spat`
        once the decisions are out (the live pipeline: SPaT is not on the advisories' path).
        """
        c0 = time.perf_counter()
        tracks = self.tracker.step(t, detections, reports)
        c1 = time.perf_counter()
        picture = self.picture_builder.build(t, tracks, spat, parking)
        c2 = time.perf_counter()
        commands, advisories = self.decider.decide(t, picture, spat, priority_requests)
        c3 = time.perf_counter()
        stage_s = {"fusion": c1 - c0, "picture": c2 - c1, "control": c3 - c2}
        self.ticks += 1
        return TickResult(picture, commands, advisories, [], newest_input(detections, reports), stage_s)

    def rsu_spat(self, t: float, spat: Mapping[str, pb.Spat]) -> list[pb.Spat]:
        """SPaT for the RSUs at ``t`` (s): control's predictions when it makes them, else the
        controllers' own ``spat`` of this tick."""
        predict = getattr(self.decider, "spat", None)
        return list(predict(t)) if callable(predict) else list(spat.values())


def empty_tracks() -> StructArray:
    """No tracks (``fusion.TRACK_DTYPE``), shape (0,)."""
    from fusion.tracks import TRACK_DTYPE

    return np.zeros(0, dtype=TRACK_DTYPE)
