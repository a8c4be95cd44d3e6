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


def state_conflicts(plan: ControllerPlan, chars: str) -> B:
    """(K, K) upper-triangular mask of foe pairs green together that the rules forbid."""
    c = st.codes(chars)
    g, perm = st.GREENISH[c], st.PERMISSIVE[c]
    both = plan.foes & g[:, None] & g[None, :]
    gives_way = (perm[:, None] & plan.yields) | (perm[None, :] & plan.yields.T)
    ok = plan.permitted & gives_way
    out: B = np.triu(both & ~ok, 1)
    return out


def transition_violations(plan: ControllerPlan, tr: Transition) -> list[Violation]:
    """Every rule broken by one change of displayed state (``max-red`` aside)."""
    out: list[Violation] = []
    t = tr.t
    pc, nc = st.codes(tr.prev), st.codes(tr.chars)
    bad = state_conflicts(plan, tr.chars)
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
        # each foe b of a new green k: green now (state rule covers it) or red long enough
        # a permissive new green gives way to its foe's traffic whatever that foe shows
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


def red_runs(
    plan: ControllerPlan, log: list[Transition], t_end: float, chars: str, since: F64, wait: F64 | None = None
) -> F64:
    """(K,) longest red (not green) run of each link over a log, s.

    A run still open at ``t_end`` counts up to ``t_end`` plus ``wait`` (K,), the least time the
    link still has to wait for green (0 when not given).
    """
    best = np.zeros(plan.n_links)
    for tr in log:
        pc, nc = st.codes(tr.prev), st.codes(tr.chars)
        ends = ~st.GREENISH[pc] & st.GREENISH[nc]
        # a red run is measured from the end of the link's last green (its amber counts as red here)
        run = np.where(ends, tr.t - tr.since, 0.0)
        best = np.maximum(best, run)
    open_red = ~st.GREENISH[st.codes(chars)]
    extra = 0.0 if wait is None else wait
    return np.maximum(best, np.where(open_red, t_end - since + extra, 0.0))
