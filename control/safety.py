"""The safety layer: the one checker every signal decision passes, whatever its source.

:meth:`SafetyLayer.check` takes a proposed :class:`pb.SignalCommand` and the controller's
current state (a :class:`~control.machine.SignalMachine`: the cloud's model built from SPaT, or
the reference model in tests) and returns a :class:`Verdict`:

* ``accepted``: the command as proposed;
* ``corrected``: a safe version (duration or expiry clamped; missing expiry filled in);
* ``rejected``: with the reason and, when waiting helps (a minimum green not yet served), how
  long to wait before proposing it again.

It first validates the command against the map (phase and program exist, durations are finite),
clamps what it may clamp (the planned end of the current stage to [its effective minimum and the
links' minimum greens, its effective maximum and the waiting links' maximum red]; the expiry to
``max_expiry_s``), then *previews* the command on a copy of the controller model until its
effect is over (a phase has ended and the controller shows a stage again) and checks every
displayed change against :mod:`control.rules`.
``max-red`` counts only where the command makes a red run longer than doing nothing would.

:meth:`SafetyLayer.check_state` checks an explicit next state string the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from control import rules
from control import states as st
from control.config import SafetyConfig
from control.machine import SignalMachine, Transition
from control.plan import ControllerPlan
from control.rules import Violation
from proto import pb

CK = pb.CommandKind
F64 = npt.NDArray[np.float64]
IDX = npt.NDArray[np.intp]
KNOWN_KINDS = frozenset(CK.values())
DURATION_KINDS = (pb.COMMAND_KIND_SET_DURATION, pb.COMMAND_KIND_EXTEND_GREEN, pb.COMMAND_KIND_HOLD_PHASE)
#: shortest SET_DURATION sent ("end as soon as allowed"), s
MIN_DURATION_S = 0.1
#: events a preview may run before it gives up (a runaway preview is a rejection)
MAX_PREVIEW_EVENTS = 400


@dataclass(frozen=True)
class Verdict:
    """The safety layer's answer about one command."""

    outcome: str  #: "accepted" | "corrected" | "rejected"
    command: pb.SignalCommand | None  #: what may be sent (None when rejected)
    reason: str = ""
    retry_after_s: float | None = None  #: when rejected for a timer not yet served
    violations: tuple[Violation, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True unless rejected."""
        return self.outcome != "rejected"


def _reject(reason: str, retry: float | None = None, v: tuple[Violation, ...] = ()) -> Verdict:
    return Verdict("rejected", None, reason, retry, v)


class SafetyLayer:
    """Checks signal commands against the rules of :mod:`control.rules` for every controller.

    Parameters
    ----------
    plans
        The :class:`ControllerPlan` of every controller (``control.plan.build_plans``).
    cfg
        Expiry limits (the per-link requirements are already in the plans).
    """

    def __init__(self, plans: list[ControllerPlan], cfg: SafetyConfig | None = None) -> None:
        self.plans = {p.tls_id: p for p in plans}
        self.cfg = cfg or SafetyConfig()
        self.counts: dict[str, int] = {"accepted": 0, "corrected": 0, "rejected": 0}
        #: per controller, programs whose own cycle breaks a rule: program id -> first violation
        self.unsafe_programs: dict[str, dict[str, str]] = {p.tls_id: unsafe_programs(p) for p in plans}

    # ------------------------------------------------------------------ commands
    def check(self, cmd: pb.SignalCommand, m: SignalMachine, now: float) -> Verdict:
        """Accept, correct or reject ``cmd`` for the controller in state ``m`` at ``now`` (s)."""
        v = self._check(cmd, m, now)
        self.counts[v.outcome] += 1
        return v

    def _check(self, cmd: pb.SignalCommand, m: SignalMachine, now: float) -> Verdict:
        plan = m.plan
        if cmd.junction_id != plan.tls_id:
            return _reject(f"command for {cmd.junction_id!r} checked against controller {plan.tls_id!r}")
        if m.uncertain:
            # even a release: in the reference model it may end an all-red before its clearance
            return _reject("controller shows a transition the cloud does not model; retry at its next stage", 1.0)
        fixed = pb.SignalCommand()
        fixed.CopyFrom(cmd)
        notes: list[str] = []
        static = self._static(fixed, m)
        if static:
            return _reject(static)
        # expiry
        cfg = self.cfg
        if fixed.expires_ns == 0:
            fixed.expires_ns = int((now + cfg.default_expiry_s) * 1e9)
            notes.append(f"expiry set to {cfg.default_expiry_s:.0f} s")
        exp = fixed.expires_ns / 1e9
        if exp <= now + MIN_DURATION_S:
            return _reject("command already expired (or expires within 0.1 s)")
        if exp > now + cfg.max_expiry_s + 1e-6:
            fixed.expires_ns = int((now + cfg.max_expiry_s) * 1e9)
            notes.append(f"expiry cut to {cfg.max_expiry_s:.0f} s")
        if fixed.issued_ns == 0:
            fixed.issued_ns = int(now * 1e9)
        kind = fixed.kind
        if kind in DURATION_KINDS:
            why = self._clamp_duration(fixed, m, now, notes)
            if why:
                return _reject(why)
        verdict = self._preview(fixed, m, now)
        if verdict is not None and kind == pb.COMMAND_KIND_ALL_RED and verdict.violations:
            # an all-red released too early: hold it until the resume is clear
            need = self._all_red_hold(m, now)
            if need > fixed.expires_ns / 1e9:
                fixed.expires_ns = int(math.ceil(need * 1e3) * 1e6)
                notes.append("all-red held until the resume is clear")
                verdict = self._preview(fixed, m, now)
            # an all-red held too long for a waiting link's maximum red: the longest hold that is not
            if verdict is not None and any(x.rule == "max-red" for x in verdict.violations):
                verdict = self._fit_all_red(fixed, m, now, need, notes)
        if verdict is not None:
            return verdict
        if notes:
            return Verdict("corrected", fixed, "; ".join(notes))
        return Verdict("accepted", fixed)

    def _static(self, cmd: pb.SignalCommand, m: SignalMachine) -> str:
        plan, kind = m.plan, cmd.kind
        pp = plan.program(m.program)
        if kind == pb.COMMAND_KIND_UNSPECIFIED or kind not in KNOWN_KINDS:
            return f"unknown command kind {int(kind)}"
        if kind in (pb.COMMAND_KIND_SET_DURATION, pb.COMMAND_KIND_EXTEND_GREEN) and not (
            math.isfinite(cmd.duration_s) and cmd.duration_s >= 0
        ):
            return f"duration {cmd.duration_s} s is not a finite non-negative number"
        if kind in (pb.COMMAND_KIND_FORCE_PHASE, pb.COMMAND_KIND_EARLY_GREEN):
            h = int(cmd.phase_index)
            if not 0 <= h < pp.n_phases:
                return f"phase {h} does not exist in program {pp.program_id!r} ({pp.n_phases} phases)"
            if not pp.resumable[h]:
                return f"phase {h} of program {pp.program_id!r} is a transition phase, not a green stage"
        if kind == pb.COMMAND_KIND_SET_PROGRAM:
            if plan.program_by_id(cmd.program_id) is None:
                names = ", ".join(sorted(p.program_id for p in plan.programs.values()))
                return f"controller {plan.tls_id} has no program {cmd.program_id!r} (has {names})"
            bad = self.unsafe_programs.get(plan.tls_id, {}).get(cmd.program_id)
            if bad:
                return f"program {cmd.program_id!r} breaks the active program's clearances: {bad}"
        return ""

    def duration_window(self, m: SignalMachine, now: float) -> tuple[float, float]:
        """(earliest, latest) end of the current stage the rules allow, absolute s.

        Earliest: the phase's effective minimum and the minimum green of every link that ends
        with it. Latest: the phase's effective maximum and, for every waiting link, its maximum
        red less the shortest wait after this phase. When they cross, the earliest wins.
        """
        lo_min, hi_max, ending, green_req, waiting, red_req, wait = _window_terms(m)
        lo = max(now, m.phase_start + lo_min)
        if len(ending):
            lo = max(lo, float((m.since[ending] + green_req).max()))
        hi = m.phase_start + hi_max
        if len(waiting):
            lim = m.since[waiting] + red_req - wait
            hi = min(hi, float(lim.min()))
        return lo, max(lo, hi)

    def _clamp_duration(self, cmd: pb.SignalCommand, m: SignalMachine, now: float, notes: list[str]) -> str:
        pp = m.plan.program(m.program)
        if not m.in_phase or m.chars != pp.states[m.phase]:
            return "controller is in a transition; timing commands wait for the next stage"
        if not pp.flexible[m.phase]:
            return f"phase {m.phase} of program {pp.program_id!r} has a fixed duration"
        lo, hi = self.duration_window(m, now)
        exp = cmd.expires_ns / 1e9
        if cmd.kind == pb.COMMAND_KIND_SET_DURATION:
            want = now + float(cmd.duration_s)
        elif cmd.kind == pb.COMMAND_KIND_EXTEND_GREEN:
            if not math.isfinite(m.phase_end):
                return "the phase is held; an extension has no end to move"
            want = m.phase_end + float(cmd.duration_s)
        else:
            want = exp
        end = min(max(want, lo), hi)
        if cmd.kind == pb.COMMAND_KIND_HOLD_PHASE and end <= now + MIN_DURATION_S:
            return "nothing to hold: the stage is at its maximum green (or a waiting link's maximum red)"
        if abs(end - want) > 1e-3:
            notes.append(f"stage end moved by {end - want:+.1f} s to respect min/max green and max red")
        if cmd.kind == pb.COMMAND_KIND_SET_DURATION:
            # field controllers refuse a zero duration: "end now" is the shortest positive one
            cmd.duration_s = float(np.float32(max(end - now, MIN_DURATION_S)))
        elif cmd.kind == pb.COMMAND_KIND_EXTEND_GREEN:
            cmd.duration_s = float(np.float32(max(0.0, end - m.phase_end)))
        else:
            cmd.expires_ns = int(end * 1e9)
        return ""

    def _fit_all_red(
        self, cmd: pb.SignalCommand, m: SignalMachine, now: float, shortest: float, notes: list[str]
    ) -> Verdict | None:
        """Cut an all-red's expiry to the longest hold whose preview is clean (bisection, 0.1 s)."""
        lo, hi = shortest, cmd.expires_ns / 1e9
        probe = pb.SignalCommand()
        probe.CopyFrom(cmd)
        probe.expires_ns = int(math.ceil(lo * 1e3) * 1e6)
        first = self._preview(probe, m, now)
        if first is not None:
            return first
        while hi - lo > 0.1:
            mid = 0.5 * (lo + hi)
            probe.expires_ns = int(mid * 1e9)
            if self._preview(probe, m, now) is None:
                lo = mid
            else:
                hi = mid
        cmd.expires_ns = int(lo * 1e9)
        notes.append(f"all-red cut to {lo - now:.1f} s for the waiting links' maximum red")
        return None

    def _all_red_hold(self, m: SignalMachine, now: float) -> float:
        steps_end = now
        probe = m.clone(log=False)
        cmd = pb.SignalCommand(junction_id=m.plan.tls_id, kind=pb.COMMAND_KIND_ALL_RED, expires_ns=int(now * 1e9) + 1)
        probe.apply(cmd, now)
        if probe.segments:
            steps_end = probe.segments[-1][1]
        return steps_end + float(m.plan.clear_req.max(initial=0.0)) + 0.01

    def _preview(self, cmd: pb.SignalCommand, m: SignalMachine, now: float) -> Verdict | None:
        """None when the preview is clean, else a rejection naming the first broken rule."""
        test = m.clone()
        test.apply(cmd, now)
        v = self._run(test, now)
        if v is None:
            return _reject("the command does not settle within its preview horizon")
        viols, runs = v
        over = runs > m.plan.max_red_req + rules.EPS
        if over.any():
            base = self._run(m.clone(), now)
            base_runs = base[1] if base is not None else np.full(m.plan.n_links, np.inf)
            worse = over & (runs > base_runs + rules.EPS)
            if worse.any():
                miss = float((runs - m.plan.max_red_req)[worse].max())
                viols.append(Violation(test.now, "max-red", tuple(int(k) for k in np.flatnonzero(worse)), miss))
        if not viols:
            return None
        first = viols[0]
        retry = None
        timers = ("min-green", "phase-min", "amber", "clearance", "min-red")
        if all(x.rule in timers for x in viols):
            retry = max(x.missing_s for x in viols)
        return _reject(first.describe(), retry, tuple(viols))

    def _run(self, test: SignalMachine, now: float) -> tuple[list[Violation], np.ndarray] | None:
        """Run a preview until its effect is over; (violations, (K,) longest red runs incl. predicted)."""
        limit = now + self.cfg.max_expiry_s + float(test.plan.program(test.program).duration.sum()) + 60.0
        log: list[Transition] = test.log if test.log is not None else []
        # settled: a phase has ended since ``now`` (the log only grows: look at new entries only)
        # and the controller shows a stage again (or the program has none) with nothing pending
        ended, seen = False, 0
        for _ in range(MAX_PREVIEW_EVENTS):
            if not ended:
                ended = any(tr.ended is not None and tr.t >= now for tr in log[seen:])
                seen = len(log)
            if ended and test.in_phase and test.early_target is None:
                pp = test.plan.program(test.program)
                if bool(pp.flexible[test.phase]) or not pp.flexible.any():
                    break
            te = test.next_event()
            if te > limit:
                return None
            test.advance(te)
        else:
            return None
        viols: list[Violation] = []
        for tr in log:
            viols.extend(rules.transition_violations(test.plan, tr))
        pp = test.plan.program(test.program)
        wait = np.where(pp.green[test.phase], 0.0, pp.next_green_wait[test.phase])
        rest = test.phase_end - test.now if math.isfinite(test.phase_end) else 0.0
        runs = rules.red_runs(test.plan, log, test.now, test.chars, test.since, wait + max(rest, 0.0))
        return viols, runs

    # ------------------------------------------------------------------ explicit states
    def check_state(self, m: SignalMachine, chars: str, now: float) -> Verdict:
        """Check an explicit next displayed state ``chars`` for the controller in state ``m``."""
        if len(chars) != m.plan.n_links or not set(chars) <= set("ryYgGsuoO"):
            v = _reject(f"state must be {m.plan.n_links} characters of ryYgGsuoO")
        else:
            tr = Transition(now, m.chars, chars, m.since.copy(), None)
            viols = rules.transition_violations(m.plan, tr)
            if viols:
                timers = ("min-green", "amber", "clearance", "min-red")
                retry = max(x.missing_s for x in viols) if all(x.rule in timers for x in viols) else None
                v = _reject(viols[0].describe(), retry, tuple(viols))
            else:
                v = Verdict("accepted", None, chars)
        self.counts[v.outcome] += 1
        return v


def _window_terms(m: SignalMachine) -> tuple[float, float, IDX, F64, IDX, F64, F64]:
    """The time-free terms of :meth:`SafetyLayer.duration_window` for ``m``'s phase and state (memoised).

    (effective min and max of the phase s, links ending with it and their minimum green s,
    waiting links, their maximum red s and their shortest wait after this phase s).
    """
    plan, p, h, chars = m.plan, m.program, m.phase, m.chars

    def build() -> tuple[float, float, IDX, F64, IDX, F64, F64]:
        pp = plan.program(p)
        c = st.codes(chars)
        ending = np.flatnonzero(st.DRIVE[c] & ~pp.green[(h + 1) % pp.n_phases])
        waiting = np.flatnonzero(~st.GREENISH[c] & np.isfinite(plan.max_red_req) & np.isfinite(pp.next_green_wait[h]))
        return (
            float(pp.eff_min[h]),
            float(pp.eff_max[h]),
            ending,
            plan.min_green_req[ending],
            waiting,
            plan.max_red_req[waiting],
            pp.next_green_wait[h][waiting],
        )

    return plan.memoised(("safety.window", p, h, chars), build)


def unsafe_programs(plan: ControllerPlan) -> dict[str, str]:
    """Programs of one controller whose own cycle (two cycles at programmed durations) breaks a rule.

    Returns
    -------
    dict
        program id -> description of its first violation.
    """
    out: dict[str, str] = {}
    for p, pp in plan.programs.items():
        m = SignalMachine.start(plan, p, 0, 0.0, log=True)
        m.advance(2.0 * float(pp.duration.sum()) + 1.0)
        for tr in m.log or []:
            # the first cycle starts from an unknown history; judge the second
            if tr.t < float(pp.duration.sum()):
                continue
            v = rules.transition_violations(plan, tr)
            if v:
                out[pp.program_id] = v[0].describe()
                break
    return out
