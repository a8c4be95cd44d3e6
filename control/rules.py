"""The signal safety rules, checked on one change of displayed state (vectorised over links).

Rules (names as reported in :class:`Violation`):

``conflict``
    two foes green together, unless the map's programs run them together *and* one of them is a
    permissive green that gives way to the other;
``no-amber``
    a drive green (``g``/``G``) that ends without amber;
``amber-to-green``
    an amber link that turns green again (unless a program of the map does so for that link);
``amber``
    an amber shorter than the link's ``amber_req``;
``min-green``
    a drive green that ends before the link's ``min_green_req``;
``min-red``
    a link that turned red turning green again before its ``min_red_req``;
``clearance``
    a link turning green while a foe is amber or has been red for less than ``clear_req``;
``phase-min``
    a program phase that ends before its effective minimum duration;
``max-red``
    a red run longer than the link's ``max_red_req``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from control import states as st
from control.machine import Transition
from control.plan import ControllerPlan

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

EPS = 1e-3


@dataclass(frozen=True)
class Violation:
    """One broken rule: when, which rule, which links and how much time was missing (s)."""

    t: float
    rule: str
    links: tuple[int, ...]
    missing_s: float = 0.0

    def describe(self) -> str:
        """A one-line human reason."""
        lk = ",".join(str(k) for k in self.links[:6])
        extra = f", {self.missing_s:.1f} s short" if self.missing_s > 0 else ""
        return f"{self.rule} on link(s) {lk}{extra}"


@dataclass(frozen=True)
class _Pair:
    """What one change of displayed state (prev -> chars) implies for a plan, whatever the times.

    Index arrays are link indices (ascending); the per-link requirement vectors restricted to them
    are taken once so a transition is checked with a few small vector operations.
    """

    conflict: tuple[int, ...]  #: links of foe pairs green together in ``chars`` (empty: none)
    no_amber: tuple[int, ...]
    amber_to_green: tuple[int, ...]
    amber_end: npt.NDArray[np.intp]  #: amber -> red
    amber_req: F64
    green_end: npt.NDArray[np.intp]  #: drive green -> amber
    min_green_req: F64
    red_end: npt.NDArray[np.intp]  #: red (not amber) -> green
    min_red_req: F64
    timed: npt.NDArray[np.intp]  #: the three above together (one test for "every timer served")
    timed_req: F64
    new_green: B  #: (K,) links turning green (red runs end here)
    clear_rows: B  #: (K,) new greens with a foe that is amber now (a clearance break whatever the times)
    clear_any: bool  #: clear_rows.any()
    clear_k: npt.NDArray[np.intp]  #: (P,) new green of each foe pair that must have been red long enough
    clear_b: npt.NDArray[np.intp]  #: (P,) its foe
    clear_red: B  #: (P,) the foe was red (not green, not amber) before and stays red: its red time counts
    clear_req: F64  #: (P,) s


def _pair(plan: ControllerPlan, prev: str, chars: str) -> _Pair:
    """The time-free part of the rules for one state change (memoised per plan)."""
    return plan.memoised(("rules.pair", prev, chars), lambda: _build_pair(plan, prev, chars))


def _build_pair(plan: ControllerPlan, prev: str, chars: str) -> _Pair:
    pc, nc = st.codes(prev), st.codes(chars)
    bad = _state_conflicts(plan, nc)
    conflict: tuple[int, ...] = ()
    if bad.any():
        a, b = np.nonzero(bad)
        conflict = tuple(int(x) for x in np.unique(np.r_[a, b]))
    p_drive, p_amber, p_green = st.DRIVE[pc], st.AMBER[pc], st.GREENISH[pc]
    n_amber, n_green = st.AMBER[nc], st.GREENISH[nc]
    n_red = ~n_amber & ~n_green
    amber_end = np.flatnonzero(p_amber & n_red)
    green_end = np.flatnonzero(p_drive & n_amber)
    new_green = n_green & ~p_green
    red_end = np.flatnonzero(new_green & ~p_amber)
    # each foe b of a new green k: green now (state rule covers it) or red long enough;
    # a permissive new green gives way to its foe's traffic whatever that foe shows
    gives_way = st.PERMISSIVE[nc][:, None] & plan.yields
    foe = plan.foes & new_green[:, None] & ~n_green[None, :] & ~gives_way
    amber_foe = foe & n_amber[None, :]
    ck, cb = np.nonzero(foe & ~amber_foe)
    return _Pair(
        conflict=conflict,
        no_amber=tuple(int(k) for k in np.flatnonzero(p_drive & n_red)),
        amber_to_green=tuple(int(k) for k in np.flatnonzero(p_amber & n_green & ~plan.amber_to_green_ok)),
        amber_end=amber_end,
        amber_req=plan.amber_req[amber_end],
        green_end=green_end,
        min_green_req=plan.min_green_req[green_end],
        red_end=red_end,
        min_red_req=plan.min_red_req[red_end],
        timed=np.concatenate([amber_end, green_end, red_end]),
        timed_req=np.concatenate([plan.amber_req[amber_end], plan.min_green_req[green_end], plan.min_red_req[red_end]]),
        new_green=new_green,
        clear_rows=np.asarray(amber_foe.any(axis=1), dtype=np.bool_),
        clear_any=bool(amber_foe.any()),
        clear_k=ck,
        clear_b=cb,
        clear_red=(~p_green & ~p_amber & n_red)[cb],
        clear_req=plan.clear_req[ck, cb],
    )


def _state_conflicts(plan: ControllerPlan, c: npt.NDArray[np.uint8]) -> B:
    g, perm = st.GREENISH[c], st.PERMISSIVE[c]
    both = plan.foes & g[:, None] & g[None, :]
    gives_way = (perm[:, None] & plan.yields) | (perm[None, :] & plan.yields.T)
    ok = plan.permitted & gives_way
    out: B = np.triu(both & ~ok, 1)
    return out


def state_conflicts(plan: ControllerPlan, chars: str) -> B:
    """(K, K) upper-triangular mask of foe pairs green together that the rules forbid."""
    return _state_conflicts(plan, st.codes(chars))


def _short(t: float, since: F64, idx: npt.NDArray[np.intp], req: F64) -> tuple[tuple[int, ...], float] | None:
    """Links of ``idx`` whose class ran shorter than ``req`` (s) before ``t``, and the most missing (s)."""
    if len(idx) == 0:
        return None
    elapsed = t - since[idx]
    short = elapsed < req - EPS
    if not short.any():
        return None
    return tuple(int(k) for k in idx[short]), float((req - elapsed)[short].max())


def transition_violations(plan: ControllerPlan, tr: Transition) -> list[Violation]:
    """Every rule broken by one change of displayed state (``max-red`` aside).

    The time-free part (which links change how, the conflicts of the new state) is memoised per
    (previous, next) state on the plan; only the timers are computed per call.
    """
    out: list[Violation] = []
    t = tr.t
    pr = _pair(plan, tr.prev, tr.chars)
    if pr.conflict:
        out.append(Violation(t, "conflict", pr.conflict))
    if pr.no_amber:
        out.append(Violation(t, "no-amber", pr.no_amber))
    if pr.amber_to_green:
        out.append(Violation(t, "amber-to-green", pr.amber_to_green))
    if len(pr.timed) and (t - tr.since[pr.timed] < pr.timed_req - EPS).any():
        for rule, idx, req in (
            ("amber", pr.amber_end, pr.amber_req),
            ("min-green", pr.green_end, pr.min_green_req),
            ("min-red", pr.red_end, pr.min_red_req),
        ):
            hit = _short(t, tr.since, idx, req)
            if hit is not None:
                out.append(Violation(t, rule, hit[0], hit[1]))
    if len(pr.clear_k) or pr.clear_any:
        red_for = np.where(pr.clear_red, t - tr.since[pr.clear_b], 0.0)
        short = red_for < pr.clear_req - EPS
        if pr.clear_any or short.any():
            miss = float((pr.clear_req - red_for)[short].max()) if short.any() else 0.0
            rows = pr.clear_rows.copy()
            rows[pr.clear_k[short]] = True
            out.append(Violation(t, "clearance", tuple(int(k) for k in np.flatnonzero(rows)), miss))
    if tr.ended is not None:
        p, h, start = tr.ended
        pp = plan.programs.get(p)
        if pp is not None and t - start < float(pp.eff_min[h]) - EPS:
            out.append(Violation(t, "phase-min", (), float(pp.eff_min[h]) - (t - start)))
    return out


def red_runs(
    plan: ControllerPlan, log: list[Transition], t_end: float, chars: str, since: F64, wait: F64 | None = None
) -> F64:
    """(K,) longest red (not green) run of each link over a log, s.

    A run still open at ``t_end`` counts up to ``t_end`` plus ``wait`` (K,), the least time the
    link still has to wait for green (0 when not given).
    """
    best = np.zeros(plan.n_links)
    for tr in log:
        # a red run is measured from the end of the link's last green (its amber counts as red here)
        run = np.where(_pair(plan, tr.prev, tr.chars).new_green, tr.t - tr.since, 0.0)
        best = np.maximum(best, run)
    open_red = ~st.GREENISH[st.codes(chars)]
    extra = 0.0 if wait is None else wait
    return np.maximum(best, np.where(open_red, t_end - since + extra, 0.0))
