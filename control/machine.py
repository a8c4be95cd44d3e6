"""A reference model of a field signal controller that executes commands literally.

The model runs one controller's programs and applies :class:`pb.SignalCommand` exactly as the
contract describes them, **without any check of its own**: it is what the safety layer previews
a command on (so the layer sees what the command would do in the field) and what the property
tests drive forward (so an unsafe command the layer let through shows up as a violation).

Command semantics (times in s; the active command reverts to the local plan at its expiry):

* ``SET_DURATION d``: the current phase ends at ``now + d``;
* ``HOLD_PHASE``: the current phase holds until the command expires;
* ``EXTEND_GREEN d``: the current phase's planned end moves ``d`` later;
* ``EARLY_GREEN h``: the current and every following stage run their minimum until phase ``h``;
* ``FORCE_PHASE h`` / ``SET_PROGRAM p``: :func:`control.clearance.clearance` now, then phase
  ``h`` (of program ``p``: its first resumable phase);
* ``ALL_RED``: clearance to all red, held until expiry, then the program resumes at the
  interrupted (or next resumable) phase;
* ``RELEASE``: back to the local plan now (an all-red hold ends now).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from control import states as st
from control.clearance import clearance
from control.plan import ControllerPlan
from proto import pb

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Transition:
    """One change of the displayed state.

    ``since`` is the per-link class-change time *before* the change; ``ended`` is the program
    phase that ended here as (program, phase, phase start s), or None.
    """

    t: float
    prev: str
    chars: str
    since: F64
    ended: tuple[int, int, float] | None


@dataclass
class SignalMachine:
    """One controller's state and the literal command semantics; see the module docstring."""

    plan: ControllerPlan
    program: int
    phase: int
    phase_start: float
    phase_end: float
    chars: str
    since: F64
    segments: list[tuple[str, float]] = field(default_factory=list)
    target: tuple[int, int] | None = None
    hold_until: float | None = None
    early_target: int | None = None
    expires: float = math.inf
    mode: int = pb.CONTROL_MODE_LOCAL_PLAN
    now: float = 0.0
    log: list[Transition] | None = None
    #: set by the cloud's tracker when the field shows a state this model does not explain
    uncertain: bool = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def start(cls, plan: ControllerPlan, program: int, phase: int, t: float, *, log: bool = False) -> SignalMachine:
        """A controller that entered ``phase`` of network program ``program`` at ``t``.

        Every link's class is taken to have changed at ``t`` (history unknown: the conservative
        choice for minimum greens and clearances).
        """
        pp = plan.program(program)
        chars = pp.states[phase]
        return cls(
            plan=plan,
            program=program,
            phase=phase,
            phase_start=t,
            phase_end=t + float(pp.duration[phase]),
            chars=chars,
            since=np.full(plan.n_links, t),
            now=t,
            log=[] if log else None,
        )

    def clone(self, *, log: bool = True) -> SignalMachine:
        """An independent copy (with an empty log when ``log``)."""
        m = copy.copy(self)
        m.since = self.since.copy()
        m.segments = list(self.segments)
        m.log = [] if log else None
        return m

    # ------------------------------------------------------------------ queries
    @property
    def in_phase(self) -> bool:
        """True while a program phase is displayed (no clearance or all-red hold running)."""
        return not self.segments and self.target is None and self.hold_until is None

    @property
    def local_end(self) -> float:
        """When the local plan would end the current phase, s."""
        return self.phase_start + float(self.plan.program(self.program).duration[self.phase])

    def next_event(self) -> float:
        """Time of the next state change or command expiry, s."""
        if self.segments:
            t = self.segments[0][1]
        elif self.target is not None:
            t = self.now
        elif self.hold_until is not None:
            t = self.hold_until
        else:
            t = self.phase_end
        return min(t, self.expires)

    # ------------------------------------------------------------------ time
    def advance(self, now: float, *, max_events: int = 10_000) -> None:
        """Run every event up to and including ``now``."""
        for _ in range(max_events):
            te = self.next_event()
            if te > now:
                break
            te = max(te, self.now)
            self.now = te
            if self.expires <= te:
                self._expire(te)
            elif self.segments:
                self.segments.pop(0)
                if self.segments:
                    self._show(te, self.segments[0][0], None)
                elif self.target is None and self.hold_until is not None:
                    self._show(te, self.plan.all_red, None)
            elif self.target is not None:
                p, h = self.target
                self.target = None
                self._enter(p, h, te, None)
            elif self.hold_until is not None:
                self.hold_until = None
                pp = self.plan.program(self.program)
                self._enter(self.program, pp.next_resumable(self.phase), te, None)
            else:
                self._end_phase(te)
        self.now = max(self.now, now)

    def _expire(self, te: float) -> None:
        self.expires = math.inf
        self.mode = pb.CONTROL_MODE_FALLBACK
        self.early_target = None
        if self.in_phase:
            self.phase_end = max(self.local_end, te)

    def _show(self, t: float, chars: str, ended: tuple[int, int, float] | None) -> None:
        if chars == self.chars and ended is None:
            return
        prev_since = self.since.copy()
        changed = st.class_changed(self.chars, chars)
        if self.log is not None:
            self.log.append(Transition(t, self.chars, chars, prev_since, ended))
        self.since[changed] = t
        self.chars = chars

    def _end_phase(self, te: float) -> None:
        pp = self.plan.program(self.program)
        self._enter(self.program, (self.phase + 1) % pp.n_phases, te, (self.program, self.phase, self.phase_start))

    def _enter(self, p: int, h: int, t: float, ended: tuple[int, int, float] | None) -> None:
        pp = self.plan.program(p)
        self.program, self.phase, self.phase_start = p, h, t
        if self.early_target == h:
            self.early_target = None
        if self.early_target is not None and pp.flexible[h]:
            self.phase_end = t + float(pp.eff_min[h])
        else:
            self.phase_end = t + float(pp.duration[h])
        self._show(t, pp.states[h], ended)

    # ------------------------------------------------------------------ commands
    def apply(self, cmd: pb.SignalCommand, now: float) -> None:
        """Apply one command at ``now`` (after running events up to ``now``), literally."""
        self.advance(now)
        kind = cmd.kind
        exp = cmd.expires_ns / 1e9 if cmd.expires_ns else math.inf
        d = float(cmd.duration_s)
        if kind == pb.COMMAND_KIND_RELEASE:
            self.expires = math.inf
            self.mode = pb.CONTROL_MODE_LOCAL_PLAN
            self.early_target = None
            if self.hold_until is not None:
                self.hold_until = now
            elif self.in_phase:
                self.phase_end = max(now, self.local_end)
            return
        self.mode = pb.CONTROL_MODE_OVERRIDE if cmd.source.startswith("operator:") else pb.CONTROL_MODE_CLOUD
        self.expires = exp
        pp = self.plan.program(self.program)
        if kind == pb.COMMAND_KIND_SET_DURATION and self.in_phase:
            self.phase_end = now + d
        elif kind == pb.COMMAND_KIND_HOLD_PHASE and self.in_phase:
            self.phase_end = math.inf
        elif kind == pb.COMMAND_KIND_EXTEND_GREEN and self.in_phase:
            self.phase_end = self.phase_end + d
        elif kind == pb.COMMAND_KIND_EARLY_GREEN and self.in_phase:
            h = int(cmd.phase_index)
            if 0 <= h < pp.n_phases and h != self.phase:
                self.early_target = h
                if pp.flexible[self.phase]:
                    self.phase_end = min(self.phase_end, self.phase_start + float(pp.eff_min[self.phase]))
        elif kind == pb.COMMAND_KIND_FORCE_PHASE:
            h = int(cmd.phase_index)
            if 0 <= h < pp.n_phases:
                self._clear_to(self.program, h, now)
        elif kind == pb.COMMAND_KIND_SET_PROGRAM:
            np_ = self.plan.program_by_id(cmd.program_id)
            if np_ is not None:
                self._clear_to(np_.index, np_.next_resumable(0), now)
        elif kind == pb.COMMAND_KIND_ALL_RED:
            ended = self._ending()
            steps, _ = clearance(self.plan, self.chars, self.since, self.plan.all_red, now)
            self.target = None
            self.early_target = None
            self.hold_until = exp
            self.segments = steps
            self._show(now, steps[0][0] if steps else self.plan.all_red, ended)
        self.advance(now)

    def _ending(self) -> tuple[int, int, float] | None:
        return (self.program, self.phase, self.phase_start) if self.in_phase else None

    def _clear_to(self, p: int, h: int, now: float) -> None:
        target = self.plan.program(p).states[h]
        ended = self._ending()
        steps, _ = clearance(self.plan, self.chars, self.since, target, now)
        self.hold_until = None
        self.early_target = None
        self.segments = steps
        self.target = (p, h)
        if steps:
            self._show(now, steps[0][0], ended)
        else:
            self.target = None
            self._enter(p, h, now, ended)
