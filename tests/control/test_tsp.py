"""Transit signal priority: extension and early green within the limits and the budget; answers."""

from __future__ import annotations

import numpy as np
import pytest

from control.approach import Approaches
from control.config import TspConfig
from control.machine import SignalMachine
from control.plan import ControllerPlan
from control.safety import SafetyLayer
from control.spat import predict
from control.tsp import TransitPriority
from proto import VEHICLE_REPORT_DTYPE, pb
from roadnet import MapMatcher, RoadNetwork

T0 = 1000.0
CK = pb.CommandKind
PS = pb.PriorityStatus


def bus(net: RoadNetwork, lane_id: str, dist: float, speed: float, late: float, vid: str = "bus1") -> np.ndarray:
    """One bus report ``dist`` m before the end of a lane, driving along it."""
    shape = net.lane_shape(net.lane_index_of[lane_id])
    a, b = shape[-2], shape[-1]
    u = (b - a) / np.hypot(*(b - a))
    p = b - u * dist
    r = np.zeros(1, dtype=VEHICLE_REPORT_DTYPE)
    r["vehicle_id"], r["x"], r["y"] = vid, p[0], p[1]
    r["vx"], r["vy"], r["speed"] = u[0] * speed, u[1] * speed, speed
    r["heading"] = np.arctan2(u[1], u[0])
    r["cls"], r["bus_line"], r["schedule_dev"] = 2, "B1", late
    return r


class Rig:
    """The grid's centre junction J1_1 at its east-west stage, with TSP around it."""

    def __init__(self, net: RoadNetwork, plans: list[ControllerPlan], cfg: TspConfig | None = None) -> None:
        self.net, self.plans = net, plans
        self.safety = SafetyLayer(plans)
        self.tsp = TransitPriority(net, plans, Approaches.build(net), MapMatcher(net), cfg or TspConfig())
        self.t = net.tls_index_of["J1_1"]
        self.m = SignalMachine.start(plans[self.t], int(net.tls_active_program[self.t]), 0, T0)

    def decide(self, now: float, reports: np.ndarray) -> tuple[list[pb.SignalCommand], list[pb.Advisory]]:
        self.m.advance(now)
        w = self.safety.duration_window(self.m, now)
        calls = self.tsp.calls(now, reports, [])
        pred = predict(self.m, now, window=w)
        return self.tsp.decide(now, calls, {self.t: self.m}, {self.t: pred}, {self.t: w})


@pytest.fixture
def rig(grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]) -> Rig:
    return Rig(grid_net, plans["grid"])


def _answer(advs: list[pb.Advisory]) -> pb.PriorityResponse:
    assert len(advs) == 1 and advs[0].WhichOneof("kind") == "priority"
    return advs[0].priority


def test_green_extension_reaches_the_bus_within_limits(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0  # the strategy means to end the green in 3 s
    cmds, advs = rig.decide(now, bus(rig.net, "J0_1-J1_1_0", 80.0, 10.0, late=60.0))
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_EXTEND_GREEN
    # arrives in 8 s, + 2 s margin, the green ends in 3 s: 7 s more
    assert cmds[0].duration_s == pytest.approx(7.0, abs=0.05)
    assert cmds[0].expires_ns > round(now * 1e9)
    ans = _answer(advs)
    assert ans.status == PS.PRIORITY_STATUS_GRANTED and ans.action == CK.COMMAND_KIND_EXTEND_GREEN
    v = rig.safety.check(cmds[0], rig.m, now)
    assert v.outcome == "accepted"


def test_an_extension_beyond_the_limit_is_refused(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 1.0
    cmds, advs = rig.decide(now, bus(rig.net, "J0_1-J1_1_0", 80.0, 1.0, late=60.0))
    assert cmds == []
    ans = _answer(advs)
    assert ans.status == PS.PRIORITY_STATUS_REJECTED and "needs" in ans.reason


def test_early_green_for_a_bus_waiting_on_red(rig: Rig) -> None:
    now = T0 + 12.0
    rig.m.phase_end = now + 12.0  # its green would start in 17 s; the bus arrives in 10 s
    cmds, advs = rig.decide(now, bus(rig.net, "J1_0-J1_1_0", 100.0, 10.0, late=30.0))
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_EARLY_GREEN
    pp = rig.plans[rig.t].program(rig.m.program)
    assert pp.resumable[cmds[0].phase_index] and cmds[0].phase_index == 3
    assert cmds[0].duration_s == pytest.approx(9.0, abs=0.05)  # 17 - 10 + 2 s margin
    assert _answer(advs).status == PS.PRIORITY_STATUS_GRANTED
    v = rig.safety.check(cmds[0], rig.m, now)
    assert v.ok
    m = rig.m.clone()
    m.apply(v.command, now)  # type: ignore[arg-type]
    m.advance(now + 6.0)
    assert m.phase == 3, "the bus's stage comes early: the current one is cut to its minimum"


def test_early_buses_get_no_priority_and_late_ones_come_first(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 2.0
    early = bus(rig.net, "J0_1-J1_1_0", 80.0, 10.0, late=-120.0, vid="early")
    cmds, advs = rig.decide(now, early)
    assert cmds == [] and _answer(advs).status == PS.PRIORITY_STATUS_REJECTED
    assert "ahead of schedule" in _answer(advs).reason
    late = bus(rig.net, "J2_1-J1_1_0", 60.0, 10.0, late=200.0, vid="late")
    later = bus(rig.net, "J0_1-J1_1_0", 70.0, 10.0, late=20.0, vid="less-late")
    cmds, advs = rig.decide(now, np.concatenate([early, later, late]))
    assert len(cmds) == 1 and "late" in cmds[0].reason and "bus late " in cmds[0].reason


def test_the_budget_limits_priority_per_cycle(grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]) -> None:
    rig = Rig(grid_net, plans["grid"], TspConfig(budget_s_per_cycle=5.0))
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0
    cmds, advs = rig.decide(now, bus(grid_net, "J0_1-J1_1_0", 80.0, 10.0, late=60.0))
    assert cmds == []
    assert "budget" in _answer(advs).reason
    assert rig.tsp.budget_left(rig.t, now, 70.0) == pytest.approx(5.0)


def test_a_granted_bus_is_completed_when_it_has_passed(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0
    cmds, _ = rig.decide(now, bus(rig.net, "J0_1-J1_1_0", 80.0, 10.0, late=60.0))
    assert cmds and rig.t in rig.tsp.grants
    assert rig.tsp.budget_left(rig.t, now, 70.0) == pytest.approx(20.0 - 7.0, abs=0.05)
    cmds, advs = rig.decide(now + 9.0, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE))
    assert rig.t not in rig.tsp.grants
    assert _answer(advs).status == PS.PRIORITY_STATUS_COMPLETED


def test_priority_requests_without_bsm(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0
    req = pb.PriorityRequest(
        request_id="r1",
        vehicle_id="busX",
        junction_id="J1_1",
        approach_lane="J0_1-J1_1_0",
        eta_ns=round((now + 6.0) * 1e9),
        schedule_deviation_ms=90_000,
        bus_line="B2",
    )
    calls = rig.tsp.calls(now, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE), [req])
    assert len(calls) == 1 and calls[0].lateness_s == pytest.approx(90.0)
    # requests arrive once and stay open until cancelled
    assert len(rig.tsp.calls(now + 1, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE), [])) == 1
    req.cancel = True
    assert rig.tsp.calls(now + 2, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE), [req]) == []
