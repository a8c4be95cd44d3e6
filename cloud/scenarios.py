"""Start and stop a simulated scenario in real time against this platform's broker (engineers).

Scenarios: ``city`` (the platform's own map with mixed traffic), ``rush`` (the same, three
times the demand). They run the stand-in city (:mod:`cloud.fielddevices`) until ``sim``'s
real-time runner lands.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from cloud.fielddevices import FieldDevices
from cloud.mqtt import protocol_of
from cloud.settings import Settings
from cloud.state import LiveState
from roadnet.model import RoadNetwork

LOG = logging.getLogger("xiangjiang.cloud.scenarios")

#: scenario name -> vehicles entering per hour
SCENARIOS: dict[str, float] = {"city": 2400.0, "rush": 7200.0}


class ScenarioError(RuntimeError):
    """A scenario request that cannot be honoured; the text says why."""


class ScenarioRunner:
    """At most one running scenario.

    Parameters
    ----------
    settings
        The broker to publish on.
    net
        The platform's map.
    state
        Where the scenario's own KPIs are shown.
    """

    def __init__(self, settings: Settings, net: RoadNetwork, state: LiveState) -> None:
        self.settings = settings
        self.net = net
        self.state = state
        self.devices: FieldDevices | None = None
        self.task: asyncio.Task[None] | None = None
        self.info: dict[str, Any] = {}

    @property
    def running(self) -> bool:
        """Whether a scenario runs."""
        return self.task is not None and not self.task.done()

    def start(self, scenario: str, *, duration_s: float | None = None, seed: int = 1) -> dict[str, Any]:
        """Start ``scenario``; ScenarioError when one runs or the name is unknown."""
        if self.running:
            raise ScenarioError(f"scenario {self.info.get('scenario')!r} is running: stop it first")
        if scenario not in SCENARIOS:
            raise ScenarioError(f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
        url = self.settings.mqtt_url
        self.devices = FieldDevices(
            self.net,
            host=url.host,
            port=url.port,
            protocol=protocol_of(self.settings),
            demand_veh_h=SCENARIOS[scenario],
            seed=seed,
            username=url.username,
            password=url.password,
        )
        self.task = asyncio.create_task(self._run(self.devices, duration_s), name=f"xj-scenario-{scenario}")
        self.info = {"scenario": scenario, "seed": seed, "duration_s": duration_s, "started": time.time()}
        return self.status()

    async def _run(self, devices: FieldDevices, duration_s: float | None) -> None:
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
            self.task.cancel()
            # a broker that never answers the DISCONNECT must not hold the shutdown
            done, _ = await asyncio.wait({self.task}, timeout=5.0)
            if not done:
                LOG.warning("scenario did not stop within 5 s; left behind")
        status = self.status()
        self.task = None
        return status

    def status(self) -> dict[str, Any]:
        """Running flag, scenario, and the scenario's ground-truth KPIs."""
        out: dict[str, Any] = {"running": self.running, **self.info}
        if self.devices is not None:
            out["kpis"] = self.devices.kpis()
        return out
