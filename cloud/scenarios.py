"""Start and stop a simulated scenario in real time against this platform's broker (engineers).

Scenarios run on the platform's own map: ``city`` (mixed traffic, two bus lines) and ``rush``
(three times the demand). They use the simulator's engine and field devices with its real-time
MQTT runner (``sim.realtime``) when the ``sim`` stage is installed, else the small stand-in city
of :mod:`cloud.fielddevices`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import time
from typing import Any, Protocol

from cloud.fielddevices import FieldDevices
from cloud.mqtt import protocol_of
from cloud.settings import Settings
from cloud.state import LiveState
from roadnet.model import RoadNetwork

LOG = logging.getLogger("xiangjiang.cloud.scenarios")

#: scenario name -> vehicles entering per hour
SCENARIOS: dict[str, float] = {"city": 2400.0, "rush": 7200.0}
#: share of cars with an OBU in the simulated city
OBU_SHARE = 0.3


class ScenarioError(RuntimeError):
    """A scenario request that cannot be honoured; the text says why."""


class City(Protocol):
    """A simulated city publishing on MQTT in real time."""

    async def run(self, duration_s: float | None) -> None:
        """Run until cancelled or for ``duration_s`` wall seconds."""
        ...

    def kpis(self) -> dict[str, Any]:
        """Ground-truth KPIs."""
        ...


def sim_available() -> bool:
    """Whether the simulator's engine and real-time runner are installed."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in ("sim.engine", "sim.demand", "sim.realtime"))
    except ModuleNotFoundError:
        return False


class SimCity:
    """The simulator (``sim.engine`` + ``sim.devices``) in real time through ``sim.realtime``.

    Parameters
    ----------
    net
        The platform's map.
    settings
        The broker.
    demand_veh_h
        Vehicles entering per hour.
    seed
        Random seed.
    """

    def __init__(self, net: RoadNetwork, settings: Settings, demand_veh_h: float, seed: int) -> None:
        from proto import now_ns
        from sim.demand import grid_demand
        from sim.devices.field import FieldDevices as SimDevices
        from sim.engine import Engine
        from sim.realtime import RealtimeRunner

        demand = grid_demand(net, vehicles_per_hour=demand_veh_h, end=24 * 3600.0, seed=seed)
        demand.set_connected(OBU_SHARE, seed=seed)
        self.engine = Engine(net, demand, seed=seed, dt=0.1)
        devices = SimDevices(net, epoch_ns=now_ns() - round(self.engine.t * 1e9), seed=seed, t0=self.engine.t)
        url = settings.mqtt_url
        self.runner = RealtimeRunner(
            self.engine,
            devices,
            host=url.host,
            port=url.port,
            username=url.username,
            password=url.password,
            bsm_batch=True,
        )

    async def run(self, duration_s: float | None) -> None:
        """Run in real time (until :meth:`stop` or ``duration_s``)."""
        await self.runner.run(float(self.engine.t) + (duration_s if duration_s is not None else 10 * 365 * 86400.0))

    def stop(self) -> None:
        """Finish after the current tick."""
        self.runner.stop()

    def kpis(self) -> dict[str, Any]:
        """Running vehicles, simulated time and the runner's MQTT counters."""
        return {
            "sim_time_s": round(float(self.engine.t), 1),
            "sim_vehicles": int(self.engine.n_running),
            "sim_ticks": self.runner.ticks,
            "sim_mqtt": self.runner.stats.as_dict(),
            "engine": "sim",
        }


class ScenarioRunner:
    """At most one running scenario.

    Parameters
    ----------
    settings
        The broker to publish on.
    net
        The platform's map.
    state
        The live state (unused by the runner itself; kept for scenario hooks).
    use_sim
        Use the simulator when installed (True), or always the stand-in city (False).
    """

    def __init__(self, settings: Settings, net: RoadNetwork, state: LiveState, *, use_sim: bool = True) -> None:
        self.settings = settings
        self.net = net
        self.state = state
        self.use_sim = use_sim and sim_available()
        self.devices: City | None = None
        self.task: asyncio.Task[None] | None = None
        self.info: dict[str, Any] = {}

    @property
    def running(self) -> bool:
        """Whether a scenario runs."""
        return self.task is not None and not self.task.done()

    def _city(self, scenario: str, seed: int) -> City:
        demand = SCENARIOS[scenario]
        if self.use_sim:
            return SimCity(self.net, self.settings, demand, seed)
        url = self.settings.mqtt_url
        return FieldDevices(
            self.net,
            host=url.host,
            port=url.port,
            protocol=protocol_of(self.settings),
            demand_veh_h=demand,
            seed=seed,
            username=url.username,
            password=url.password,
        )

    def start(self, scenario: str, *, duration_s: float | None = None, seed: int = 1) -> dict[str, Any]:
        """Start ``scenario``; ScenarioError when one runs or the name is unknown."""
        if self.running:
            raise ScenarioError(f"scenario {self.info.get('scenario')!r} is running: stop it first")
        if scenario not in SCENARIOS:
            raise ScenarioError(f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
        self.devices = self._city(scenario, seed)
        self.task = asyncio.create_task(self._run(self.devices, duration_s), name=f"xj-scenario-{scenario}")
        self.info = {
            "scenario": scenario,
            "seed": seed,
            "duration_s": duration_s,
            "started": time.time(),
            "engine": "sim" if self.use_sim else "cloud stand-in",
        }
        return self.status()

    async def _run(self, devices: City, duration_s: float | None) -> None:
        try:
            await devices.run(duration_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            LOG.exception("scenario stopped by an error")
            self.info["error"] = f"{type(exc).__name__}: {exc}"

    async def stop(self) -> dict[str, Any]:
        """Stop the running scenario (no-op when none); returns the final status."""
        if self.task is not None:
            stop = getattr(self.devices, "stop", None)
            if callable(stop):
                stop()
            else:
                self.task.cancel()
            # a broker that never answers the DISCONNECT must not hold the shutdown
            done, _ = await asyncio.wait({self.task}, timeout=5.0)
            if not done:
                self.task.cancel()
                done, _ = await asyncio.wait({self.task}, timeout=5.0)
                if not done:
                    LOG.warning("scenario did not stop within 10 s; left behind")
        status = self.status()
        self.task = None
        return status

    def status(self) -> dict[str, Any]:
        """Running flag, scenario, and the scenario's ground-truth KPIs."""
        out: dict[str, Any] = {"running": self.running, **self.info}
        if self.devices is not None:
            out["kpis"] = self.devices.kpis()
        return out
