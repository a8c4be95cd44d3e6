"""Lock-step mode: the simulator and the platform in one process, as fast as the machine allows.

Each tick: the controllers' link states drive one engine step; the field devices observe the
new ground truth; the platform (any :class:`sim.interface.Platform`) gets their reports as
:class:`~sim.interface.Observations` and returns :class:`~sim.interface.Decisions`, whose
signal commands go to the controllers (within their safety limits) and whose advisories go to
the OBUs (and through them, with their compliance, to the engine) before the next tick.
Without a platform the controllers run their local programs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sim.devices.field import Engine, FieldDevices, Tick
from sim.devices.obu import AdvisoryResult
from sim.devices.signals import CommandResult
from sim.interface import Platform

#: Called after every tick with (simulated time s, the devices' tick, ground truth).
OnTick = Callable[[float, Tick, npt.NDArray[np.void]], None]


@dataclass
class RunResult:
    """What a run did: simulated and wall time, ticks, and every device's outcomes.

    ``command_results`` lists every signal command's outcome (accepted, refused with the
    reason, expired); ``advisory_results`` the most recent advisory outcomes (up to 10,000);
    ``groups`` maps vehicle ids to KPI group tags (``glosa_compliant`` /
    ``glosa_noncompliant``); ``devices`` is :meth:`FieldDevices.summary` at the end.
    """

    sim_seconds: float
    wall_seconds: float
    ticks: int
    command_results: list[CommandResult]
    advisory_results: list[AdvisoryResult]
    groups: dict[str, str]
    devices: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ticks_per_second(self) -> float:
        """Ticks per wall-clock second."""
        return self.ticks / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    @property
    def realtime_factor(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self.sim_seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")


def run(
    engine: Engine,
    devices: FieldDevices,
    platform: Platform | None,
    until: float,
    on_tick: OnTick | None = None,
    *,
    with_truth: bool = True,
) -> RunResult:
    """Run lock-step until simulated time ``until`` (s).

    Parameters
    ----------
    engine
        The traffic engine (stepped with the controllers' link states).
    devices
        The field devices of the run.
    platform
        The platform's stages (its ``tick`` is called every tick), or None for local programs.
    until
        Simulated time to stop at, s.
    on_tick
        Called after each tick (progress bars, truth recorders).
    with_truth
        Hand the ground truth to the platform in :attr:`Observations.truth`.
    """
    t_start = float(engine.t)
    wall0 = time.perf_counter()
    ticks = 0
    while engine.t < until - 1e-9:
        tick, truth = devices.tick(engine)
        ticks += 1
        if platform is not None:
            decisions = platform.tick(devices.observations(tick, truth if with_truth else None))
            if decisions.commands or decisions.advisories:
                devices.apply(decisions, engine)
        if on_tick is not None:
            on_tick(tick.t, tick, truth)
    return RunResult(
        sim_seconds=float(engine.t) - t_start,
        wall_seconds=time.perf_counter() - wall0,
        ticks=ticks,
        command_results=list(devices.command_results),
        advisory_results=list(devices.obus.results),
        groups=dict(devices.obus.groups),
        devices=devices.summary(),
    )
