"""Operator overrides: hold or force a phase, switch program, all-red, release; audited.

Every override carries who, why and how long; it becomes a ``pb.SignalCommand`` with
``source = "operator:<who>"`` and ``expires_ns = now + duration`` and goes through the same
:class:`~control.safety.SafetyLayer` as every other decision:

* accepted or corrected (e.g. a hold cut to the maximum green): sent with the next decisions and
  in force until it expires; strategies and TSP leave that controller alone meanwhile;
* rejected for a timer not yet served (a minimum green, a clearance): *queued* and re-checked
  every tick until it passes (then sent) or its own expiry passes;
* rejected for any other reason (unknown phase, a program without clearances, ...): refused.

Each step is appended to the audit sink (who, what, when, why, outcome, detail): ``submitted``
outcomes ``accepted`` / ``corrected`` / ``queued`` / ``refused``, then ``applied``, ``expired``,
``released`` or ``lapsed`` (a queued override whose time ran out). The sink is any callable;
:class:`InMemoryAudit` is the default, the store persists its own.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol

from control.machine import SignalMachine
from control.safety import SafetyLayer, Verdict
from proto import pb

LOG = logging.getLogger("xiangjiang.control.overrides")
CK = pb.CommandKind

#: operator command names -> kinds
KINDS: dict[str, int] = {
    "hold": CK.COMMAND_KIND_HOLD_PHASE,
    "force": CK.COMMAND_KIND_FORCE_PHASE,
    "program": CK.COMMAND_KIND_SET_PROGRAM,
    "all_red": CK.COMMAND_KIND_ALL_RED,
    "release": CK.COMMAND_KIND_RELEASE,
}


class OverrideLike(Protocol):
    """What an override request carries (``cloud.contracts.OverrideRequest`` fits)."""

    @property
    def junction_id(self) -> str: ...
    @property
    def kind(self) -> int: ...
    @property
    def phase_index(self) -> int: ...
    @property
    def program_id(self) -> str: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def reason(self) -> str: ...
    @property
    def operator(self) -> str: ...


@dataclass(frozen=True)
class OverrideRequest:
    """An operator's override (``kind``: a CommandKind value, e.g. ``KINDS["force"]``)."""

    junction_id: str
    kind: int
    reason: str
    operator: str
    duration_s: float = 60.0
    phase_index: int = 0
    program_id: str = ""


@dataclass(frozen=True)
class OverrideOutcome:
    """What happened to an override at submission."""

    accepted: bool
    reason: str
    command: pb.SignalCommand | None = None
    queued: bool = False
    override_id: str = ""


@dataclass(frozen=True)
class AuditEntry:
    """One audited step of an override: who, what, when, why, outcome."""

    when_ns: int
    who: str
    what: str  #: e.g. "force phase 3 at J1_1 for 60 s"
    junction_id: str
    why: str
    outcome: str
    detail: str = ""
    override_id: str = ""

    def as_dict(self) -> dict[str, object]:
        """Plain dict (for JSON, the store)."""
        return asdict(self)


AuditSink = Callable[[AuditEntry], None]


@dataclass
class InMemoryAudit:
    """The default audit sink: a list of entries."""

    entries: list[AuditEntry] = field(default_factory=list)

    def __call__(self, entry: AuditEntry) -> None:
        """Append one entry."""
        self.entries.append(entry)


@dataclass
class _Pending:
    oid: str
    req: OverrideLike
    cmd: pb.SignalCommand
    what: str
    until: float


def describe(req: OverrideLike) -> str:
    """A short human description of an override."""
    k = int(req.kind)
    name = pb.CommandKind.Name(k) if k in pb.CommandKind.values() else str(k)
    names: dict[int, str] = {
        int(CK.COMMAND_KIND_HOLD_PHASE): "hold the current phase",
        int(CK.COMMAND_KIND_FORCE_PHASE): f"force phase {req.phase_index}",
        int(CK.COMMAND_KIND_SET_PROGRAM): f"switch to program {req.program_id!r}",
        int(CK.COMMAND_KIND_ALL_RED): "all red",
        int(CK.COMMAND_KIND_RELEASE): "release to the local program",
    }
    what = names.get(k, name)
    return f"{what} at {req.junction_id} for {req.duration_s:.0f} s"


class OverrideManager:
    """Operator overrides behind the safety layer, audited; see the module docstring.

    Parameters
    ----------
    safety
        The safety layer every override passes.
    machine_of
        Controller id -> its tracked state (None when the cloud has no SPaT from it yet).
    audit
        Where audit entries go (default: an :class:`InMemoryAudit`, kept as :attr:`audit`).
    """

    def __init__(
        self,
        safety: SafetyLayer,
        machine_of: Callable[[str], SignalMachine | None],
        audit: AuditSink | None = None,
    ) -> None:
        self.safety = safety
        self.machine_of = machine_of
        self.audit: AuditSink = audit if audit is not None else InMemoryAudit()
        self.pending: dict[str, _Pending] = {}  #: queued, by override id
        #: controller id -> (expiry s, override id, the command in force)
        self.active_until: dict[str, tuple[float, str, pb.SignalCommand]] = {}
        self._out: list[pb.SignalCommand] = []
        self._ids = itertools.count(1)

    def _log(self, now: float, req: OverrideLike, what: str, outcome: str, detail: str, oid: str) -> None:
        entry = AuditEntry(round(now * 1e9), req.operator, what, req.junction_id, req.reason, outcome, detail, oid)
        try:
            self.audit(entry)
        except Exception:  # an audit sink failure must be visible, never silent
            LOG.exception("audit sink failed for %s", entry)
            raise

    def submit(self, req: OverrideLike, now: float) -> OverrideOutcome:
        """Check an override at ``now`` (s); see the module docstring for the outcomes."""
        oid = f"ovr-{next(self._ids)}"
        what = describe(req)
        kind = int(req.kind)
        problem = ""
        if not req.operator:
            problem = "an override needs the operator's name"
        elif not req.reason.strip():
            problem = "an override needs a reason"
        elif kind not in KINDS.values():
            problem = f"operators may hold, force, switch program, all-red or release; not {kind}"
        elif not (math.isfinite(req.duration_s) and req.duration_s > 0):
            problem = f"duration must be a positive number of seconds, got {req.duration_s}"
        elif req.junction_id not in self.safety.plans:
            problem = f"unknown signal controller {req.junction_id!r}"
        m = None if problem else self.machine_of(req.junction_id)
        if not problem and m is None:
            problem = f"no SPaT from {req.junction_id} yet: its state is unknown"
        if problem or m is None:
            self._log(now, req, what, "refused", problem, oid)
            return OverrideOutcome(False, problem, override_id=oid)
        cmd = pb.SignalCommand(
            command_id=oid,
            junction_id=req.junction_id,
            kind=kind,  # type: ignore[arg-type]
            phase_index=int(req.phase_index),
            program_id=req.program_id,
            duration_s=float(req.duration_s),
            issued_ns=round(now * 1e9),
            expires_ns=round((now + float(req.duration_s)) * 1e9),
            source=f"operator:{req.operator}",
            reason=req.reason,
        )
        v = self.safety.check(cmd, m, now)
        if v.ok and v.command is not None:
            self._send(now, req, what, v, oid)
            return OverrideOutcome(True, v.reason or "accepted", v.command, override_id=oid)
        if v.retry_after_s is not None and now + v.retry_after_s < cmd.expires_ns / 1e9:
            self.pending[oid] = _Pending(oid, req, cmd, what, cmd.expires_ns / 1e9)
            self._log(now, req, what, "queued", f"{v.reason}; retry in {v.retry_after_s:.1f} s", oid)
            return OverrideOutcome(True, f"queued: {v.reason}", None, queued=True, override_id=oid)
        self._log(now, req, what, "refused", v.reason, oid)
        return OverrideOutcome(False, v.reason, override_id=oid)

    def _send(self, now: float, req: OverrideLike, what: str, v: Verdict, oid: str) -> None:
        assert v.command is not None
        cmd = v.command
        self._log(now, req, what, v.outcome, v.reason, oid)
        self._out.append(cmd)
        if cmd.kind == CK.COMMAND_KIND_RELEASE:
            self.active_until.pop(req.junction_id, None)
            for k in [k for k, p in self.pending.items() if p.req.junction_id == req.junction_id]:
                del self.pending[k]
        else:
            self.active_until[req.junction_id] = (cmd.expires_ns / 1e9, oid, cmd)

    def due(self, now: float) -> list[pb.SignalCommand]:
        """Commands to send this tick: overrides accepted since the last call and queued ones that now pass."""
        for oid, p in list(self.pending.items()):
            if now >= p.until:
                del self.pending[oid]
                self._log(now, p.req, p.what, "lapsed", "never became safe before its expiry", oid)
                continue
            m = self.machine_of(p.req.junction_id)
            if m is None:
                continue
            v = self.safety.check(p.cmd, m, now)
            if v.ok and v.command is not None:
                del self.pending[oid]
                self._send(now, p.req, p.what, v, oid)
        for jid, (until, oid, _) in list(self.active_until.items()):
            if now >= until:
                del self.active_until[jid]
                self.audit(AuditEntry(round(now * 1e9), "", "", jid, "", "expired", "", oid))
        out, self._out = self._out, []
        for c in out:
            self.audit(
                AuditEntry(round(now * 1e9), c.source.removeprefix("operator:"), pb.CommandKind.Name(c.kind),
                           c.junction_id, c.reason, "applied", "sent to the controller", c.command_id)
            )  # fmt: skip
        return out

    def controls(self, junction_id: str, now: float) -> bool:
        """True while an override is in force (or queued) at the controller."""
        a = self.active_until.get(junction_id)
        if a is not None and now < a[0]:
            return True
        return any(p.req.junction_id == junction_id for p in self.pending.values())

    def active(self, now: float) -> list[pb.SignalCommand]:
        """The override commands in force at ``now`` (one per controller)."""
        return [c for u, _, c in self.active_until.values() if now < u]
