"""SPaT prediction: for every signal group, when its light changes next (min / likely / max).

The prediction walks a controller's program forward from the tracked state: the current stage
ends between its safety window's bounds, most likely when the active strategy intends (fixed
time: exactly; actuated or max-pressure: the intended end, which moves as traffic does); a later
stage takes its effective min .. max, most likely its mean realised duration (history), and a
fixed phase its programmed duration. A group's next change is the first phase boundary where its
light class changes; confidence falls with the spread between min and max relative to the
likely wait. Green windows per link (start / end, likely and bounds) feed GLOSA and TSP.

:func:`spat_message` builds the ``pb.Spat`` the cloud publishes on ``tsc/{id}/spat`` and, per
RSU, on ``rsu/{rsu_id}/spat/down`` (:func:`rsu_topics`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from control import states as st
from control.machine import SignalMachine
from control.plan import ControllerPlan
from proto import pb, topic
from roadnet.signals import LIGHT_STATE

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: most phase boundaries a prediction walks
MAX_STEPS = 96
#: green windows kept per link
WINDOWS = 3


@dataclass(frozen=True)
class Prediction:
    """The next N+1 displayed phases of one controller and when each ends (absolute s).

    Attributes
    ----------
    phases
        (N+1,) program phase index, the current one first.
    chars
        N+1 state strings.
    end_min, end_likely, end_max
        (N+1,) s.
    """

    plan: ControllerPlan
    program: int
    now: float
    phases: I64
    chars: list[str]
    end_min: F64
    end_likely: F64
    end_max: F64

    @cached_property
    def klass(self) -> npt.NDArray[np.int8]:
        """(N+1, K) link class per predicted phase: 2 green, 1 amber, 0 red."""
        pp = self.plan.program(self.program)
        out = np.empty((len(self.phases), self.plan.n_links), dtype=np.int8)
        out[0] = st.klass(self.chars[0])
        out[1:] = pp.klass[self.phases[1:]]
        return out

    @property
    def green(self) -> B:
        """(N+1, K) greenish links per predicted phase."""
        out: B = self.klass == 2
        return out

    def group_changes(self) -> tuple[I64, I64, F64, F64, F64]:
        """Per signal group (G,): group id, light state, next change min / likely / max (s)."""
        gids, phase_kl = _group_terms(self.plan, self.program)
        shown, state = _shown_groups(self.plan, self.chars[0])
        # (N, G) does each later phase show the group's current class; the change ends the
        # first run of phases that do
        differs = phase_kl[self.phases[1:]] != shown[None, :]
        # index of the last phase of the leading run: its end is the change
        last = np.where(differs.any(axis=0), differs.argmax(axis=0), len(self.phases) - 1)
        return gids, state, self.end_min[last], self.end_likely[last], self.end_max[last]

    @cached_property
    def _windows(self) -> tuple[F64, F64, F64, F64, F64]:
        """(K, W) start_likely, end_likely, start_max, end_min, end_max of every link's next W green windows."""
        g = self.green
        p, k = g.shape
        prev = np.zeros_like(g)
        prev[1:] = g[:-1]
        nxt = np.zeros_like(g)
        nxt[:-1] = g[1:]
        before_like = np.empty(p)
        before_like[0] = self.now
        before_like[1:] = self.end_likely[:-1]
        before_max = np.empty(p)
        before_max[0] = self.now
        before_max[1:] = self.end_max[:-1]
        out = [np.full((k, WINDOWS), np.nan) for _ in range(5)]
        for mask, cols in (
            ((g & ~prev), ((0, before_like), (2, before_max))),
            ((g & ~nxt), ((1, self.end_likely), (3, self.end_min), (4, self.end_max))),
        ):
            rank = np.cumsum(mask, axis=0) - 1
            ii, kk = np.nonzero(mask & (rank < WINDOWS))
            for c, src in cols:
                out[c][kk, rank[ii, kk]] = src[ii]
        # a window needs both ends: a start whose end lies beyond the prediction is dropped
        both = np.isfinite(out[0]) & np.isfinite(out[1])
        for a in out:
            a[~both] = np.nan
        return out[0], out[1], out[2], out[3], out[4]

    def windows(self, link: int, n: int = 3) -> tuple[F64, F64, F64, F64]:
        """The next ``n`` (<= 3) green windows of one link: (start_likely, end_likely, start_max, end_min), (n,) s.

        A window already open starts at ``now``; missing windows are NaN. ``start_max`` and
        ``end_min`` bound the part of the window that is green under any timing in the window.
        """
        w = self._windows
        return w[0][link, :n], w[1][link, :n], w[2][link, :n], w[3][link, :n]

    def link_windows(self, links: I64) -> tuple[F64, F64, F64]:
        """(len(links), W) likely start, likely end and latest end of the next green windows of many links, s."""
        w = self._windows
        return w[0][links], w[1][links], w[4][links]


def _groups(plan: ControllerPlan) -> tuple[I64, I64]:
    """Signal group ids (G,) and each group's first link (G,) (memoised; SPaT reports a group by it)."""
    return plan.memoised(("spat.groups",), lambda: np.unique(plan.groups, return_index=True))


def _group_terms(plan: ControllerPlan, program: int) -> tuple[I64, npt.NDArray[np.int8]]:
    """Signal group ids (G,) and the (H, G) class of each group's first link per phase of ``program`` (memoised)."""

    def build() -> tuple[I64, npt.NDArray[np.int8]]:
        gids, first = _groups(plan)
        return gids, plan.program(program).klass[:, first]

    return plan.memoised(("spat.phase_groups", program), build)


def _shown_groups(plan: ControllerPlan, chars: str) -> tuple[npt.NDArray[np.int8], I64]:
    """(G,) class and SPaT light state of each group's first link in the displayed ``chars`` (memoised)."""

    def build() -> tuple[npt.NDArray[np.int8], I64]:
        _, first = _groups(plan)
        ch = [chars[int(k)] for k in first]
        return st.klass(chars)[first], np.array([LIGHT_STATE.get(c, 0) for c in ch], dtype=np.int64)

    return plan.memoised(("spat.shown", chars), build)


def link_windows_many(preds: Sequence[Prediction], which: I64, links: I64) -> tuple[F64, F64, F64]:
    """Likely start, likely end and latest end of the next W green windows of N (prediction, link) pairs, s.

    Row ``i`` equals ``preds[which[i]].link_windows(links[i:i + 1])`` (row 0 of each): each
    prediction's rows are gathered from its cached all-link windows (one array step per
    controller; faster than padding every prediction's green masks into one block and ranking
    the windows again, and the window rule has one home, :attr:`Prediction._windows`).

    Parameters
    ----------
    preds
        M predictions.
    which
        (N,) index into ``preds`` of each row.
    links
        (N,) link index of each row (within its prediction's controller).

    Returns
    -------
    start_likely, end_likely, end_max
        (N, W) absolute s; a window already open starts at its prediction's ``now``; NaN pads.
    """
    n = len(which)
    out = [np.full((n, WINDOWS), np.nan) for _ in range(3)]
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(len(preds) + 1))
    for i, p in enumerate(preds):
        rows = order[bounds[i] : bounds[i + 1]]
        if len(rows):
            for o, w in zip(out, p.link_windows(links[rows]), strict=True):
                o[rows] = w
    return out[0], out[1], out[2]


def predict(
    m: SignalMachine,
    now: float,
    *,
    intent_end: float | None = None,
    expected: dict[tuple[int, int], float] | None = None,
    horizon_s: float = 150.0,
    window: tuple[float, float] | None = None,
    deterministic: bool = False,
) -> Prediction:
    """Predict one controller's phases from its tracked state.

    Parameters
    ----------
    m
        The tracked controller state.
    now
        s since the epoch.
    intent_end
        When the strategy means to end the current stage (None: the tracked planned end).
    expected
        Mean realised duration by (program, phase), s (None: programmed durations).
    horizon_s
        Predict at least this far ahead, s.
    window
        (earliest, latest) end of the current stage (the safety layer's window); None: from
        the phase's effective min/max.
    deterministic
        The strategy times every stage exactly (fixed time, the map's own program): min, likely
        and max coincide (``expected`` then gives the planned durations).
    """
    plan = m.plan
    pp = plan.program(m.program)
    h = m.phase
    if window is not None:
        lo, hi = window
    else:
        lo = max(now, m.phase_start + float(pp.eff_min[h]))
        hi = max(lo, m.phase_start + float(pp.eff_max[h]))
    planned = m.phase_end if math.isfinite(m.phase_end) else hi
    like = intent_end if intent_end is not None and math.isfinite(intent_end) else planned
    if pp.flexible[h] and deterministic:
        e_min = e_like = e_max = min(max(like, lo), hi)
    elif pp.flexible[h]:
        e_min, e_like, e_max = lo, min(max(like, lo), hi), hi
    else:
        e = max(planned, now)
        e_min = e_like = e_max = e
    phases = [h]
    mins, likes, maxs = [e_min], [e_like], [e_max]
    j = h
    for _ in range(MAX_STEPS):
        if likes[-1] >= now + horizon_s and len(phases) > pp.n_phases:
            break
        j = (j + 1) % pp.n_phases
        dmin, dmax = float(pp.eff_min[j]), float(pp.eff_max[j])
        if pp.flexible[j]:
            dl = float(pp.duration[j]) if expected is None else expected.get((pp.index, j), float(pp.duration[j]))
            dl = min(max(dl, dmin), dmax)
            if deterministic:
                dmin = dmax = dl
        else:
            dmin = dmax = dl = float(pp.duration[j])
        phases.append(j)
        mins.append(mins[-1] + dmin)
        likes.append(likes[-1] + dl)
        maxs.append(maxs[-1] + dmax)
    chars = [m.chars] + [pp.states[int(x)] for x in phases[1:]]
    return Prediction(
        plan=plan,
        program=pp.index,
        now=now,
        phases=np.array(phases, dtype=np.int64),
        chars=chars,
        end_min=np.array(mins),
        end_likely=np.array(likes),
        end_max=np.array(maxs),
    )


def confidence_pct(now: float, lo: F64, like: F64, hi: F64) -> npt.NDArray[np.int64]:
    """(G,) confidence in the likely change time: 100 when fixed, falling with the min-max spread."""
    spread = np.maximum(hi - lo, 0.0)
    wait = np.maximum(like - now, 1.0)
    c = 100.0 / (1.0 + spread / wait)
    return np.clip(np.rint(c), 1, 100).astype(np.int64)


def spat_message(pred: Prediction, mode: int = pb.CONTROL_MODE_CLOUD) -> pb.Spat:
    """The ``pb.Spat`` of one prediction (times as ns since the epoch)."""
    plan = pred.plan
    pp = plan.program(pred.program)
    gids, state, lo, like, hi = pred.group_changes()
    conf = confidence_pct(pred.now, lo, like, hi)
    msg = pb.Spat(
        junction_id=plan.tls_id,
        timestamp_ns=round(pred.now * 1e9),
        program_id=pp.program_id,
        phase_index=int(pred.phases[0]),
        mode=mode,  # type: ignore[arg-type]
        link_state=pred.chars[0],
    )
    for g, s, a, b, c, k in zip(
        gids.tolist(), state.tolist(), lo.tolist(), like.tolist(), hi.tolist(), conf.tolist(), strict=True
    ):
        msg.groups.add(
            group_id=int(g),
            state=s,
            min_end_ns=round(a * 1e9),
            likely_end_ns=round(b * 1e9),
            max_end_ns=round(max(c, b) * 1e9),
            confidence_pct=int(k),
        )
    return msg


def rsu_topics(tls_id: str, rsu_ids: list[str]) -> list[str]:
    """Topics a controller's predicted SPaT goes out on: ``rsu/{id}/spat/down`` for each RSU near it."""
    return [topic("rsu", r, "spat", "down") for r in rsu_ids]
