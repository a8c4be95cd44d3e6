"""Lock-step runner: observations to the platform every tick, its decisions applied before the next."""

from __future__ import annotations

import numpy as np
import pytest

from proto import pb
from proto.arrays import DETECTION_DTYPE, VEHICLE_REPORT_DTYPE
from roadnet import grid
from sim.devices import DeviceConfig, FieldDevices, ObuParams
from sim.interface import LOCKSTEP_EPOCH, TRUTH_DTYPE, Decisions, Observations
from sim.lockstep import run
from tests.sim.test_devices_standin import Car, StandInEngine, approach_lane

EPOCH_NS = int(LOCKSTEP_EPOCH * 1e9)


class ScriptedPlatform:
    """Records what it observes; holds J0_0's green at 5 s and slows car c1 at 2 s."""

    def __init__(self) -> None:
        self.seen: list[Observations] = []

    def tick(self, obs: Observations) -> Decisions:
        self.seen.append(obs)
        t = obs.t - LOCKSTEP_EPOCH
        now_ns = round(obs.t * 1e9)
        dec = Decisions()
        if abs(t - 2.0) < 1e-6:
            dec.advisories.append(
                pb.Advisory(
                    advisory_id="g1",
                    vehicle_id="c1",
                    issued_ns=now_ns,
                    expires_ns=now_ns + 60 * 10**9,
                    speed=pb.SpeedAdvice(junction_id="J0_0", speed_002=50),
                )
            )
        if abs(t - 5.0) < 1e-6:
            dec.commands.append(
                pb.SignalCommand(
                    command_id="h1",
                    junction_id="J0_0",
                    kind=pb.COMMAND_KIND_HOLD_PHASE,
                    expires_ns=now_ns + 40 * 10**9,
                    source="test",
                )
            )
            dec.commands.append(
                pb.SignalCommand(
                    command_id="bad",
                    junction_id="J0_0",
                    kind=pb.COMMAND_KIND_FORCE_PHASE,
                    phase_index=1,
                    expires_ns=now_ns + 10**9,
                )
            )
        return dec


def _world(seconds_of_road: float = 400.0) -> tuple[StandInEngine, FieldDevices]:
    net = grid(2, 2, spacing=seconds_of_road)
    cars = [Car("c1", approach_lane(net, "W0-J0_0"), 250.0, 12.0), Car("c2", approach_lane(net, "S0-J0_0"), 300.0, 1.0)]
    eng = StandInEngine(net, cars)
    fd = FieldDevices(net, DeviceConfig(obu=ObuParams(compliance=1.0)), epoch_ns=EPOCH_NS, seed=4)
    return eng, fd


def test_without_a_platform_the_controllers_run_their_local_program() -> None:
    eng, fd = _world()
    ticks: list[float] = []
    res = run(eng, fd, None, 80.0, on_tick=lambda t, tick, truth: ticks.append(t))
    assert res.ticks == 800 == len(ticks) and res.sim_seconds == pytest.approx(80.0)
    assert ticks[0] == pytest.approx(0.1) and ticks[-1] == pytest.approx(80.0)
    # J0_0's first link: green 0-30 s, amber 30-33, red until 70, green again
    states = "".join(str(ls[0]) for ls in eng.link_states)
    assert states[:300] == "G" * 300 and states[300:330] == "y" * 30 and states[330:700] == "r" * 370
    assert states[700] == "G"
    assert res.command_results == [] and res.devices["signal_controllers"] == 4
    assert res.ticks_per_second > 0


def test_the_platform_sees_every_tick_and_its_decisions_are_applied() -> None:
    eng, fd = _world()
    platform = ScriptedPlatform()
    res = run(eng, fd, platform, 60.0)
    assert len(platform.seen) == res.ticks == 600
    obs = platform.seen[10]
    assert obs.t == pytest.approx(LOCKSTEP_EPOCH + 1.1)
    assert obs.detections.dtype == DETECTION_DTYPE and len(obs.detections) >= 2
    assert obs.reports.dtype == VEHICLE_REPORT_DTYPE and sorted(obs.reports["vehicle_id"].tolist()) == ["c1", "c2"]
    assert [s.junction_id for s in obs.spat] == ["J0_0", "J0_1", "J1_0", "J1_1"]
    assert obs.truth is not None and obs.truth.dtype == TRUTH_DTYPE
    # the hold: J0_0's stage A stays green past 30 s; the other controllers change at 30 s
    k0 = eng.net.tls_link_offsets[1]
    at_40 = eng.link_states[400]
    assert at_40[0] == "G" and at_40[k0] == "r"
    assert [(r.command_id, r.accepted) for r in res.command_results][:2] == [("h1", True), ("bad", False)]
    assert "clearance" in res.command_results[1].reason
    # the speed advice: c1 (12 m/s) slows to 1 m/s
    assert eng.speed_of("c1") == pytest.approx(1.0)
    assert res.groups == {"c1": "glosa_compliant"}
    assert res.devices["commands_accepted"] == 1 and res.devices["commands_refused"] == 1
    spat_modes = [next(s.mode for s in o.spat if s.junction_id == "J0_0") for o in platform.seen]
    assert spat_modes[40] == pb.CONTROL_MODE_LOCAL_PLAN and spat_modes[55] == pb.CONTROL_MODE_CLOUD


def test_runs_are_reproducible_for_a_seed() -> None:
    def detections_of_a_run() -> np.ndarray:
        eng, fd = _world()
        dets: list[np.ndarray] = []
        run(eng, fd, None, 5.0, on_tick=lambda t, tick, truth: dets.append(tick.delivered.detections.copy()))
        return np.concatenate(dets)

    outs = [detections_of_a_run() for _ in range(2)]
    assert len(outs[0]) > 0 and np.array_equal(outs[0], outs[1])


def test_lockstep_with_the_real_engine_obeys_the_controllers() -> None:
    from sim.demand import grid_demand
    from sim.engine import Engine

    net = grid(2, 2)
    demand = grid_demand(net, vehicles_per_hour=1500, end=120.0, seed=3)
    demand.set_connected(0.5, seed=3)
    eng = Engine(net, demand, seed=3, dt=0.1)
    fd = FieldDevices(net, epoch_ns=EPOCH_NS, seed=3)
    platform = ScriptedPlatform()
    held: list[str] = []
    res = run(eng, fd, platform, 60.0, on_tick=lambda t, tick, truth: held.append(str(eng.link_state[0])))
    assert res.ticks == 600
    # the engine ran the states the controllers gave it: J0_0 held green past 30 s
    assert held[399] == "G" and fd.controllers.state[1].startswith("rrr")
    obs = platform.seen[-1]
    assert obs.truth is not None and len(obs.truth) == eng.n_running > 0
    connected = obs.truth["vehicle_id"][obs.truth["connected"]]
    assert sorted(obs.reports["vehicle_id"].tolist()) == sorted(connected.tolist())
    assert len(obs.detections) > 0 and set(obs.detections["sensor"].tolist()) <= set(range(fd.sensors.n))
