"""The rules' memoised masks (per state change, per stage window) give exactly what the direct computation gives.

``reference_violations`` and ``reference_red_runs`` are the rules as first written (every mask
recomputed from the state strings on every call); hypothesis draws transitions between program
states, clearance states and arbitrary strings, with random timers, on the three maps.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from control import rules
from control import states as st
from control.machine import SignalMachine, Transition
from control.plan import ControllerPlan
from control.rules import EPS, Violation
from tests.control.test_safety_properties import _map

F64 = np.ndarray


def _plans(name: str) -> list[ControllerPlan]:
    return _map(name)[1]


def reference_violations(plan: ControllerPlan, tr: Transition) -> list[Violation]:
    """The rules with every mask computed from the strings (the implementation before the memo)."""
    out: list[Violation] = []
    t = tr.t
    pc, nc = st.codes(tr.prev), st.codes(tr.chars)
    bad = rules.state_conflicts(plan, tr.chars)
    if bad.any():
        a, b = np.nonzero(bad)
        out.append(Violation(t, "conflict", tuple(int(x) for x in np.unique(np.r_[a, b]))))
    elapsed = t - tr.since
    p_drive, p_amber, p_green = st.DRIVE[pc], st.AMBER[pc], st.GREENISH[pc]
    n_amber, n_green = st.AMBER[nc], st.GREENISH[nc]
    n_red = ~n_amber & ~n_green
    no_amber = p_drive & n_red
    if no_amber.any():
        out.append(Violation(t, "no-amber", tuple(int(k) for k in np.flatnonzero(no_amber))))
    a2g = p_amber & n_green & ~plan.amber_to_green_ok
    if a2g.any():
        out.append(Violation(t, "amber-to-green", tuple(int(k) for k in np.flatnonzero(a2g))))
    short_amber = p_amber & n_red & (elapsed < plan.amber_req - EPS)
    if short_amber.any():
        miss = float((plan.amber_req - elapsed)[short_amber].max())
        out.append(Violation(t, "amber", tuple(int(k) for k in np.flatnonzero(short_amber)), miss))
    short_green = p_drive & n_amber & (elapsed < plan.min_green_req - EPS)
    if short_green.any():
        miss = float((plan.min_green_req - elapsed)[short_green].max())
        out.append(Violation(t, "min-green", tuple(int(k) for k in np.flatnonzero(short_green)), miss))
    new_green = n_green & ~p_green
    short_red = new_green & ~p_amber & (elapsed < plan.min_red_req - EPS)
    if short_red.any():
        miss = float((plan.min_red_req - elapsed)[short_red].max())
        out.append(Violation(t, "min-red", tuple(int(k) for k in np.flatnonzero(short_red)), miss))
    if new_green.any():
        gives_way = st.PERMISSIVE[nc][:, None] & plan.yields
        foe = plan.foes & new_green[:, None] & ~n_green[None, :] & ~gives_way
        red_for = np.where(~p_green & ~p_amber & n_red, elapsed, 0.0)
        amber_foe = foe & n_amber[None, :]
        short = foe & ~amber_foe & (red_for[None, :] < plan.clear_req - EPS)
        if amber_foe.any() or short.any():
            miss = float((plan.clear_req - red_for[None, :])[short].max()) if short.any() else 0.0
            ks = np.flatnonzero((amber_foe | short).any(axis=1))
            out.append(Violation(t, "clearance", tuple(int(k) for k in ks), miss))
    if tr.ended is not None:
        p, h, start = tr.ended
        pp = plan.programs.get(p)
        if pp is not None and t - start < float(pp.eff_min[h]) - EPS:
            out.append(Violation(t, "phase-min", (), float(pp.eff_min[h]) - (t - start)))
    return out


def reference_red_runs(plan: ControllerPlan, log: list[Transition], t_end: float, chars: str, since: F64) -> F64:
    best = np.zeros(plan.n_links)
    for tr in log:
        pc, nc = st.codes(tr.prev), st.codes(tr.chars)
        ends = ~st.GREENISH[pc] & st.GREENISH[nc]
        best = np.maximum(best, np.where(ends, tr.t - tr.since, 0.0))
    open_red = ~st.GREENISH[st.codes(chars)]
    return np.maximum(best, np.where(open_red, t_end - since, 0.0))


def _state(plan: ControllerPlan, kind: int, pick: int, noise: list[int]) -> str:
    """A program state (kind 0), a clearance-like mix of it (1) or arbitrary characters (2)."""
    pp = next(iter(plan.programs.values()))
    base = pp.states[pick % pp.n_phases]
    if kind == 0:
        return base
    alphabet = "ryYgGsuoO" if kind == 2 else "ry"
    chars = list(base)
    for i, x in enumerate(noise):
        chars[(i * 7 + x) % len(chars)] = alphabet[x % len(alphabet)]
    return "".join(chars)


SIDE = hs.tuples(hs.integers(0, 2), hs.integers(0, 40), hs.lists(hs.integers(0, 1000), max_size=12))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=hs.sampled_from(["grid", "corridor", "pasubio"]),
    ti=hs.integers(0, 50),
    a=SIDE,
    b=SIDE,
    seed=hs.integers(0, 2**32 - 1),
    ended=hs.booleans(),
)
def test_memoised_rules_equal_the_direct_computation(
    name: str,
    ti: int,
    a: tuple[int, int, list[int]],
    b: tuple[int, int, list[int]],
    seed: int,
    ended: bool,
) -> None:
    plans = _plans(name)
    plan = plans[ti % len(plans)]
    prev, chars = _state(plan, *a), _state(plan, *b)
    rng = np.random.default_rng(seed)
    t = 1000.0
    # timers around every requirement: exactly on it, just short, far past
    since = t - rng.choice([0.0, 0.5, 2.0, 3.0, 4.999, 5.0, 7.0, 30.0, 200.0], size=plan.n_links)
    since = since + rng.normal(0.0, 1e-3, plan.n_links) * rng.integers(0, 2, plan.n_links)
    p = next(iter(plan.programs))
    tr = Transition(
        t, prev, chars, since, (p, a[1] % plan.program(p).n_phases, t - float(seed % 60)) if ended else None
    )
    want = reference_violations(plan, tr)
    assert rules.transition_violations(plan, tr) == want
    assert rules.transition_violations(plan, tr) == want  # from the memo
    log = [tr, Transition(t + 3.0, chars, prev, since + 1.0, None)]
    got = rules.red_runs(plan, log, t + 9.0, prev, since)
    np.testing.assert_array_equal(got, reference_red_runs(plan, log, t + 9.0, prev, since))


def reference_duration_window(m: SignalMachine, now: float) -> tuple[float, float]:
    """:meth:`SafetyLayer.duration_window` with every mask computed from the state (before the memo)."""
    plan = m.plan
    pp = plan.program(m.program)
    h = m.phase
    c = st.codes(m.chars)
    ending = st.DRIVE[c] & ~pp.green[(h + 1) % pp.n_phases]
    lo = max(now, m.phase_start + float(pp.eff_min[h]))
    if ending.any():
        lo = max(lo, float((m.since + plan.min_green_req)[ending].max()))
    hi = m.phase_start + float(pp.eff_max[h])
    waiting = ~st.GREENISH[c] & np.isfinite(plan.max_red_req) & np.isfinite(pp.next_green_wait[h])
    if waiting.any():
        lim = m.since + plan.max_red_req - pp.next_green_wait[h]
        hi = min(hi, float(lim[waiting].min()))
    return lo, max(lo, hi)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=hs.sampled_from(["grid", "corridor", "pasubio"]),
    ti=hs.integers(0, 50),
    pick=hs.integers(0, 20),
    run=hs.floats(0.0, 300.0),
    seed=hs.integers(0, 2**32 - 1),
)
def test_memoised_duration_window_equals_the_direct_computation(
    name: str, ti: int, pick: int, run: float, seed: int
) -> None:
    plans = _plans(name)
    plan = plans[ti % len(plans)]
    p = next(iter(plan.programs))
    m = SignalMachine.start(plan, p, pick % plan.program(p).n_phases, 1000.0)
    now = 1000.0 + run
    m.advance(now)
    m.since = m.since - np.random.default_rng(seed).uniform(0.0, 90.0, plan.n_links)
    layer = _map(name)[2]
    assert layer.duration_window(m, now) == reference_duration_window(m, now)
    assert layer.duration_window(m, now) == reference_duration_window(m, now)  # from the memo
