"""The platform the lock-step simulator drives: observations -> picture -> control -> decisions.

``xj sim run ... --control {fixed,actuated,max-pressure} [--tsp|--no-tsp] [--glosa|--no-glosa]``
loads :func:`make_platform` (``sim.cli.PLATFORM_PLUGIN``). The adapter is thin: each tick it
turns :class:`sim.interface.Observations` into a traffic picture, asks
:class:`control.ControlService` for commands and advisories, and returns them as
:class:`sim.interface.Decisions`.

Options (the CLI's, plus a few for experiments):

``control``
    ``"fixed"`` (Webster), ``"actuated"``, ``"max-pressure"``, or None / ``"local"``: the
    controllers run their own programs (TSP and GLOSA may still run on top).
``tsp``, ``glosa``
    True / False, or None for the platform's default (on).
``picture``
    ``"truth"`` (default: an oracle picture, lane states from the simulator's ground truth in
    ``Observations.truth``) or ``"fused"`` (fusion's tracker on the detections and BSMs, then
    fusion's traffic picture: what the field platform sees).
``config``
    A dict of further :class:`control.ControlConfig` settings (``ControlConfig.from_dict``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from control import ControlConfig, ControlService, LaneStateEstimator, Picture
from control.config import StrategyName
from roadnet import RoadNetwork
from sim.interface import Decisions, Observations, Platform

if TYPE_CHECKING:
    from fusion import PictureState

LOG = logging.getLogger("xiangjiang.cloud.lockstep")
PICTURES = ("truth", "fused")


def control_config(options: dict[str, Any]) -> ControlConfig:
    """The :class:`ControlConfig` of a lock-step run's options (see the module docstring)."""
    extra = dict(options.get("config") or {})
    cfg = ControlConfig.from_dict(extra) if extra else ControlConfig()
    names: dict[str, StrategyName] = {"local": "local", "fixed": "fixed", "actuated": "actuated"}
    names["max-pressure"] = "max-pressure"
    raw = str(options.get("control") or "local")
    if raw not in names:
        raise ValueError(f"unknown control strategy {raw!r}: choose fixed, actuated or max-pressure")
    name = names[raw]
    tsp = options.get("tsp")
    glosa = options.get("glosa")
    return replace(
        cfg,
        strategy=name,
        tsp=replace(cfg.tsp, enabled=cfg.tsp.enabled if tsp is None else bool(tsp)),
        glosa=replace(cfg.glosa, enabled=cfg.glosa.enabled if glosa is None else bool(glosa)),
    )


class FusedPicture:
    """What the field platform sees in lock-step: fusion's tracker on each tick's detections and
    BSMs, then fusion's traffic picture (signals from the tick's SPaT, for its events).

    Shared by the ``picture="fused"`` platform and the accuracy scoring (``xj fusion score``).
    Fusion is imported on first use, so truth-picture runs do not load it.
    """

    def __init__(self, net: RoadNetwork) -> None:
        from fusion import Picture as FusionPicture
        from fusion import Tracker

        self.net = net
        self.tracker = Tracker()
        self.picture = FusionPicture(net)

    def update(self, obs: Observations) -> PictureState:
        """The picture at ``obs.t`` (its ``tracks`` are the tracker's confirmed tracks)."""
        from fusion import link_states

        tracks = self.tracker.step(obs.t, obs.detections, obs.reports)
        signals = link_states(self.net, {s.junction_id: s.link_state for s in obs.spat if s.link_state})
        return self.picture.update(obs.t, tracks, signals)


class LockstepPlatform:
    """Picture + control for one lock-step run; see the module docstring."""

    def __init__(self, net: RoadNetwork, options: dict[str, Any]) -> None:
        self.net = net
        self.options = dict(options)
        self.picture_kind = str(options.get("picture") or "truth")
        if self.picture_kind not in PICTURES:
            raise ValueError(f"unknown picture {self.picture_kind!r}: choose truth or fused")
        self.control = ControlService(net, control_config(options))
        self.lanes = LaneStateEstimator(net)
        self._fused: FusedPicture | None = None
        self.ticks = 0
        self._warned = False

    # ------------------------------------------------------------------ pictures
    def _truth_picture(self, obs: Observations) -> Picture:
        tr = obs.truth
        assert tr is not None
        lanes = self.lanes.update(obs.t, tr["vehicle_id"], tr["lane"], tr["s"], tr["speed"], tr["length"])
        return Picture(t=obs.t, lanes=lanes, vehicles=obs.reports, parking=list(obs.parking))

    def _fused_picture(self, obs: Observations) -> Picture:
        if self._fused is None:
            self._fused = FusedPicture(self.net)
        state = self._fused.update(obs)
        edge_tt = np.asarray(state.edges["travel_time"], dtype=np.float64)
        return Picture(t=obs.t, lanes=state.lanes, vehicles=obs.reports, parking=list(obs.parking), edge_tt=edge_tt)

    def picture(self, obs: Observations) -> Picture:
        """The traffic picture of one tick's observations."""
        if self.picture_kind == "truth":
            if obs.truth is not None:
                return self._truth_picture(obs)
            if not self._warned:
                LOG.warning("no ground truth in the observations: using the fused picture")
                self._warned = True
        return self._fused_picture(obs)

    # ------------------------------------------------------------------ the tick
    def tick(self, obs: Observations) -> Decisions:
        """One lock-step tick: observations in, commands and advisories out."""
        pic = self.picture(obs)
        commands, advisories = self.control.decide(obs.t, pic, obs.spat, obs.priority_requests)
        self.ticks += 1
        return Decisions(commands=commands, advisories=advisories)

    def stats(self) -> dict[str, Any]:
        """Counts for reports: commands by source and safety outcome, TSP decisions."""
        return {
            "ticks": self.ticks,
            "control": dict(self.control.stats),
            "safety": dict(self.control.safety.counts),
            "tsp": dict(self.control.tsp.counts),
        }


def make_platform(net: RoadNetwork, options: dict[str, Any]) -> Platform:
    """The lock-step platform for ``net`` with the CLI's ``options`` (see the module docstring)."""
    return LockstepPlatform(net, options)
