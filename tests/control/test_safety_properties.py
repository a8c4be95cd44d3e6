"""Property tests: random interleavings of strategy outputs, TSP requests and operator overrides,
passed through the safety layer and run forward on the reference controller model, never show
conflicting greens, a cut amber or all-red, or a green shorter than its minimum.

Two set-ups: the safety layer sees the controller's exact state, and the realistic one where it
sees only what the cloud tracks from SPaT sampled every 0.5 s (later-than-true change times).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as hs

from control.machine import SignalMachine
from control.plan import ControllerPlan, build_plans
from control.safety import SafetyLayer
from control.tracker import SignalTracker
from proto import pb
from roadnet import RoadNetwork, corridor, grid, load_sumo
from tests.conftest import PASUBIO
from tests.control.conftest import PASUBIO_ADDITIONAL
from tests.control.monitor import problems

CK = pb.CommandKind
KINDS = [
    CK.COMMAND_KIND_SET_DURATION,
    CK.COMMAND_KIND_EXTEND_GREEN,
    CK.COMMAND_KIND_HOLD_PHASE,
    CK.COMMAND_KIND_FORCE_PHASE,
    CK.COMMAND_KIND_EARLY_GREEN,
    CK.COMMAND_KIND_SET_PROGRAM,
    CK.COMMAND_KIND_ALL_RED,
    CK.COMMAND_KIND_RELEASE,
    CK.COMMAND_KIND_UNSPECIFIED,
]

#: (seconds before, kind, phase index, duration s, expiry offset s or None, operator?, program pick)
Action = tuple[float, int, int, float, float | None, bool, int]
ACTION = hs.tuples(
    hs.floats(0.0, 12.0),
    hs.sampled_from(KINDS),
    hs.integers(-1, 24),
    hs.one_of(hs.floats(0.0, 120.0), hs.floats(-5.0, 150.0), hs.just(math.inf), hs.just(math.nan)),
    hs.one_of(hs.none(), hs.floats(-10.0, 700.0)),
    hs.booleans(),
    hs.integers(0, 3),
)
CASE = hs.tuples(hs.sampled_from(["grid", "corridor", "pasubio"]), hs.integers(0, 50), hs.integers(0, 50))


@cache
def _map(name: str) -> tuple[RoadNetwork, list[ControllerPlan], SafetyLayer]:
    """A map, its plans and safety layer, loaded once (kept out of hypothesis's printed arguments)."""
    if name == "grid":
        net = grid(3, 3)
    elif name == "corridor":
        net = corridor(4)
    else:
        net = load_sumo(PASUBIO / "pasubio_buslanes.net.xml", [PASUBIO / a for a in PASUBIO_ADDITIONAL])
    pl = build_plans(net)
    return net, pl, SafetyLayer(pl)


def _command(plan: ControllerPlan, now: float, action: Action) -> pb.SignalCommand:
    _, kind, phase, dur, exp, operator, prog = action
    progs = [*sorted(p.program_id for p in plan.programs.values()), "no-such-program"]
    n_phases = plan.program(next(iter(plan.programs))).n_phases
    phase = 99 if phase < 0 else phase % n_phases
    return pb.SignalCommand(
        command_id="c",
        junction_id=plan.tls_id,
        kind=kind,  # type: ignore[arg-type]
        phase_index=max(phase, 0),
        program_id=progs[prog % len(progs)],
        duration_s=dur,
        issued_ns=round(now * 1e9),
        expires_ns=0 if exp is None else round((now + exp) * 1e9),
        source="operator:alice" if operator else "strategy",
    )


def _start(plan: ControllerPlan, net_program: int, pick: int) -> SignalMachine:
    pp = plan.program(net_program)
    # a stage (its greens start there); a program without stages starts at its first phase
    stages = np.flatnonzero(pp.flexible) if pp.flexible.any() else np.array([0])
    h = int(stages[pick % len(stages)])
    return SignalMachine.start(plan, net_program, h, 1000.0, log=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=CASE, actions=hs.lists(ACTION, min_size=1, max_size=40))
def test_exact_state_never_unsafe(case: tuple[str, int, int], actions: list[Action]) -> None:
    name, ti, pick = case
    net, pl, safety = _map(name)
    plan = pl[ti % len(pl)]
    m = _start(plan, int(net.tls_active_program[plan.tls]), pick)
    start_chars = m.chars
    now = 1000.0
    for a in actions:
        now += a[0]
        m.advance(now)
        v = safety.check(_command(plan, now, a), m, now)
        if v.command is not None:
            assert v.command.expires_ns > round(now * 1e9), "every command sent carries a future expiry"
            m.apply(v.command, now)
    m.advance(now + 400.0)
    assert problems(plan, m.log or [], start_chars, 1000.0) == []


def _spat(m: SignalMachine, now: float) -> pb.Spat:
    pp = m.plan.program(m.program)
    return pb.Spat(
        junction_id=m.plan.tls_id,
        timestamp_ns=round(now * 1e9),
        program_id=pp.program_id,
        phase_index=m.phase,
        link_state=m.chars,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=CASE, actions=hs.lists(ACTION, min_size=1, max_size=25))
# found by this test: an all-red before the minimum green, then a release in the same tick
@example(
    case=("grid", 0, 0),
    actions=[
        (0.0, 8, 0, math.inf, None, False, 0),
        (5.0, 8, 0, 0.0, None, False, 0),
        (0.0, 4, 0, math.inf, None, False, 0),
        (0.0, 7, 0, math.inf, None, False, 0),
    ],
)
# ... and a release during the all-red's amber, which the tracker sees only as a transition
@example(
    case=("grid", 0, 0),
    actions=[
        (0.0, 8, 0, math.inf, None, False, 0),
        (7.0, 8, 0, math.inf, None, False, 0),
        (1.0, 4, 0, math.inf, None, False, 0),
        (1.0, 7, 0, math.inf, None, False, 0),
    ],
)
def test_tracked_state_never_unsafe(case: tuple[str, int, int], actions: list[Action]) -> None:
    """The field runs the commands; the cloud judges them from SPaT seen every 0.5 s only."""
    name, ti, pick = case
    net, pl, safety = _map(name)
    plan = pl[ti % len(pl)]
    tracker = SignalTracker(pl)
    field = _start(plan, int(net.tls_active_program[plan.tls]), pick)
    start_chars = field.chars
    now = 1000.0
    tracker.update([_spat(field, now)], now)
    for a in actions:
        target = now + a[0]
        while now + 0.5 <= target:
            now += 0.5
            field.advance(now)
            tracker.update([_spat(field, now)], now)
        seen = tracker.machine(plan.tls)
        assert seen is not None
        v = safety.check(_command(plan, now, a), seen, now)
        if v.command is not None:
            field.apply(v.command, now)
            tracker.note(plan.tls, v.command, now)
    field.advance(now + 400.0)
    assert problems(plan, field.log or [], start_chars, 1000.0) == []


def test_random_commands_are_often_accepted_and_never_unsafe() -> None:
    """The property tests are not vacuous: seeded random commands, many accepted, none unsafe."""
    rng = np.random.default_rng(7)
    accepted = total = 0
    for name in ("grid", "pasubio"):
        net, pl, safety = _map(name)
        for plan in pl:
            m = _start(plan, int(net.tls_active_program[plan.tls]), int(rng.integers(0, 9)))
            start_chars, now = m.chars, 1000.0
            for _ in range(150):
                a = (
                    float(rng.exponential(3.0)),
                    int(rng.choice(KINDS)),
                    int(rng.integers(-1, 25)),
                    float(rng.uniform(-5, 100)),
                    float(rng.uniform(-5, 400)) if rng.random() < 0.9 else None,
                    bool(rng.random() < 0.3),
                    int(rng.integers(0, 4)),
                )
                now += a[0]
                m.advance(now)
                v = safety.check(_command(plan, now, a), m, now)
                total += 1
                if v.command is not None:
                    accepted += 1
                    m.apply(v.command, now)
            m.advance(now + 400.0)
            assert problems(plan, m.log or [], start_chars, 1000.0) == []
    assert accepted / total > 0.3, f"only {accepted} of {total} random commands passed"
