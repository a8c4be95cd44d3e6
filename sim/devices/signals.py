"""Virtual signal controllers: every controller of a map in one vectorised object.

Each controller runs its **local program** (the map's active program, fixed time: every phase
for its ``duration``; the cycle position at time 0 follows the program's ``offset`` as in SUMO),
publishes SPaT and accepts :class:`pb.SignalCommand` only within its own safety limits:

- a green is never cut below its phase's ``minDur``; a phase showing amber is never shortened;
- between greens the controller always runs amber and all-red: a forced transition goes through
  the clearance phases that follow the current green in the program (its continuation phases at
  their ``minDur``, its amber and all-red phases in full), or synthesises amber + all-red from the
  state strings (amber and all-red as long as the longest of the controller's programs, else
  3 s + 2 s) when the program has none that fit;
- a command whose target state would give protected greens to conflicting movements
  (:func:`roadnet.signals.phase_conflicts` with ``net.tls_conflicts``) is refused, as is an
  unknown controller, phase or program, a missing or past expiry, or a non-positive duration;
- holds and extensions are capped at the phase's ``maxDur`` and at a maximum red
  (``max_red`` s) for the links that wait;
- when a command's ``expires_ns`` passes (or on RELEASE) the controller reverts to its local
  program, completing any clearance already started.

Every command's outcome is recorded in :attr:`SignalControllers.results`; an accepted command
also shows as the SPaT ``mode`` (CLOUD, or OVERRIDE for ``source = "operator:..."``; FALLBACK
after an expiry until the next command, LOCAL_PLAN after RELEASE).

The per-tick work is array arithmetic over all controllers; Python runs only for the few
controllers that switch phase in a tick and for commands.

Times are simulated seconds since the start of the run; ``epoch_ns`` (ns since the Unix epoch
of simulated time 0) converts to and from the wire's absolute nanoseconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

from proto import pb
from roadnet.model import RoadNetwork
from roadnet.signals import AMBER, GREEN, LIGHT_STATE, phase_conflicts

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: Tolerance of phase-end comparisons, s (float sums of dt).
EPS: Final = 1e-6
#: Default amber and all-red when a controller's programs have none, s.
DEFAULT_AMBER: Final = 3.0
DEFAULT_ALL_RED: Final = 2.0
#: Default longest red a hold may impose on links that wait, s.
DEFAULT_MAX_RED: Final = 120.0

_KEEP_CHARS: Final = frozenset("oO")  # unsignalled links keep their char through transitions
_HOLD_KINDS: Final = frozenset({pb.COMMAND_KIND_HOLD_PHASE, pb.COMMAND_KIND_FORCE_PHASE, pb.COMMAND_KIND_ALL_RED})


@lru_cache(maxsize=4096)
def _masks(state: str) -> tuple[npt.NDArray[np.str_], B, B, B]:
    """(chars, green, amber, keep) of one state string, each (K,)."""
    chars = np.array(list(state), dtype="<U1")
    green = np.isin(chars, list(GREEN))
    amber = np.isin(chars, list(AMBER))
    keep = np.isin(chars, list(_KEEP_CHARS))
    for a in (chars, green, amber, keep):
        a.setflags(write=False)
    return chars, green, amber, keep


def _is_clearance(prev: str, cur: str) -> bool:
    """True when ``cur`` after ``prev`` turns no link green and shows amber or no green at all."""
    _, gp, _, _ = _masks(prev)
    _, gc, ac, _ = _masks(cur)
    new_green = bool((gc & ~gp).any()) if len(gp) == len(gc) else bool(gc.any())
    return not new_green and (bool(ac.any()) or not bool(gc.any()))


def _missing_amber(prev: str, cur: str) -> bool:
    """True when a link goes from a (non ``s``) green straight to red or red+amber."""
    cp, gp, _, _ = _masks(prev)
    cc, _, _, _ = _masks(cur)
    return bool((gp & (cp != "s") & np.isin(cc, ["r", "u"])).any())


@dataclass
class Step:
    """One displayed signal state of a controller's plan.

    ``dur`` is the planned duration (s; ``inf`` for a hold whose cap is fixed when it starts),
    ``min_dur``/``max_dur`` the safety bounds, ``phase`` the global phase index it shows
    (-1 when synthesised), ``clearance`` True for amber/all-red steps (never cut or dropped once
    committed), ``hold`` True while a command holds it.
    """

    state: str
    dur: float
    min_dur: float
    max_dur: float
    phase: int
    clearance: bool
    hold: bool = False


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one signal command."""

    t: float  #: simulated time it was applied, s
    command_id: str
    junction_id: str
    kind: str  #: CommandKind name
    accepted: bool
    reason: str  #: why refused, or a note (e.g. "capped at maxDur 60.0 s")
    source: str = ""


@dataclass
class _Program:
    """One program of a controller: phase indices and per-phase cached values."""

    index: int
    phases: list[int]
    ident: str


@dataclass
class _Controller:
    """Per-controller data that is not per-tick hot (programs, conflicts, groups)."""

    ident: str
    links: slice
    local_program: int
    programs: dict[int, _Program]
    foes: B
    yields: B
    green_links: B  # links green in some phase of some program
    group_ids: list[int]
    group_first: I64  # first link (controller-local) of each group
    amber: float  # synthesised amber, s
    all_red: float  # synthesised all-red, s
    queue: deque[Step] = field(default_factory=deque)
    command: pb.SignalCommand | None = None


def _runs(states: list[str], durs: list[float], want: str) -> list[float]:
    """Lengths (s) of maximal cyclic runs of per-link class ``want`` (``amber``/``allred``)."""
    if not states:
        return []
    k = len(states[0])
    n = len(states)
    if want == "amber":
        on = np.array([_masks(s)[2] for s in states])  # (n, K)
    else:  # all-red: no green and no amber anywhere in the phase, per phase (broadcast to K)
        flags = [not (_masks(s)[1].any() or _masks(s)[2].any()) for s in states]
        on = np.repeat(np.array(flags, dtype=np.bool_)[:, None], k, axis=1)
    d = np.asarray(durs, dtype=np.float64)
    out: list[float] = []
    for j in range(k):
        col = on[:, j]
        if col.all() or not col.any():
            continue
        start = int(np.flatnonzero(~col)[0])  # rotate so the cycle starts off-run
        acc = 0.0
        for i in range(1, n + 1):
            q = (start + i) % n
            if col[q]:
                acc += float(d[q])
            elif acc > 0.0:
                out.append(acc)
                acc = 0.0
        if acc > 0.0:
            out.append(acc)
    return out


class SignalControllers:
    """All signal controllers of a map; see the module docstring for the safety rules.

    Parameters
    ----------
    net
        The road network (T controllers, K links in all).
    epoch_ns
        Unix time of simulated time 0, ns.
    t0
        Simulated time the controllers start at, s.
    max_red
        Longest red a hold or an extension may impose on the links that wait, s.
    """

    def __init__(self, net: RoadNetwork, *, epoch_ns: int, t0: float = 0.0, max_red: float = DEFAULT_MAX_RED) -> None:
        self.net = net
        self.epoch_ns = int(epoch_ns)
        self.max_red = float(max_red)
        n = len(net.tls_ids)
        self.n = n
        #: flat per-link state for the engine, (K,) '<U1', indexed like ``net.link_group``
        self.link_state: npt.NDArray[np.str_] = np.full(int(net.tls_link_offsets[-1]), "O", dtype="<U1")
        #: simulated time each link last turned red, s, (K,)
        self.red_since: F64 = np.full(len(self.link_state), float(t0))
        self.now = float(t0)
        # per-controller hot arrays (T,)
        self.program: I64 = np.zeros(n, dtype=np.int64)
        self.phase: I64 = np.full(n, -1, dtype=np.int64)
        self.anchor: I64 = np.full(n, -1, dtype=np.int64)
        self.elapsed: F64 = np.zeros(n)
        self.end: F64 = np.zeros(n)
        self.min_dur: F64 = np.zeros(n)
        self.max_dur: F64 = np.zeros(n)
        self.clearance: B = np.zeros(n, dtype=np.bool_)
        self.hold: B = np.zeros(n, dtype=np.bool_)
        self.expiry: F64 = np.full(n, np.inf)
        self.mode: I64 = np.full(n, pb.CONTROL_MODE_LOCAL_PLAN, dtype=np.int64)
        self.state: list[str] = [""] * n
        #: outcome of every command applied, in order
        self.results: list[CommandResult] = []
        self._spat: list[pb.Spat | None] = [None] * n
        self._ctl: list[_Controller] = [self._controller(t) for t in range(n)]
        for t in range(n):
            self._start(t)

    # ------------------------------------------------------------------ set-up
    def _controller(self, t: int) -> _Controller:
        net = self.net
        a, b = int(net.tls_link_offsets[t]), int(net.tls_link_offsets[t + 1])
        progs: dict[int, _Program] = {}
        green_links = np.zeros(b - a, dtype=np.bool_)
        ambers: list[float] = []
        reds: list[float] = []
        for p in net.programs_of(t):
            hs = [h for h in net.phases(int(p)) if len(net.phase_state[h]) == b - a]
            if not hs:
                continue
            progs[int(p)] = _Program(int(p), hs, net.program_ids[int(p)])
            states = [net.phase_state[h] for h in hs]
            for s in states:
                green_links |= _masks(s)[1]
            durs = [float(net.phase_duration[h]) for h in hs]
            ambers += _runs(states, durs, "amber")
            reds += _runs(states, durs, "allred")
        local = int(net.tls_active_program[t]) if t < len(net.tls_active_program) else -1
        if local not in progs:
            local = min(progs) if progs else -1
        foes, yields = net.tls_conflicts(t) if b > a else (np.zeros((0, 0), bool), np.zeros((0, 0), bool))
        groups = net.link_group[a:b]
        gids, first = np.unique(groups, return_index=True)
        return _Controller(
            ident=net.tls_ids[t],
            links=slice(a, b),
            local_program=local,
            programs=progs,
            foes=foes,
            yields=yields,
            green_links=green_links,
            group_ids=[int(g) for g in gids],
            group_first=first.astype(np.int64),
            amber=max(ambers) if ambers else DEFAULT_AMBER,
            all_red=max(reds) if reds else DEFAULT_ALL_RED,
        )

    def _start(self, t: int) -> None:
        """Place controller ``t`` in its local program's cycle at ``self.now`` (SUMO offsets)."""
        c = self._ctl[t]
        if c.local_program < 0:
            self.program[t] = -1
            self.end[t] = np.inf
            self.state[t] = "O" * (c.links.stop - c.links.start)
            return
        prog = c.programs[c.local_program]
        self.program[t] = c.local_program
        durs = np.array([self.net.phase_duration[h] for h in prog.phases])
        cycle = float(durs.sum())
        pos = (self.now - float(self.net.program_offset[c.local_program])) % cycle if cycle > 0 else 0.0
        acc = np.cumsum(durs)
        i = int(np.searchsorted(acc, pos, side="right")) % len(prog.phases)
        into = pos - (float(acc[i - 1]) if i > 0 else 0.0)
        h = prog.phases[i]
        prev = self.net.phase_state[prog.phases[i - 1]]
        self._enter(t, self._program_step(h, prev), elapsed=into)

    # ------------------------------------------------------------------ program helpers
    def _program_step(self, h: int, prev: str, *, dur: float | None = None) -> Step:
        """The step showing program phase ``h`` after state ``prev``; ``dur`` overrides the duration."""
        net = self.net
        s = net.phase_state[h]
        has_amber = bool(_masks(s)[2].any())
        d = float(net.phase_duration[h])
        lo = d if has_amber else min(float(net.phase_min[h]), d)
        hi = d if has_amber else max(float(net.phase_max[h]), d)
        clear = _is_clearance(prev, s)
        if dur is not None and not has_amber and not clear:
            d = float(np.clip(dur, lo, hi))
        return Step(s, d, lo, hi, h, clear)

    def _prog_of(self, t: int, h: int) -> _Program | None:
        for p in self._ctl[t].programs.values():
            if h in p.phases:
                return p
        return None

    def _next_in(self, prog: _Program, h: int) -> int:
        i = prog.phases.index(h) if h in prog.phases else -1
        return prog.phases[(i + 1) % len(prog.phases)]

    def _next_green(self, prog: _Program, after: int) -> int:
        """The first phase of ``prog`` after phase ``after`` (cyclic) that turns links green."""
        hs = prog.phases
        i0 = hs.index(after) if after in hs else -1
        for k in range(1, len(hs) + 1):
            h = hs[(i0 + k) % len(hs)]
            prev = self.net.phase_state[hs[(i0 + k - 1) % len(hs)]]
            if _masks(self.net.phase_state[h])[1].any() and not _is_clearance(prev, self.net.phase_state[h]):
                return h
        return hs[(i0 + 1) % len(hs)]

    # ------------------------------------------------------------------ entering a step
    def _hold_cap(self, t: int, step: Step, start: float) -> float:
        """Longest duration (s from ``start``) a held ``step`` may last: maxDur and the max red."""
        c = self._ctl[t]
        chars, green, _, _ = _masks(step.state)
        waiting = ~green & c.green_links
        cap = step.max_dur
        if waiting.any():
            rs = self.red_since[c.links][waiting]
            # links that turn red with this step start their red now
            rs = np.where(chars[waiting] == "r", rs, start)
            cap = min(cap, float((rs + self.max_red).min() - start))
        return max(cap, step.min_dur)

    def _enter(self, t: int, step: Step, *, elapsed: float = 0.0) -> None:
        c = self._ctl[t]
        start = self.now - elapsed
        chars = _masks(step.state)[0]
        old = self.link_state[c.links]
        turned_red = (chars == "r") & (old != "r")
        self.red_since[c.links][turned_red] = self.now
        self.link_state[c.links] = chars
        if step.hold:
            step = replace(step, dur=self._hold_cap(t, step, start))
        self.state[t] = step.state
        self.phase[t] = step.phase
        if step.phase >= 0:
            self.anchor[t] = step.phase
            p = self._prog_of(t, step.phase)
            if p is not None:
                self.program[t] = p.index
        self.elapsed[t] = elapsed
        self.end[t] = step.dur
        self.min_dur[t] = step.min_dur
        self.max_dur[t] = step.max_dur if not step.hold else step.dur
        self.clearance[t] = step.clearance
        self.hold[t] = step.hold
        self._spat[t] = None

    def _advance_one(self, t: int) -> None:
        c = self._ctl[t]
        if c.queue:
            self._enter(t, c.queue.popleft())
            return
        h = int(self.phase[t])
        prog = self._prog_of(t, h) if h >= 0 else None
        if prog is not None:
            self._enter(t, self._program_step(self._next_in(prog, h), self.state[t]))
            return
        # a synthesised step with nothing queued (an all-red hold that ran out): back to the plan
        self._revert(t, fallback=self.mode[t] != pb.CONTROL_MODE_LOCAL_PLAN)
        if self.elapsed[t] >= self.end[t] - EPS and c.queue:
            self._enter(t, c.queue.popleft())

    # ------------------------------------------------------------------ ticking
    def advance(self, now: float) -> npt.NDArray[np.str_]:
        """Run every controller up to simulated time ``now`` and return the link states.

        Expired commands revert first; then every phase whose time is up switches (one switch
        per controller per call: call at least once per shortest phase).

        Returns
        -------
        numpy.ndarray
            (K,) ``'<U1'`` SUMO state characters, flat over controllers like
            ``net.link_group``; valid for the interval starting at ``now``. The array is
            updated in place by the next call.
        """
        self.elapsed += now - self.now
        self.now = float(now)
        for t in np.flatnonzero(self.expiry <= now + EPS).tolist():
            self._expire(t)
        for t in np.flatnonzero(self.elapsed >= self.end - EPS).tolist():
            self._advance_one(t)
        return self.link_state

    # ------------------------------------------------------------------ transitions
    def _committed(self, t: int) -> tuple[list[Step], str]:
        """Steps that must still run before a new plan: the started clearance and its tail.

        Returns the committed queued steps (after the current one) and the state the new plan
        starts from. A current green is set to end as soon as its minimum allows.
        """
        c = self._ctl[t]
        keep: list[Step] = []
        if self.clearance[t]:
            for s in c.queue:
                if not s.clearance:
                    break
                keep.append(s)
        else:
            # the current green ends as soon as its minimum allows
            self.end[t] = max(float(self.elapsed[t]), float(self.min_dur[t]))
            self.hold[t] = False
        last = keep[-1].state if keep else self.state[t]
        return keep, last

    def _program_clearance(self, t: int, h: int, x: str) -> list[Step] | None:
        """The clearance that follows green phase ``h`` in its program, from state ``x``.

        Continuation phases (no new green, no amber) at their ``minDur``, amber and all-red
        phases in full; ``None`` when a link would go from green to red without amber.
        """
        prog = self._prog_of(t, h)
        if prog is None:
            return None
        out: list[Step] = []
        prev, q = x, h
        for _ in range(len(prog.phases) - 1):
            q = self._next_in(prog, q)
            s = self.net.phase_state[q]
            if bool((_masks(s)[1] & ~_masks(prev)[1]).any()):
                break
            if _missing_amber(prev, s):
                return None
            step = self._program_step(q, prev)
            if not step.clearance:  # a continuation green: its minimum only
                step = replace(step, dur=step.min_dur, clearance=True)
            out.append(step)
            prev = s
        return out

    def _synth(self, t: int, x: str, target: str) -> list[Step]:
        """Amber + all-red (or all-red only, or nothing) between state ``x`` and ``target``."""
        c = self._ctl[t]
        cx, gx, ax, kx = _masks(x)
        ct = _masks(target)[0]
        keep = gx & (cx == ct)
        clear = gx & ~keep & (cx != "s")
        out: list[Step] = []
        if clear.any():
            amber = np.where(clear | ax, "y", np.where(keep | kx, cx, "r"))
            s_amb = "".join(amber.tolist())
            out.append(Step(s_amb, c.amber, c.amber, c.amber, -1, True))
            red = np.where(keep | kx, cx, "r")
            s_red = "".join(red.tolist())
            out.append(Step(s_red, c.all_red, c.all_red, c.all_red, -1, True))
        elif ax.any() or bool((gx & (cx == "s") & ~keep).any()):
            red = np.where(keep | kx, cx, "r")
            s_red = "".join(red.tolist())
            out.append(Step(s_red, c.all_red, c.all_red, c.all_red, -1, True))
        return out

    def _plan_to(self, t: int, target: Step) -> None:
        """Replace controller ``t``'s plan by a safe transition into ``target``."""
        c = self._ctl[t]
        keep, x = self._committed(t)
        steps: list[Step] = []
        if x == target.state:
            pass
        elif not keep and not self.clearance[t] and self.phase[t] >= 0:
            pc = self._program_clearance(t, int(self.phase[t]), x)
            if pc is not None:
                steps = pc
                x = pc[-1].state if pc else x
            steps += self._synth(t, x, target.state)
        else:
            steps = self._synth(t, x, target.state)
        c.queue = deque([*keep, *steps, target])
        if x == target.state and not keep and self.state[t] == target.state and not self.clearance[t]:
            # already showing it: hold/continue the current step in place
            c.queue.popleft()
            if target.phase >= 0:
                self.phase[t] = self.anchor[t] = target.phase
                p = self._prog_of(t, target.phase)
                self.program[t] = p.index if p is not None else self.program[t]
            self.min_dur[t] = target.min_dur
            self.max_dur[t] = target.max_dur
            if target.hold:
                cap = self._hold_cap(t, target, self.now - float(self.elapsed[t]))
                self.end[t] = cap
                self.max_dur[t] = cap
                self.hold[t] = True
            else:
                self.end[t] = max(target.dur, float(self.elapsed[t]))
        self._spat[t] = None

    def _revert(self, t: int, *, fallback: bool) -> None:
        """Back to the local program, completing any started clearance."""
        c = self._ctl[t]
        c.command = None
        self.expiry[t] = np.inf
        self.mode[t] = pb.CONTROL_MODE_FALLBACK if fallback else pb.CONTROL_MODE_LOCAL_PLAN
        self._spat[t] = None
        local = c.programs.get(c.local_program)
        if local is None:
            return
        h = int(self.phase[t])
        if h in local.phases and not c.queue and self.clearance[t]:
            return  # the local program's own clearance: it simply continues
        if h in local.phases and not self.clearance[t]:
            # a local green: its local duration (never below its minimum), then the program
            c.queue.clear()
            self.hold[t] = False
            self.end[t] = max(float(self.net.phase_duration[h]), float(self.min_dur[t]))
            self.max_dur[t] = max(float(self.net.phase_max[h]), float(self.net.phase_duration[h]))
            return
        if self.clearance[t]:
            keep: list[Step] = []
            for s in c.queue:
                if not s.clearance:
                    if s.phase in local.phases:
                        keep.append(replace(s, hold=False, dur=float(self.net.phase_duration[s.phase])))
                        c.queue = deque(keep)
                        return
                    break
                keep.append(s)
        anchor = int(self.anchor[t])
        after = anchor if anchor in local.phases else local.phases[-1]
        target = self._next_green(local, after)
        prev = self.net.phase_state[local.phases[local.phases.index(target) - 1]]
        self._plan_to(t, self._program_step(target, prev))

    def _expire(self, t: int) -> None:
        cmd = self._ctl[t].command
        self._revert(t, fallback=True)
        if cmd is not None:
            self.results.append(
                CommandResult(
                    self.now,
                    cmd.command_id,
                    cmd.junction_id,
                    pb.CommandKind.Name(cmd.kind),
                    True,
                    "expired: reverted to the local program",
                    cmd.source,
                )
            )

    # ------------------------------------------------------------------ commands
    def t_of_ns(self, ns: int) -> float:
        """Absolute ns since the Unix epoch -> simulated seconds."""
        return (int(ns) - self.epoch_ns) / 1e9

    def ns_of_t(self, t: float) -> int:
        """Simulated seconds -> absolute ns since the Unix epoch."""
        return self.epoch_ns + round(t * 1e9)

    def apply(self, cmd: pb.SignalCommand) -> CommandResult:
        """Apply one command at the current time within the controller's safety limits.

        Returns
        -------
        CommandResult
            Accepted (with a note when capped) or refused with the reason; also appended to
            :attr:`results`.
        """
        reason, note = self._apply(cmd)
        res = CommandResult(
            self.now,
            cmd.command_id,
            cmd.junction_id,
            pb.CommandKind.Name(cmd.kind) if cmd.kind in pb.CommandKind.values() else str(cmd.kind),
            reason is None,
            reason if reason is not None else note,
            cmd.source,
        )
        self.results.append(res)
        return res

    def _apply(self, cmd: pb.SignalCommand) -> tuple[str | None, str]:
        t = self.net.tls_index_of.get(cmd.junction_id)
        if t is None:
            return f"unknown signal controller {cmd.junction_id!r}", ""
        c = self._ctl[t]
        kind = cmd.kind
        if kind == pb.COMMAND_KIND_RELEASE:
            self._revert(t, fallback=False)
            return None, "released to the local program"
        if kind not in pb.CommandKind.values() or kind == pb.COMMAND_KIND_UNSPECIFIED:
            return f"unknown command kind {kind}", ""
        if cmd.expires_ns <= 0:
            return "command has no expiry (expires_ns)", ""
        expiry = self.t_of_ns(cmd.expires_ns)
        if expiry <= self.now + EPS:
            return "command already expired on arrival", ""
        if self.program[t] < 0:
            return "controller has no program", ""
        cur_prog = c.programs[int(self.program[t])]
        note = ""
        if kind in (pb.COMMAND_KIND_HOLD_PHASE, pb.COMMAND_KIND_EXTEND_GREEN, pb.COMMAND_KIND_SET_DURATION):
            if self.clearance[t] or self.phase[t] < 0 or not _masks(self.state[t])[1].any():
                return "no green to hold or extend: the controller is in clearance", ""
            start = self.now - float(self.elapsed[t])
            cur = Step(
                self.state[t], float(self.end[t]), float(self.min_dur[t]), self._phase_max(t), int(self.phase[t]), False
            )
            cap = self._hold_cap(t, cur, start)
            if kind == pb.COMMAND_KIND_HOLD_PHASE:
                new_end = cap
                self.hold[t] = True
            else:
                d = float(cmd.duration_s)
                if not np.isfinite(d) or d <= 0.0:
                    return f"duration_s must be > 0, got {cmd.duration_s}", ""
                want = float(self.end[t]) + d if kind == pb.COMMAND_KIND_EXTEND_GREEN else float(self.elapsed[t]) + d
                new_end = min(max(want, float(self.min_dur[t])), cap)
                if want > cap + EPS:
                    note = f"capped at {cap:.1f} s of green (maxDur / max red)"
                elif want < float(self.min_dur[t]) - EPS:
                    note = f"raised to minDur {float(self.min_dur[t]):.1f} s"
            c.queue.clear()
            self.end[t] = max(new_end, float(self.elapsed[t]))
            self.max_dur[t] = cap
        elif kind in (pb.COMMAND_KIND_FORCE_PHASE, pb.COMMAND_KIND_EARLY_GREEN):
            if cmd.program_id and cmd.program_id != cur_prog.ident:
                return f"phase_index refers to program {cmd.program_id!r}, the active program is {cur_prog.ident!r}", ""
            i = int(cmd.phase_index)
            if i >= len(cur_prog.phases):
                return f"unknown phase {i} (program {cur_prog.ident!r} has {len(cur_prog.phases)})", ""
            h = cur_prog.phases[i]
            s = self.net.phase_state[h]
            prev = self.net.phase_state[cur_prog.phases[i - 1]]
            if not _masks(s)[1].any() or _masks(s)[2].any() or _is_clearance(prev, s):
                return f"phase {i} is a clearance phase (amber or no green)", ""
            bad = phase_conflicts(s, c.foes, c.yields)
            if bad:
                return f"phase {i} would give conflicting greens to links {bad[0].a} and {bad[0].b}", ""
            if kind == pb.COMMAND_KIND_FORCE_PHASE:
                step = replace(self._program_step(h, prev), hold=True, dur=np.inf, clearance=False)
                if not step.min_dur <= step.max_dur:
                    step = replace(step, max_dur=step.min_dur)
                self._plan_to(t, step)
            else:
                err = self._early_green(t, cur_prog, h)
                if err:
                    return err, ""
        elif kind == pb.COMMAND_KIND_SET_PROGRAM:
            target_p = next((p for p in c.programs.values() if p.ident == cmd.program_id), None)
            if target_p is None:
                known = ", ".join(repr(p.ident) for p in c.programs.values())
                return f"unknown program {cmd.program_id!r} (known: {known})", ""
            for h in target_p.phases:
                bad = phase_conflicts(self.net.phase_state[h], c.foes, c.yields)
                if bad:
                    return f"program {target_p.ident!r} phase {target_p.phases.index(h)} has conflicting greens", ""
            h = self._next_green(target_p, target_p.phases[-1])
            prev = self.net.phase_state[target_p.phases[target_p.phases.index(h) - 1]]
            self._plan_to(t, self._program_step(h, prev))
        elif kind == pb.COMMAND_KIND_ALL_RED:
            chars, _, _, keep = _masks(self.state[t])
            red = "".join(np.where(keep, chars, "r").tolist())
            self._plan_to(t, Step(red, np.inf, 0.0, self.max_red, -1, False, hold=True))
        else:  # pragma: no cover - every kind is handled above
            return f"unsupported command kind {pb.CommandKind.Name(kind)}", ""
        c.command = cmd
        self.expiry[t] = expiry
        self.mode[t] = pb.CONTROL_MODE_OVERRIDE if cmd.source.startswith("operator:") else pb.CONTROL_MODE_CLOUD
        self._spat[t] = None
        return None, note

    def _phase_max(self, t: int) -> float:
        h = int(self.phase[t])
        if h < 0:
            return self.max_red
        return max(float(self.net.phase_max[h]), float(self.net.phase_duration[h]))

    def _early_green(self, t: int, prog: _Program, h: int) -> str | None:
        """Run the program to phase ``h`` with every green in between at its minimum."""
        c = self._ctl[t]
        if int(self.phase[t]) == h and not self.clearance[t]:
            return None
        keep, x = self._committed(t)
        cur = int(self.phase[t])
        start = cur
        for s in keep:
            if s.phase >= 0:
                start = s.phase
        if start not in prog.phases:
            # from a synthesised state: a direct safe transition
            prev = self.net.phase_state[prog.phases[prog.phases.index(h) - 1]]
            self._plan_to(t, self._program_step(h, prev))
            return None
        steps: list[Step] = []
        q, prev = start, x
        for _ in range(len(prog.phases)):
            q = self._next_in(prog, q)
            st = self._program_step(q, prev)
            if q == h:
                steps.append(st)
                break
            if not st.clearance:
                st = replace(st, dur=st.min_dur)
            steps.append(st)
            prev = st.state
        c.queue = deque([*keep, *steps])
        return None

    # ------------------------------------------------------------------ SPaT
    def _upcoming(self, t: int, horizon: int) -> list[tuple[str, float, float, float]]:
        """(state, min, max, likely) of the next steps after the current one."""
        c = self._ctl[t]
        out = [(s.state, s.min_dur, s.max_dur, s.dur if np.isfinite(s.dur) else s.max_dur) for s in c.queue]
        last = next((s.phase for s in reversed(c.queue) if s.phase >= 0), int(self.phase[t]))
        prog = self._prog_of(t, last) if last >= 0 else None
        if prog is None:
            local = c.programs.get(c.local_program)
            if local is None:
                return out
            prog, last = (
                local,
                self._next_green(local, int(self.anchor[t]) if int(self.anchor[t]) >= 0 else local.phases[-1]),
            )
            st = self._program_step(last, out[-1][0] if out else self.state[t])
            out.append((st.state, st.min_dur, st.max_dur, st.dur))
        q, prev = last, out[-1][0] if out else self.state[t]
        while len(out) < horizon:
            q = self._next_in(prog, q)
            st = self._program_step(q, prev)
            out.append((st.state, st.min_dur, st.max_dur, st.dur))
            prev = st.state
        return out

    def _build_spat(self, t: int) -> pb.Spat:
        c = self._ctl[t]
        start = self.now - float(self.elapsed[t])
        chars = _masks(self.state[t])[0] if self.state[t] else np.zeros(0, "<U1")
        n_prog = len(c.programs[int(self.program[t])].phases) if int(self.program[t]) in c.programs else 0
        up = self._upcoming(t, len(c.queue) + n_prog + 1)
        if up:
            up_chars = np.array([_masks(s)[0] for s, _, _, _ in up])  # (S, K)
            mins = np.array([u[1] for u in up])
            maxs = np.array([u[2] for u in up])
            likes = np.array([u[3] for u in up])
        else:
            up_chars = np.zeros((0, len(chars)), "<U1")
            mins = maxs = likes = np.zeros(0)
        g_links = c.group_first
        g_now = chars[g_links] if len(chars) else np.zeros(0, "<U1")
        same = up_chars[:, g_links] == g_now[None, :] if len(up) else np.zeros((0, len(g_links)), bool)
        # steps until each group's char changes: the leading run of "same" rows
        run = np.cumprod(same, axis=0).astype(np.bool_) if len(up) else same
        cur_min = max(float(self.min_dur[t]), 0.0)
        cur_max = float(self.max_dur[t]) if np.isfinite(self.max_dur[t]) else float(self.end[t])
        cur_like = float(self.end[t])
        add_min = (run * mins[:, None]).sum(axis=0)
        add_max = (run * maxs[:, None]).sum(axis=0)
        add_like = (run * likes[:, None]).sum(axis=0)
        local = self.mode[t] == pb.CONTROL_MODE_LOCAL_PLAN
        spat = pb.Spat(
            junction_id=c.ident,
            program_id=self.net.program_ids[int(self.program[t])] if self.program[t] >= 0 else "",
            phase_index=self._phase_index(t),
            mode=int(self.mode[t]),  # type: ignore[arg-type]
            link_state=self.state[t],
        )
        for i, g in enumerate(c.group_ids):
            lo = start + max(cur_min, float(self.elapsed[t])) + float(add_min[i])
            like = start + max(cur_like, float(self.elapsed[t])) + float(add_like[i])
            hi = start + max(cur_max, float(self.elapsed[t])) + float(add_max[i])
            spat.groups.add(
                group_id=g,
                state=LIGHT_STATE.get(str(g_now[i]), 0),
                min_end_ns=self.ns_of_t(lo),
                max_end_ns=self.ns_of_t(max(hi, like)),
                likely_end_ns=self.ns_of_t(like),
                confidence_pct=90 if local and not c.queue else 60,
            )
        return spat

    def _phase_index(self, t: int) -> int:
        h = int(self.phase[t]) if self.phase[t] >= 0 else int(self.anchor[t])
        prog = self._prog_of(t, h) if h >= 0 else None
        return prog.phases.index(h) if prog is not None else 0

    def spat(self, indices: npt.ArrayLike | None = None) -> list[pb.Spat]:
        """SPaT of the controllers ``indices`` (default all) at the current time.

        Each message is new (safe to keep); ``timestamp_ns`` is the current simulated time and
        the per-group end times are absolute ns (min from the ``minDur`` of the phases ahead,
        max from their ``maxDur`` or hold caps, likely from the current plan).
        """
        idx = range(self.n) if indices is None else np.asarray(indices, dtype=np.int64).tolist()
        now_ns = self.ns_of_t(self.now)
        out = []
        for t in idx:
            cached = self._spat[t]
            if cached is None:
                cached = self._spat[t] = self._build_spat(t)
            m = pb.Spat()
            m.CopyFrom(cached)
            m.timestamp_ns = now_ns
            out.append(m)
        return out

    # ------------------------------------------------------------------ views
    @property
    def ids(self) -> list[str]:
        """Controller ids, (T,)."""
        return list(self.net.tls_ids)

    def clearance_min(self, t: int) -> tuple[float, float]:
        """(amber, all-red): the shortest controller ``t``'s programs show, s (synthesised ones if none)."""
        c = self._ctl[t]
        ambers: list[float] = []
        reds: list[float] = []
        for p in c.programs.values():
            states = [self.net.phase_state[h] for h in p.phases]
            durs = [float(self.net.phase_duration[h]) for h in p.phases]
            ambers += _runs(states, durs, "amber")
            reds += _runs(states, durs, "allred")
        return (min(ambers) if ambers else c.amber, min(reds) if reds else c.all_red)

    def clearance_times(self, t: int) -> tuple[float, float]:
        """(amber, all-red) controller ``t`` synthesises when its program has no fitting clearance, s."""
        c = self._ctl[t]
        return c.amber, c.all_red

    def conflicts(self, t: int) -> tuple[B, B]:
        """(foes, yields) of controller ``t``, each (K_t, K_t)."""
        c = self._ctl[t]
        return c.foes, c.yields

    def links(self, t: int) -> slice:
        """Slice of controller ``t``'s links in the flat link arrays."""
        return self._ctl[t].links

    def active_commands(self) -> int:
        """Number of controllers following a command now."""
        return int(np.isfinite(self.expiry).sum())
