"""The safety layer on known cases: requirements read from the map, accept / correct / reject."""

from __future__ import annotations

import numpy as np
import pytest

from control.machine import SignalMachine
from control.plan import ControllerPlan, build_plans
from control.rules import state_conflicts
from control.safety import SafetyLayer
from proto import pb
from roadnet import RoadNetwork
from roadnet.signals import phase_conflicts
from tests.control.monitor import problems

CK = pb.CommandKind
T0 = 1000.0


def _cmd(plan: ControllerPlan, kind: int, now: float, **kw: object) -> pb.SignalCommand:
    base: dict[str, object] = {"junction_id": plan.tls_id, "kind": kind, "expires_ns": round((now + 60) * 1e9)}
    base.update(kw)
    return pb.SignalCommand(**base)  # type: ignore[arg-type]


def _p(plan: ControllerPlan) -> int:
    """The network index of the plan's (only) program."""
    return next(iter(plan.programs))


@pytest.fixture(scope="module")
def grid_plan(plans: dict[str, list[ControllerPlan]]) -> ControllerPlan:
    return plans["grid"][4]


def test_grid_requirements_come_from_its_program(grid_plan: ControllerPlan) -> None:
    p = grid_plan
    assert np.allclose(p.amber_req, 3.0)
    assert np.allclose(p.clear_req[p.foes], 2.0)
    assert np.allclose(p.min_green_req, 5.0)
    assert np.allclose(p.max_red_req, 120.0)
    pp = p.program(next(iter(p.programs)))
    assert list(pp.stages) == [0, 3]
    # the permissive left turn runs with the opposing through movement it yields to
    s = pp.states[0]
    lefts = [k for k, c in enumerate(s) if c == "g"]
    assert lefts and all(p.permitted[k].any() for k in lefts)


@pytest.mark.parametrize("name", ["grid", "corridor", "pasubio"])
def test_every_active_program_passes_the_rules(
    name: str, nets: dict[str, RoadNetwork], plans: dict[str, list[ControllerPlan]]
) -> None:
    net = nets[name]
    for plan in plans[name]:
        p = int(net.tls_active_program[plan.tls])
        m = SignalMachine.start(plan, p, 0, T0, log=True)
        cycle = float(plan.program(p).duration.sum())
        m.advance(T0 + 3 * cycle)
        late = [tr for tr in m.log or [] if tr.t > T0 + cycle]
        assert problems(plan, late, late[0].prev, T0 + cycle - 1e6) == [], plan.tls_id


def test_pasubio_default_programs_without_all_red_are_refused(
    pasubio_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]
) -> None:
    """The generated '0' programs have no all-red: switching to them is refused, the city's plan is fine."""
    safety = SafetyLayer(plans["pasubio"])
    unsafe = {t: set(v) for t, v in safety.unsafe_programs.items() if v}
    assert unsafe and all(v == {"0"} for v in unsafe.values())
    plan = plans["pasubio"][0]
    m = SignalMachine.start(plan, int(pasubio_net.tls_active_program[0]), 0, T0)
    v = safety.check(_cmd(plan, CK.COMMAND_KIND_SET_PROGRAM, T0 + 30, program_id="0"), m, T0 + 30)
    assert v.outcome == "rejected" and "clearance" in v.reason


def test_force_before_minimum_green_is_rejected_with_retry(grid_plan: ControllerPlan) -> None:
    safety = SafetyLayer([grid_plan])
    m = SignalMachine.start(grid_plan, _p(grid_plan), 0, T0)
    m.advance(T0 + 2.0)
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_FORCE_PHASE, T0 + 2.0, phase_index=3), m, T0 + 2.0)
    assert v.outcome == "rejected"
    assert v.retry_after_s == pytest.approx(6.0, abs=0.01)  # phase min 8 s
    m.advance(T0 + 8.0)
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_FORCE_PHASE, T0 + 8.0, phase_index=3), m, T0 + 8.0)
    assert v.outcome == "accepted"


def test_the_unchecked_model_would_break_the_rules(grid_plan: ControllerPlan) -> None:
    """Without the layer, the same early FORCE cuts the green: the monitor and the layer both see it."""
    m = SignalMachine.start(grid_plan, _p(grid_plan), 0, T0, log=True)
    m.apply(_cmd(grid_plan, CK.COMMAND_KIND_FORCE_PHASE, T0 + 2.0, phase_index=3), T0 + 2.0)
    m.advance(T0 + 60)
    found = problems(grid_plan, m.log or [], grid_plan.program(_p(grid_plan)).states[0], T0)
    assert any("< min" in f for f in found)


def test_durations_are_clamped_to_min_and_max_green(grid_plan: ControllerPlan) -> None:
    safety = SafetyLayer([grid_plan])
    m = SignalMachine.start(grid_plan, _p(grid_plan), 0, T0)
    m.advance(T0 + 1.0)
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_SET_DURATION, T0 + 1.0, duration_s=0.5), m, T0 + 1.0)
    assert v.outcome == "corrected" and v.command is not None
    assert v.command.duration_s == pytest.approx(7.0, abs=0.01)  # min 8 s from T0
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_SET_DURATION, T0 + 1.0, duration_s=500), m, T0 + 1.0)
    assert v.command is not None and v.command.duration_s == pytest.approx(59.0, abs=0.01)  # max 60 s
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_SET_DURATION, T0 + 1.0, duration_s=20), m, T0 + 1.0)
    assert v.outcome == "accepted"


def test_expiry_is_required_bounded_and_in_the_future(grid_plan: ControllerPlan) -> None:
    safety = SafetyLayer([grid_plan])
    m = SignalMachine.start(grid_plan, _p(grid_plan), 0, T0)
    now = T0 + 10
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_SET_DURATION, now, duration_s=20, expires_ns=0), m, now)
    assert v.command is not None and v.command.expires_ns == round((now + 120) * 1e9)
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_SET_DURATION, now, duration_s=20, expires_ns=1), m, now)
    assert v.outcome == "rejected" and "expired" in v.reason
    far = round((now + 5000) * 1e9)
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_ALL_RED, now, expires_ns=far), m, now)
    assert v.command is not None and v.command.expires_ns <= round((now + 600) * 1e9)


def test_all_red_is_held_until_the_resume_is_clear(grid_plan: ControllerPlan) -> None:
    safety = SafetyLayer([grid_plan])
    m = SignalMachine.start(grid_plan, _p(grid_plan), 0, T0)
    now = T0 + 20
    v = safety.check(_cmd(grid_plan, CK.COMMAND_KIND_ALL_RED, now, expires_ns=round((now + 1) * 1e9)), m, now)
    assert v.outcome == "corrected" and v.command is not None
    assert v.command.expires_ns / 1e9 >= now + 3.0 + 2.0  # amber then all-red


def test_bad_commands_are_rejected_with_a_reason(grid_plan: ControllerPlan) -> None:
    safety = SafetyLayer([grid_plan])
    m = SignalMachine.start(grid_plan, _p(grid_plan), 0, T0)
    now = T0 + 20
    cases = [
        (_cmd(grid_plan, CK.COMMAND_KIND_FORCE_PHASE, now, phase_index=17), "does not exist"),
        (_cmd(grid_plan, CK.COMMAND_KIND_FORCE_PHASE, now, phase_index=1), "transition phase"),
        (_cmd(grid_plan, CK.COMMAND_KIND_SET_PROGRAM, now, program_id="x"), "no program"),
        (_cmd(grid_plan, CK.COMMAND_KIND_SET_DURATION, now, duration_s=float("nan")), "finite"),
        (_cmd(grid_plan, CK.COMMAND_KIND_UNSPECIFIED, now), "unknown command kind"),
    ]
    for cmd, why in cases:
        v = safety.check(cmd, m, now)
        assert v.outcome == "rejected" and why in v.reason, (cmd, v.reason)


def test_explicit_states_are_checked(grid_plan: ControllerPlan) -> None:
    safety = SafetyLayer([grid_plan])
    m = SignalMachine.start(grid_plan, _p(grid_plan), 0, T0)
    pp = grid_plan.program(_p(grid_plan))
    both = "".join("G" if a in "gG" or b in "gG" else "r" for a, b in zip(pp.states[0], pp.states[3], strict=True))
    assert phase_conflicts(both, grid_plan.foes, grid_plan.yields)
    assert state_conflicts(grid_plan, both).any()
    v = safety.check_state(m, both, T0 + 20)
    assert v.outcome == "rejected" and "conflict" in v.reason
    # straight to the other stage: no amber, no all-red
    v = safety.check_state(m, pp.states[3], T0 + 20)
    assert v.outcome == "rejected"
    assert safety.check_state(m, pp.states[1], T0 + 20).outcome == "accepted"  # its amber, after min green


def test_plans_without_crossings_have_no_pedestrian_links(plans: dict[str, list[ControllerPlan]]) -> None:
    assert not any(p.crossing.any() for pl in plans.values() for p in pl)


def test_pedestrian_crossing_links_get_the_walk_and_clearance_minimum(grid_net: RoadNetwork) -> None:
    """A crossing link (a connection onto a crossing lane) gets walk + length / 1.2 m/s as minimum green."""
    import copy

    from roadnet.model import CROSSING

    net = copy.deepcopy(grid_net)
    t = 4
    c = int(np.flatnonzero(net.conn_tls == t)[0])
    e = int(net.lane_edge[net.conn_to_lane[c]])
    net.edge_function = net.edge_function.copy()
    net.edge_function[e] = CROSSING
    plan = build_plans(net)[t]
    k = int(net.conn_link[c])
    assert plan.crossing[k]
    assert plan.min_green_req[k] == pytest.approx(7.0 + float(net.lane_length[net.conn_to_lane[c]]) / 1.2)
