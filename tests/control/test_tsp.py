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
from control.tsp import TransitPriority, travel_time
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


def request(vid: str, eta: float, late: float, line: str = "") -> pb.PriorityRequest:
    """A bus's priority request for J1_1 from the west approach: ETA (s) and lateness (s)."""
    return pb.PriorityRequest(
        request_id="r1",
        vehicle_id=vid,
        junction_id="J1_1",
        approach_lane="J0_1-J1_1_0",
        eta_ns=round(eta * 1e9),
        schedule_deviation_ms=round(late * 1e3),
        bus_line=line,
    )


class Rig:
    """The grid's centre junction J1_1 at its east-west stage, with TSP around it."""

    def __init__(self, net: RoadNetwork, plans: list[ControllerPlan], cfg: TspConfig | None = None) -> None:
        self.net, self.plans = net, plans
        self.safety = SafetyLayer(plans)
        self.tsp = TransitPriority(net, plans, Approaches.build(net), MapMatcher(net), cfg or TspConfig())
        self.t = net.tls_index_of["J1_1"]
        self.m = SignalMachine.start(plans[self.t], int(net.tls_active_program[self.t]), 0, T0)

    def decide(
        self,
        now: float,
        reports: np.ndarray,
        requests: list[pb.PriorityRequest] | None = None,
        *,
        likely_end: float | None = None,
    ) -> tuple[list[pb.SignalCommand], list[pb.Advisory]]:
        self.m.advance(now)
        w = self.safety.duration_window(self.m, now)
        calls = self.tsp.calls(now, reports, requests or [])
        pred = predict(self.m, now, window=w, intent_end=likely_end)
        return self.tsp.decide(now, calls, {self.t: self.m}, {self.t: pred}, {self.t: w})

    def send(self, cmds: list[pb.SignalCommand], now: float) -> None:
        """Pass the commands through the safety layer (they must be accepted) and apply them."""
        for c in cmds:
            v = self.safety.check(c, self.m, now)
            assert v.outcome == "accepted", v.reason
            self.m.apply(v.command, now)  # type: ignore[arg-type]


@pytest.fixture
def rig(grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]) -> Rig:
    return Rig(grid_net, plans["grid"])


def _answer(advs: list[pb.Advisory]) -> pb.PriorityResponse:
    assert len(advs) == 1 and advs[0].WhichOneof("kind") == "priority"
    return advs[0].priority


def eta(dist: float, speed: float, limit: float = 13.89) -> float:
    """The ETA TSP assumes: accelerating at the default 1 m/s² up to the speed limit, s."""
    return float(travel_time(np.array([dist]), np.array([speed]), 1.0, np.array([limit]))[0])


def test_eta_accelerates_to_the_speed_limit() -> None:
    # a bus pulling out of a stop 100 m before the line: 13.9 s to reach the limit over 96.5 m
    got = travel_time(np.array([100.0, 30.0, 50.0, -5.0]), np.array([0.0, 0.0, 15.0, 3.0]), 1.0, np.full(4, 13.89))
    assert got[0] == pytest.approx(13.89 + 3.5 / 13.89, abs=0.01)
    assert got[1] == pytest.approx(np.sqrt(60.0), abs=1e-6)  # still accelerating at the line
    assert got[2] == pytest.approx(50.0 / 15.0)  # faster than the limit: keeps its speed
    assert got[3] == 0.0
    # far less than distance / 3 m/s, which the old ETA assumed for a slow bus
    assert got[0] < 100.0 / 3.0


def test_green_extension_reaches_the_bus_within_limits(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0  # the strategy means to end the green in 3 s
    cmds, advs = rig.decide(now, bus(rig.net, "J0_1-J1_1_0", 80.0, 10.0, late=60.0))
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_EXTEND_GREEN
    # arrives in ~6.3 s (accelerating to the limit), + 2 s margin, the green ends in 3 s
    assert cmds[0].duration_s == pytest.approx(eta(80.0, 10.0) + 2.0 - 3.0, abs=0.05)
    assert cmds[0].expires_ns > round(now * 1e9)
    ans = _answer(advs)
    assert ans.status == PS.PRIORITY_STATUS_GRANTED and ans.action == CK.COMMAND_KIND_EXTEND_GREEN
    v = rig.safety.check(cmds[0], rig.m, now)
    assert v.outcome == "accepted"


def test_an_extension_beyond_the_limit_is_refused(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 1.0
    # standing 110 m out (just past its stop): ~14.9 s to the line, 15.9 s more green than planned
    cmds, advs = rig.decide(now, bus(rig.net, "J0_1-J1_1_0", 110.0, 0.0, late=60.0))
    assert cmds == []
    ans = _answer(advs)
    assert ans.status == PS.PRIORITY_STATUS_REJECTED and "needs" in ans.reason


def test_early_green_for_a_bus_waiting_on_red(rig: Rig) -> None:
    now = T0 + 12.0
    rig.m.phase_end = now + 12.0  # its green would start in 17 s; the bus arrives in ~7.7 s
    cmds, advs = rig.decide(now, bus(rig.net, "J1_0-J1_1_0", 100.0, 10.0, late=30.0))
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_EARLY_GREEN
    pp = rig.plans[rig.t].program(rig.m.program)
    assert pp.resumable[cmds[0].phase_index] and cmds[0].phase_index == 3
    # all the current stage has left beyond its minimum (12 s): still later than 5 s before arrival
    assert cmds[0].duration_s == pytest.approx(12.0, abs=0.05)
    assert _answer(advs).status == PS.PRIORITY_STATUS_GRANTED
    v = rig.safety.check(cmds[0], rig.m, now)
    assert v.ok
    m = rig.m.clone()
    m.apply(v.command, now)  # type: ignore[arg-type]
    m.advance(now + 6.0)
    assert m.phase == 3, "the bus's stage comes early: the current one is cut to its minimum"


def test_early_green_comes_before_the_bus_would_brake(
    grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]
) -> None:
    rig = Rig(grid_net, plans["grid"], TspConfig(budget_s_per_cycle=60.0))
    now = T0 + 12.0
    rig.m.phase_end = now + 30.0  # its green would start in 35 s
    # standing 110 m out, just past its stop: ~14.9 s to the line
    cmds, _ = rig.decide(now, bus(grid_net, "J1_0-J1_1_0", 110.0, 0.0, late=30.0))
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_EARLY_GREEN
    # no more than needed for its green to start green_lead_s = 5 s before it arrives
    assert cmds[0].duration_s == pytest.approx(35.0 - (eta(110.0, 0.0) - 5.0), abs=0.05)
    assert rig.tsp.budget_left(rig.t, now, 70.0) == pytest.approx(60.0 - cmds[0].duration_s, abs=0.05)


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
    assert rig.tsp.budget_left(rig.t, now, 70.0) == pytest.approx(20.0 - (eta(80.0, 10.0) - 1.0), abs=0.05)
    cmds, advs = rig.decide(now + 9.0, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE))
    assert rig.t not in rig.tsp.grants
    assert _answer(advs).status == PS.PRIORITY_STATUS_COMPLETED


def test_priority_requests_without_bsm(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0
    req = request("busX", now + 6.0, late=90.0, line="B2")
    calls = rig.tsp.calls(now, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE), [req])
    assert len(calls) == 1 and calls[0].lateness_s == pytest.approx(90.0)
    # requests arrive once and stay open until cancelled
    assert len(rig.tsp.calls(now + 1, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE), [])) == 1
    req.cancel = True
    assert rig.tsp.calls(now + 2, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE), [req]) == []


def test_a_late_bus_slower_than_said_has_its_green_held(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0
    cmds, _ = rig.decide(now, bus(rig.net, "J0_1-J1_1_0", 80.0, 10.0, late=60.0))
    rig.send(cmds, now)
    first = eta(80.0, 10.0) + 2.0 - 3.0
    assert rig.m.phase_end == pytest.approx(now + 3.0 + first, abs=0.05)
    # 3 s on the bus is still 60 m out at 4 m/s (a car turning in ahead of it): the green would
    # end before it arrives; it is held again, within the safety window, the limit and the budget
    later = now + 3.0
    cmds, advs = rig.decide(later, bus(rig.net, "J0_1-J1_1_0", 60.0, 4.0, late=63.0))
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_EXTEND_GREEN
    arrive = later + eta(60.0, 4.0) + 2.0
    assert cmds[0].duration_s == pytest.approx(arrive - rig.m.phase_end, abs=0.05)
    assert advs == [] and rig.tsp.counts["held"] == 1  # its answer (granted, extension) stands
    rig.send(cmds, later)
    assert rig.m.phase_end == pytest.approx(arrive, abs=0.05)
    assert rig.t in rig.tsp.grants and rig.tsp.grants[rig.t].until >= arrive
    spent = first + cmds[0].duration_s
    assert rig.tsp.budget_left(rig.t, later, 70.0) == pytest.approx(20.0 - spent, abs=0.05)
    # stuck 59 m out 8 s later, it would need 11.2 s more: beyond what is left of max_extension_s
    # (15 s for the grant) and of the budget; no more green
    cmds, advs = rig.decide(later + 8.0, bus(rig.net, "J0_1-J1_1_0", 59.0, 0.0, late=70.0))
    assert cmds == [] and advs == []
    assert rig.m.phase_end == pytest.approx(arrive, abs=0.05)


def test_an_extension_counts_only_what_goes_beyond_the_likely_end(rig: Rig) -> None:
    # an actuated stage is planned 2 s at a time but likely to run 10 s more: the hold to the
    # bus's arrival is sent (the strategy could gap out), the budget is charged nothing
    now = T0 + 20.0
    rig.m.phase_end = now + 2.0
    cmds, _ = rig.decide(now, bus(rig.net, "J0_1-J1_1_0", 60.0, 13.89, late=60.0), likely_end=now + 10.0)
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_EXTEND_GREEN
    assert cmds[0].duration_s == pytest.approx(60.0 / 13.89 + 2.0 - 2.0, abs=0.05)
    assert rig.tsp.budget_left(rig.t, now, 70.0) == pytest.approx(20.0)


def test_the_budget_is_weighted_by_lateness(grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]) -> None:
    # a bus 15 s ahead of schedule (halfway to early_threshold_s) may draw only half the budget
    need = eta(80.0, 10.0) + 2.0 - 3.0
    for late, granted in ((-15.0, False), (10.0, True)):
        rig = Rig(grid_net, plans["grid"], TspConfig(budget_s_per_cycle=10.0))
        now = T0 + 20.0
        rig.m.phase_end = now + 3.0
        cmds, advs = rig.decide(now, bus(grid_net, "J0_1-J1_1_0", 80.0, 10.0, late=late))
        assert bool(cmds) is granted, (late, _answer(advs).reason)
        if not granted:
            assert need > 5.0 and "budget" in _answer(advs).reason


def test_a_bus_at_its_stop_is_not_called_whatever_lane_it_matches(rig: Rig) -> None:
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0
    # its request was sent on entering range, with an ETA taken at that moment
    req = request("bus1", now + 6.0, late=60.0)
    # dwelling at the stop (front at its end, 71.4 m of 184.2 m), its report matched to lane 1
    at_stop = bus(rig.net, "J0_1-J1_1_1", 184.2 - 71.4 + 6.0, 0.0, late=60.0)
    at_stop["length"] = 12.0
    assert rig.tsp.calls(now, at_stop, [req]) == []
    assert rig.tsp.calls(now + 1.0, at_stop, []) == []
    # it pulls out: called on its BSM (live ETA), not on the request's stale one
    gone = bus(rig.net, "J0_1-J1_1_0", 100.0, 2.0, late=60.0)
    gone["length"] = 12.0
    calls = rig.tsp.calls(now + 5.0, gone, [])
    assert len(calls) == 1 and calls[0].eta == pytest.approx(now + 5.0 + eta(94.0, 2.0), abs=0.05)


def test_a_grant_outlives_a_tick_without_the_buses_report(rig: Rig) -> None:
    # BSMs come slower than control ticks: a tick without the bus's report is not "it has passed"
    now = T0 + 20.0
    rig.m.phase_end = now + 3.0
    cmds, _ = rig.decide(now, bus(rig.net, "J0_1-J1_1_0", 80.0, 10.0, late=60.0))
    rig.send(cmds, now)
    left = rig.tsp.budget_left(rig.t, now, 70.0)
    cmds, advs = rig.decide(now + 0.1, np.zeros(0, dtype=VEHICLE_REPORT_DTYPE))
    assert rig.t in rig.tsp.grants and cmds == [] and advs == []
    cmds, advs = rig.decide(now + 0.2, bus(rig.net, "J0_1-J1_1_0", 78.0, 10.0, late=60.0))
    assert rig.t in rig.tsp.grants and cmds == [] and advs == []
    assert rig.tsp.budget_left(rig.t, now + 0.2, 70.0) == pytest.approx(left), "charged once"
    # reported beyond the line (on the next junction's approach): it has passed
    cmds, advs = rig.decide(now + 7.0, bus(rig.net, "J1_1-J2_1_0", 170.0, 13.0, late=60.0))
    assert rig.t not in rig.tsp.grants
    assert _answer(advs).status == PS.PRIORITY_STATUS_COMPLETED


def test_a_bus_past_its_stop_stays_called_when_its_position_jitters(rig: Rig) -> None:
    now = T0 + 20.0
    # just past its stop (front 3 m beyond the stop's end at 71.4 m of 184.2 m, centre 3 m before)
    b = bus(rig.net, "J0_1-J1_1_0", 184.2 - 71.4 - 3.0 + 6.0, 1.0, late=60.0)
    b["length"] = 12.0
    assert rig.tsp.calls(now, b, []) == [], "its centre is still before the stop's end"
    past = bus(rig.net, "J0_1-J1_1_0", 184.2 - 71.4 - 2.0, 2.0, late=60.0)
    past["length"] = 12.0
    assert len(rig.tsp.calls(now + 1.0, past, [])) == 1
    # GNSS noise puts it 1.5 m back: it does not drop out (and lose its grant) for a tick
    assert len(rig.tsp.calls(now + 1.1, b, [])) == 1


def test_early_return_when_the_bus_cannot_pass_in_this_green(
    grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]
) -> None:
    rig = Rig(grid_net, plans["grid"], TspConfig(budget_s_per_cycle=40.0))
    now = T0 + 50.0
    rig.m.phase_end = T0 + 55.0  # maximum green (60 s) ends at T0 + 60
    # standing 110 m out: it arrives after the maximum green, whatever the extension
    reports = bus(grid_net, "J0_1-J1_1_0", 110.0, 0.0, late=60.0)
    cmds, advs = rig.decide(now, reports)
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_SET_DURATION
    assert cmds[0].duration_s == pytest.approx(0.1)  # end the bus's green as soon as allowed
    ans = _answer(advs)
    assert ans.status == PS.PRIORITY_STATUS_GRANTED and ans.action == CK.COMMAND_KIND_SET_DURATION
    rig.send(cmds, now)
    assert rig.tsp.budget_left(rig.t, now, 70.0) == pytest.approx(40.0 - 5.0, abs=0.05)  # the 5 s cut
    # the cross stage starts at once (amber, all-red): the early green brings the bus's back at its minimum
    later = now + 6.0
    cmds, _ = rig.decide(later, bus(grid_net, "J0_1-J1_1_0", 100.0, 4.0, late=60.0))
    assert rig.m.phase == 3
    assert len(cmds) == 1 and cmds[0].kind == CK.COMMAND_KIND_EARLY_GREEN and cmds[0].phase_index == 0
    rig.send(cmds, later)
    m = rig.m.clone()
    m.advance(rig.m.phase_start + 8.0 + 5.0 + 0.1)
    assert m.phase == 0, "back to the bus's stage after the cross stage's minimum and its clearance"
