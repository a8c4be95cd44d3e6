"""GLOSA's array computations equal their one-vehicle-at-a-time definitions on random inputs.

* :func:`control.spat.link_windows_many` (all vehicles' green windows at once, over many
  controllers' predictions) equals :meth:`Prediction.link_windows` asked per vehicle;
* :func:`control.glosa.advise` equals a scalar reference that walks each vehicle's windows in
  order and takes the first reachable one (the module's documented rule);
* :meth:`Prediction.group_changes` (SPaT's next change per group, from memoised group terms)
  equals the direct computation from the predicted link classes.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from control import states as st
from control.glosa import advise
from control.machine import SignalMachine
from control.plan import ControllerPlan
from control.spat import WINDOWS, Prediction, link_windows_many, predict
from roadnet import RoadNetwork
from roadnet.signals import LIGHT_STATE
from tests.control.test_safety_properties import _map

T0 = 1000.0


#: (controller pick, stage pick, seconds run, intent offset s or None, horizon s, deterministic)
PRED = hs.tuples(
    hs.integers(0, 60),
    hs.integers(0, 9),
    hs.floats(0.0, 200.0),
    hs.one_of(hs.none(), hs.floats(-10.0, 90.0)),
    hs.floats(10.0, 200.0),
    hs.booleans(),
)


def _prediction(
    net: RoadNetwork, plans: list[ControllerPlan], spec: tuple[int, int, float, float | None, float, bool]
) -> Prediction:
    ti, pick, run, intent, horizon, det = spec
    plan = plans[ti % len(plans)]
    p = int(net.tls_active_program[plan.tls])
    m = SignalMachine.start(plan, p, pick % plan.program(p).n_phases, T0)
    now = T0 + run
    m.advance(now)
    return predict(m, now, intent_end=None if intent is None else now + intent, horizon_s=horizon, deterministic=det)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=hs.sampled_from(["grid", "corridor", "pasubio"]),
    specs=hs.lists(PRED, min_size=1, max_size=6),
    rows=hs.lists(hs.tuples(hs.integers(0, 100), hs.integers(0, 100)), min_size=0, max_size=40),
)
def test_link_windows_many_equals_one_link_at_a_time(
    name: str, specs: list[tuple[int, int, float, float | None, float, bool]], rows: list[tuple[int, int]]
) -> None:
    net, plans, _ = _map(name)
    preds = [_prediction(net, plans, s) for s in specs]
    which = np.array([a % len(preds) for a, _ in rows], dtype=np.int64)
    links = np.array([b % preds[a % len(preds)].plan.n_links for a, b in rows], dtype=np.int64)
    got = link_windows_many(preds, which, links)
    for i in range(len(rows)):
        want = preds[int(which[i])].link_windows(links[i : i + 1])
        for g, w in zip(got, want, strict=True):
            assert g.shape[1] == WINDOWS
            np.testing.assert_array_equal(g[i], w[0])


def reference_advise(
    d: float, v_max: float, start: list[float], end: list[float], v_min: float, margin: float, qd: float
) -> tuple[float, float, int]:
    """One vehicle: (advised speed, slowest feasible, window) of the first reachable window; NaN, NaN, -1 none."""
    for w, (s, e) in enumerate(zip(start, end, strict=True)):
        if not (math.isfinite(s) and math.isfinite(e)):
            continue
        t_lo = (0.0 if s <= 0 else s + margin) + qd
        t_hi = e - margin
        if not t_hi > t_lo:
            continue
        hi = d / t_lo if t_lo > 0 else math.inf
        lo = d / t_hi if t_hi > 0 else math.inf
        lo_c, hi_c = max(lo, v_min), min(hi, v_max)
        if lo_c <= hi_c:
            return hi_c, lo_c, w
    return math.nan, math.nan, -1


WINDOW = hs.one_of(
    hs.just((math.nan, math.nan)),
    hs.tuples(hs.floats(-30.0, 150.0, allow_subnormal=False), hs.floats(0.0, 60.0, allow_subnormal=False)),
)
VEHICLE = hs.tuples(
    hs.floats(1.0, 300.0),
    hs.floats(5.0, 20.0),
    hs.lists(WINDOW, min_size=3, max_size=3),
    hs.floats(0.0, 30.0, allow_subnormal=False),
)


@settings(max_examples=200, deadline=None)
@given(
    vehicles=hs.lists(VEHICLE, min_size=1, max_size=30),
    v_min=hs.floats(0.5, 8.0),
    margin=hs.floats(0.0, 3.0, allow_subnormal=False),
)
def test_advise_equals_the_scalar_reference(
    vehicles: list[tuple[float, float, list[tuple[float, float]], float]], v_min: float, margin: float
) -> None:
    dist = np.array([v[0] for v in vehicles])
    vmax = np.array([v[1] for v in vehicles])
    start = np.array([[s for s, _ in v[2]] for v in vehicles])
    end = start + np.array([[g for _, g in v[2]] for v in vehicles])
    qd = np.array([v[3] for v in vehicles])
    res = advise(dist, np.zeros(len(dist)), vmax, start, end, v_min=v_min, margin=margin, queue_delay=qd)
    for i in range(len(vehicles)):
        speed, lo, w = reference_advise(
            float(dist[i]), float(vmax[i]), start[i].tolist(), end[i].tolist(), v_min, margin, float(qd[i])
        )
        assert int(res.window[i]) == w
        np.testing.assert_array_equal([res.speed[i], res.v_lo[i], res.v_hi[i]], [speed, lo, speed])


def reference_group_changes(pred: Prediction) -> tuple[np.ndarray, ...]:
    """Per group: id, light state, next change min / likely / max, from the (N+1, K) classes directly."""
    gids, first = np.unique(pred.plan.groups, return_index=True)
    kl = pred.klass[:, first]
    run = np.cumprod(kl == kl[0][None, :], axis=0).astype(np.bool_)
    last = run.sum(axis=0) - 1
    state = np.array([LIGHT_STATE.get(pred.chars[0][int(k)], 0) for k in first], dtype=np.int64)
    return gids, state, pred.end_min[last], pred.end_likely[last], pred.end_max[last]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=hs.sampled_from(["grid", "corridor", "pasubio"]),
    spec=PRED,
    shown=hs.lists(hs.tuples(hs.integers(0, 200), hs.sampled_from("ryYgGsuoO")), max_size=6),
)
def test_group_changes_equal_the_direct_computation(
    name: str, spec: tuple[int, int, float, float | None, float, bool], shown: list[tuple[int, str]]
) -> None:
    net, plans, _ = _map(name)
    pred = _prediction(net, plans, spec)
    # the field may show a state that is not the phase's own (a transition it synthesised)
    chars = list(pred.chars[0])
    for k, c in shown:
        chars[k % len(chars)] = c
    pred = dataclasses.replace(pred, chars=["".join(chars), *pred.chars[1:]])
    assert st.klass(pred.chars[0]).shape == (pred.plan.n_links,)
    for got, want in zip(pred.group_changes(), reference_group_changes(pred), strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(pred.group_changes(), reference_group_changes(pred), strict=True):  # from the memo
        np.testing.assert_array_equal(got, want)
