"""All field devices of a run in one object, and the one tick both run modes share.

A tick (:meth:`FieldDevices.tick`) steps the engine with the controllers' link states, advances
the controllers to the new time, and lets every device observe the ground truth; what they
report comes back as one :class:`Tick`. The lock-step runner hands it to the platform as
:class:`sim.interface.Observations`; the real-time runner encodes it and publishes it over MQTT.
What the platform sends back (commands, advisories) goes through :meth:`FieldDevices.apply`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from proto import pb
from proto.arrays import VEHICLE_REPORT_DTYPE
from roadnet.model import RoadNetwork
from sim.devices.obu import Advisable, AdvisoryResult, ObuParams, Obus
from sim.devices.sensors import (
    LAMP_DEFAULTS,
    RSU_DEFAULTS,
    Delivered,
    SensorParams,
    Sensors,
    SensorSpec,
    default_layout,
)
from sim.devices.signals import DEFAULT_MAX_RED, CommandResult, SignalControllers
from sim.devices.vehicles import VehicleIndex
from sim.interface import Decisions, Observations

I64 = npt.NDArray[np.int64]


class Engine(Advisable, Protocol):
    """The traffic engine as the devices and runners see it (``sim.engine.Engine``)."""

    @property
    def t(self) -> float:
        """Simulated time, s since the start."""
        ...

    def step(self, link_state: npt.NDArray[np.str_] | None) -> Any:
        """Advance one step with these (K,) link states (None: the engine's own plans)."""
        ...

    def truth(self) -> npt.NDArray[np.void]:
        """Every vehicle now, (N,) :data:`sim.interface.TRUTH_DTYPE`."""
        ...

    def parking_occupancy(self) -> I64:
        """(A,) vehicles parked per parking area."""
        ...


@dataclass(frozen=True)
class DeviceConfig:
    """Which devices a run has and how they behave.

    ``rsu`` is ``"default"`` (one per signalised junction), ``"none"`` or junction ids;
    ``sensors`` adds explicit sensors to the default layout. Periods in seconds.
    """

    rsu: str | tuple[str, ...] = "default"
    rsu_params: SensorParams = RSU_DEFAULTS
    lamp_posts: bool = True
    lamp_params: SensorParams = LAMP_DEFAULTS
    sensors: tuple[SensorSpec, ...] = ()
    obu: ObuParams = field(default_factory=ObuParams)
    spat_hz: float = 10.0
    parking_period_s: float = 10.0
    lamp_status_period_s: float = 60.0
    max_red_s: float = DEFAULT_MAX_RED


@dataclass
class Tick:
    """What the devices report in one tick at simulated time ``t`` (s since the start).

    ``delivered`` perception frames (local frame, see :class:`Delivered`); ``reports`` BSMs as
    :data:`VEHICLE_REPORT_DTYPE` rows; ``spat`` one per controller when due; ``parking`` and
    ``lamp_status`` as (lamp post index, message); ``priority_requests`` from buses.
    """

    t: float
    delivered: Delivered
    reports: npt.NDArray[np.void]
    spat: list[pb.Spat] = field(default_factory=list)
    parking: list[tuple[int, pb.ParkingStatus]] = field(default_factory=list)
    lamp_status: list[tuple[int, pb.LampPostStatus]] = field(default_factory=list)
    priority_requests: list[pb.PriorityRequest] = field(default_factory=list)


def _in_local_frame(spec: SensorSpec, net: RoadNetwork) -> SensorSpec:
    """``spec`` with a WGS84 position (``latlon``) moved to the map's local frame."""
    if spec.latlon is None:
        return spec
    x, y = net.frame.to_local(spec.latlon[0], spec.latlon[1])
    return replace(spec, x=float(x), y=float(y), latlon=None)


class FieldDevices:
    """Signal controllers, roadside sensors and OBUs of one run.

    Parameters
    ----------
    net
        The road network.
    config
        Device layout and behaviour.
    epoch_ns
        Unix time of simulated time 0, ns (every device stamps from it).
    seed
        Seeds every random draw of the devices.
    t0
        Simulated time the run starts at, s.
    """

    def __init__(
        self, net: RoadNetwork, config: DeviceConfig | None = None, *, epoch_ns: int, seed: int = 0, t0: float = 0.0
    ) -> None:
        self.net = net
        self.config = config = config or DeviceConfig()
        self.epoch_ns = int(epoch_ns)
        self.index = VehicleIndex(seed)
        self.controllers = SignalControllers(net, epoch_ns=epoch_ns, t0=t0, max_red=config.max_red_s)
        rsu: str | Sequence[str] = config.rsu if isinstance(config.rsu, str) else list(config.rsu)
        specs = default_layout(
            net, rsu=rsu, rsu_params=config.rsu_params, lamp_posts=config.lamp_posts, lamp_params=config.lamp_params
        )
        specs += [_in_local_frame(extra, net) for extra in config.sensors]
        self.sensors = Sensors(specs, epoch_ns=epoch_ns, seed=seed, parking_ids=net.parking_ids)
        self.obus = Obus(net, self.index, epoch_ns=epoch_ns, params=config.obu, seed=seed)
        lat, lon = (
            net.frame.to_wgs84(self.sensors.xy[:, 0], self.sensors.xy[:, 1])
            if self.sensors.n
            else (np.zeros(0), np.zeros(0))
        )
        self._sensor_latlon = (np.atleast_1d(lat), np.atleast_1d(lon))
        self._lon0 = float(np.mean(net.bbox_wgs84()[0::2])) if len(net.lane_ids) else 0.0
        self._next_spat = -np.inf
        self._next_parking = -np.inf
        self._next_status = -np.inf
        self._n_codes = 0
        self.advisory_results: list[AdvisoryResult] = []
        self.counts: Counter[str] = Counter()
        self.link_state = self.controllers.advance(t0)

    @property
    def command_results(self) -> list[CommandResult]:
        """Every signal command's outcome so far."""
        return self.controllers.results

    # ------------------------------------------------------------------ one tick
    def tick(self, engine: Engine) -> tuple[Tick, npt.NDArray[np.void]]:
        """Step ``engine`` once under the current signals and let every device observe.

        Returns the devices' reports and the ground truth (TRUTH_DTYPE) at the new time.
        """
        engine.step(self.link_state)
        t = float(engine.t)
        self.link_state = self.controllers.advance(t)
        truth = engine.truth()
        return self.observe(t, truth, engine), truth

    def observe(self, t: float, truth: npt.NDArray[np.void], engine: Engine | None = None) -> Tick:
        """Every device's reports at simulated time ``t`` from ground truth ``truth`` (N,)."""
        codes = self.index.codes(truth["vehicle_id"])
        if len(self.index) > self._n_codes:
            self.obus.note_ids(self.index.ids[self._n_codes :])
            self._n_codes = len(self.index)
        self.sensors.capture(t, truth, codes)
        delivered = self.sensors.deliver(t)
        reports = self.obus.observe(t, truth, codes)
        tick = Tick(t, delivered, reports)
        if t + 1e-9 >= self._next_spat:
            tick.spat = self.controllers.spat()
            self._next_spat = t + 1.0 / self.config.spat_hz - 1e-6
        if engine is not None and len(self.sensors.lamps) and t + 1e-9 >= self._next_parking:
            occ = np.asarray(engine.parking_occupancy(), dtype=np.int64)
            if len(occ) == len(self.net.parking_ids):
                tick.parking = self.sensors.parking_status(t, occ, self.net.parking_capacity)
            self._next_parking = t + self.config.parking_period_s
        if len(self.sensors.lamps) and t + 1e-9 >= self._next_status:
            hour = ((self.epoch_ns / 1e9 + t) / 3600.0 + self._lon0 / 15.0) % 24.0
            tick.lamp_status = self.sensors.lamp_status(t, self._sensor_latlon, hour)
            self._next_status = t + self.config.lamp_status_period_s
        tick.priority_requests = self.obus.priority_requests(t, truth)
        self.counts["ticks"] += 1
        return tick

    def observations(self, tick: Tick, truth: npt.NDArray[np.void] | None) -> Observations:
        """The lock-step :class:`Observations` of one tick (times as s since the Unix epoch)."""
        return Observations(
            t=self.epoch_ns / 1e9 + tick.t,
            detections=tick.delivered.detections,
            reports=tick.reports if len(tick.reports) else np.zeros(0, dtype=VEHICLE_REPORT_DTYPE),
            spat=tick.spat,
            parking=[p for _, p in tick.parking],
            priority_requests=tick.priority_requests,
            truth=truth,
        )

    # ------------------------------------------------------------------ downlink
    def apply(self, decisions: Decisions, engine: Advisable) -> tuple[list[CommandResult], list[AdvisoryResult]]:
        """Commands to the controllers, advisories to the OBUs (and through them to the engine)."""
        cmd_res = [self.controllers.apply(c) for c in decisions.commands]
        adv_res = self.obus.apply(self.controllers.now, decisions.advisories, engine)
        for r in cmd_res:
            self.counts["commands_accepted" if r.accepted else "commands_refused"] += 1
        return cmd_res, adv_res

    def summary(self) -> dict[str, Any]:
        """Device counts and outcomes for the KPI report."""
        results = self.controllers.results
        refused = Counter(r.reason.split(":")[0].split(" (")[0] for r in results if not r.accepted)
        return {
            "signal_controllers": self.controllers.n,
            **self.sensors.summary(),
            **self.obus.summary(),
            "commands_accepted": self.counts["commands_accepted"],
            "commands_refused": self.counts["commands_refused"],
            "commands_refused_by_reason": dict(refused.most_common()),
            "commands_expired": sum(1 for r in results if r.reason.startswith("expired")),
        }
