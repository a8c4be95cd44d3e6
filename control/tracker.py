"""The controller state the cloud tracks from SPaT, as :class:`SignalMachine` snapshots.

Every SPaT gives program, phase index, displayed link states and per-group end times. The
tracker keeps, per controller, when each link's class last changed (at SPaT resolution: the
first SPaT showing a change, i.e. never earlier than the truth, which is the conservative side
for minimum greens and clearances), when the phase started, the phase's planned end (from the
groups' likely end times) and the realised duration of every phase (for prediction).

A controller the cloud has not heard from has no state; one showing all red where its phase is
not all red is *holding* (an ALL_RED command; a RELEASE is then previewed like any command); one
showing any other state that is not its phase's state (a transition the field synthesised) is
marked ``uncertain`` and the safety layer refuses every command for it until it shows a
stage (or a hold) again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from control import states as st
from control.machine import SignalMachine
from control.plan import ControllerPlan
from proto import pb

F64 = npt.NDArray[np.float64]

#: weight of a new realised phase duration in the running mean
HISTORY_ALPHA = 0.3


@dataclass
class Tracked:
    """What the cloud knows of one controller."""

    machine: SignalMachine
    mode: int = pb.CONTROL_MODE_UNKNOWN
    last_seen: float = -math.inf
    uncertain: bool = False
    #: running mean of realised durations, by (program, phase)
    history: dict[tuple[int, int], float] = field(default_factory=dict)
    #: the last state SPaT showed and, per link, when SPaT first showed its class (s); the
    #: machine's own values may run ahead of them between two SPaTs (commands just accepted)
    seen_chars: str = ""
    seen_since: F64 = field(default_factory=lambda: np.zeros(0))


def spats_of(spat: Mapping[str, pb.Spat] | Iterable[pb.Spat]) -> list[pb.Spat]:
    """SPaT messages as a list, from a mapping by controller id or any iterable."""
    if isinstance(spat, Mapping):
        return list(spat.values())
    return list(spat)


class SignalTracker:
    """Tracks every controller of a map from its SPaT.

    Parameters
    ----------
    plans
        The controller plans, in controller order.
    """

    def __init__(self, plans: list[ControllerPlan]) -> None:
        self.plans = plans
        self.index = {p.tls_id: i for i, p in enumerate(plans)}
        self.tracked: list[Tracked | None] = [None] * len(plans)
        self.bad: dict[str, int] = {}
        self._offsets: dict[tuple[int, int, int], tuple[list[int], list[float]]] = {}

    def _bad(self, why: str) -> None:
        self.bad[why] = self.bad.get(why, 0) + 1

    def update(self, spats: Mapping[str, pb.Spat] | Iterable[pb.Spat], now: float) -> None:
        """Take this tick's SPaT messages (times in s since the epoch)."""
        for s in spats_of(spats):
            t = self.index.get(s.junction_id)
            if t is None:
                self._bad("unknown controller")
                continue
            plan = self.plans[t]
            pp = plan.program_by_id(s.program_id)
            if pp is None:
                self._bad("unknown program")
                continue
            h = int(s.phase_index)
            if not 0 <= h < pp.n_phases:
                self._bad("phase out of range")
                continue
            ts = s.timestamp_ns / 1e9 if s.timestamp_ns else now
            chars = s.link_state or pp.states[h]
            if len(chars) != plan.n_links:
                self._bad("link state length")
                continue
            tr = self.tracked[t]
            if tr is None:
                m = SignalMachine.start(plan, pp.index, h, ts)
                m.chars = chars
                tr = self.tracked[t] = Tracked(machine=m, seen_chars=chars, seen_since=m.since.copy())
            m = tr.machine
            if ts < tr.last_seen:
                self._bad("out of order")
                continue
            if chars != tr.seen_chars:
                changed = st.class_changed(tr.seen_chars, chars)
                tr.seen_since[changed] = ts
                tr.seen_chars = chars
            m.chars = chars
            m.since = tr.seen_since.copy()
            if (pp.index, h) != (m.program, m.phase):
                if tr.last_seen > -math.inf:
                    key = (m.program, m.phase)
                    d = ts - m.phase_start
                    old = tr.history.get(key)
                    tr.history[key] = d if old is None else (1 - HISTORY_ALPHA) * old + HISTORY_ALPHA * d
                m.program, m.phase, m.phase_start = pp.index, h, ts
            # an all-red the program does not show is a hold (an ALL_RED command); any other
            # state that is not the phase's own is a transition the cloud does not model
            all_red = not (st.GREENISH[st.codes(chars)].any() or st.AMBER[st.codes(chars)].any())
            holding = all_red and chars != pp.states[h]
            m.hold_until = math.inf if holding else None
            m.segments, m.target = [], None
            tr.uncertain = m.uncertain = chars != pp.states[h] and not holding
            # the field still shows the phase: it ends after this SPaT, whatever was planned
            m.phase_end = max(self._planned_end(t, pp.index, h, s, m), ts + 1e-3)
            m.now = ts
            m.mode = int(s.mode)
            tr.mode = int(s.mode)
            tr.last_seen = ts

    def _change_offsets(self, t: int, p: int, h: int) -> tuple[list[int], list[float]]:
        """Groups whose light changes first after phase ``h`` ends, and how long after its end (s)."""
        key = (t, p, h)
        hit = self._offsets.get(key)
        if hit is not None:
            return hit
        plan = self.plans[t]
        pp = plan.program(p)
        n = pp.n_phases
        # a group's light is its first link's (as SPaT reports it)
        group_ids, first = np.unique(plan.groups, return_index=True)
        cur = pp.klass[h][first]
        gids: list[int] = []
        offs: list[float] = []
        offset = 0.0
        seen = np.zeros(len(first), dtype=np.bool_)
        for i in range(1, n):
            j = (h + i) % n
            diff = (pp.klass[j][first] != cur) & ~seen
            for g in group_ids[diff].tolist():
                gids.append(int(g))
                offs.append(offset)
            seen |= diff
            offset += float(pp.duration[j])
        self._offsets[key] = (gids, offs)
        return gids, offs

    def _planned_end(self, t: int, p: int, h: int, s: pb.Spat, m: SignalMachine) -> float:
        """When the current phase is planned to end, from the groups' likely end times (s)."""
        best = math.inf
        if len(s.groups):
            likely = {g.group_id: g.likely_end_ns for g in s.groups}
            gids, offs = self._change_offsets(t, p, h)
            for g, off in zip(gids, offs, strict=True):
                ns = likely.get(g, 0)
                if ns:
                    best = min(best, ns / 1e9 - off)
        if not math.isfinite(best):
            best = m.phase_start + float(self.plans[t].program(p).duration[h])
        return best

    def machine(self, t: int) -> SignalMachine | None:
        """The tracked state of controller ``t`` (None before its first SPaT)."""
        tr = self.tracked[t]
        return None if tr is None else tr.machine

    def uncertain(self, t: int) -> bool:
        """True when controller ``t`` shows a state the cloud does not model (or is unknown)."""
        tr = self.tracked[t]
        return tr is None or tr.uncertain

    def expected_duration(self, t: int, p: int, h: int) -> float:
        """Realised mean duration of phase ``h`` of program ``p`` (programmed when unseen), s."""
        tr = self.tracked[t]
        if tr is not None and (p, h) in tr.history:
            return tr.history[(p, h)]
        return float(self.plans[t].program(p).duration[h])

    def note(self, t: int, cmd: pb.SignalCommand, now: float) -> None:
        """Take an accepted command into the tracked state at once (the next SPaT corrects it).

        A second command in the same tick is then judged on the state the first one leaves.
        """
        m = self.machine(t)
        if m is None:
            return
        m.apply(cmd, now)
