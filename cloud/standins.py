"""Minimal control and override stand-ins, used only while ``control`` has not landed
(:func:`cloud.wiring.build_core` prefers the real one).

They keep the process honest end to end (a GLOSA-style speed advisory per connected vehicle on a
signalised approach, operator overrides with basic checks) without pretending to be the real
stage: every outcome they produce says ``stand-in``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from cloud.contracts import OverrideOutcome, OverrideRequest, Picture
from cloud.signalmap import GO_STATES, SignalMap
from proto import pb, units
from roadnet.model import RoadNetwork


class StandinDecider:
    """No signal strategy (controllers run their plans); a speed advisory per connected vehicle
    within ``horizon_m`` of a signalised stop line, from the SPaT it would meet; operator
    overrides from ``gate`` go out once when accepted.

    Parameters
    ----------
    net
        The road network.
    gate
        Where accepted operator overrides wait to be sent.
    horizon_m
        Distance to the stop line within which vehicles get advice.
    """

    def __init__(self, net: RoadNetwork, gate: StandinOverrideGate | None = None, horizon_m: float = 300.0) -> None:
        self.net = net
        self.signals = SignalMap(net)
        self.gate = gate
        self.horizon_m = horizon_m
        self._seq = itertools.count()

    def decide(
        self,
        now: float,
        picture: Picture,
        spat: Mapping[str, pb.Spat],
        priority_requests: Sequence[pb.PriorityRequest],
    ) -> tuple[list[pb.SignalCommand], list[pb.Advisory]]:
        """Commands (pending operator overrides) and advisories for this tick."""
        commands = self.gate.take_pending() if self.gate is not None else []
        tr = picture.tracks
        if len(tr) == 0:
            return commands, []
        lane, stop = picture.lane, picture.dist_to_stop
        sel = np.flatnonzero((tr["vehicle_id"] != "") & (lane >= 0) & (stop <= self.horizon_m))
        sel = sel[self.signals.lane_tls[lane[sel]] >= 0]
        if len(sel) == 0:
            return commands, []
        state, end = self.signals.lane_light(dict(spat))
        ln = lane[sel]
        d = stop[sel]
        limit = self.net.lane_speed[ln]
        st, en = state[ln], end[ln]
        now_ns = int(now * 1e9)
        to_change = np.maximum((en - now_ns) / 1e9, 0.1)
        go = np.isin(st, list(GO_STATES))
        # on green: keep the limit if the stop line is reached before the change; on red: arrive at green
        advice = np.where(go, limit, np.clip(d / to_change, 3.0, limit))
        advice = np.where((en == 0) | (st == 0), limit, advice)
        lo = np.where(go, np.minimum(d / to_change, limit), np.clip(d / (to_change + 30.0), 0.0, limit))
        tls_ids = self.net.tls_ids
        tls = self.signals.lane_tls[ln]
        grp = self.signals.lane_group[ln]
        k = next(self._seq)
        adv = units.speed_to_002(advice).tolist()
        lo2 = units.speed_to_002(lo).tolist()
        hi2 = units.speed_to_002(limit).tolist()
        vids = tr["vehicle_id"][sel].tolist()
        out = [
            pb.Advisory(
                advisory_id=f"glosa-{k}-{i}",
                vehicle_id=vids[i],
                issued_ns=now_ns,
                expires_ns=now_ns + 1_000_000_000,
                speed=pb.SpeedAdvice(
                    junction_id=tls_ids[int(tls[i])],
                    group_id=int(grp[i]),
                    speed_002=adv[i],
                    min_speed_002=lo2[i],
                    max_speed_002=hi2[i],
                    distance_to_stop_m=float(d[i]),
                    green_end_ns=int(en[i]) if go[i] else 0,
                    green_start_ns=int(en[i]) if not go[i] else 0,
                ),
            )
            for i in range(len(sel))
        ]
        return commands, out


#: Commands an operator may send, by the API's name.
OVERRIDE_KINDS = {
    "hold": pb.COMMAND_KIND_HOLD_PHASE,
    "force": pb.COMMAND_KIND_FORCE_PHASE,
    "program": pb.COMMAND_KIND_SET_PROGRAM,
    "all_red": pb.COMMAND_KIND_ALL_RED,
    "release": pb.COMMAND_KIND_RELEASE,
}


class StandinOverrideGate:
    """Checks an override against the map (controller, program, a green target phase, duration)
    and queues its command. The field controller still applies its own clearance; the real
    safety layer is ``control``'s.

    Parameters
    ----------
    net
        The road network.
    max_duration_s
        Longest override allowed.
    """

    #: the API audits what this gate decides (the real one audits itself)
    audits = False

    def __init__(self, net: RoadNetwork, max_duration_s: float = 900.0) -> None:
        self.net = net
        self.max_duration_s = max_duration_s
        self._pending: list[pb.SignalCommand] = []
        self._active: list[pb.SignalCommand] = []
        self._seq = itertools.count(1)

    def _check(self, r: OverrideRequest) -> str:
        net = self.net
        t = net.tls_index_of.get(r.junction_id)
        if t is None:
            return f"unknown signal controller {r.junction_id!r}"
        if r.kind not in OVERRIDE_KINDS.values():
            return f"command kind {r.kind} is not an operator override"
        if not 1.0 <= r.duration_s <= self.max_duration_s:
            return f"duration must be 1..{self.max_duration_s:g} s"
        if r.kind == pb.COMMAND_KIND_FORCE_PHASE:
            p = int(net.tls_active_program[t])
            phases = list(net.phases(p))
            if not 0 <= r.phase_index < len(phases):
                return f"phase {r.phase_index} not in program {net.program_ids[p]} (0..{len(phases) - 1})"
            if not set(net.phase_state[phases[r.phase_index]]) & set("gG"):
                return f"phase {r.phase_index} has no green: force a green phase, clearance is automatic"
        if r.kind == pb.COMMAND_KIND_SET_PROGRAM:
            progs = [net.program_ids[p] for p in net.programs_of(t)]
            if r.program_id not in progs:
                return f"program {r.program_id!r} unknown at {r.junction_id} (known: {', '.join(progs)})"
        return ""

    def submit(self, request: OverrideRequest, now: float) -> OverrideOutcome:
        """Accept (queue the command) or refuse with the reason."""
        why = self._check(request)
        if why:
            return OverrideOutcome(False, f"rejected (stand-in checks): {why}")
        now_ns = int(now * 1e9)
        cmd = pb.SignalCommand(
            command_id=f"ovr-{int(now)}-{next(self._seq)}",
            junction_id=request.junction_id,
            kind=request.kind,  # type: ignore[arg-type]
            phase_index=request.phase_index,
            program_id=request.program_id,
            duration_s=request.duration_s,
            issued_ns=now_ns,
            expires_ns=now_ns + int(request.duration_s * 1e9),
            source=f"operator:{request.operator}",
            reason=request.reason,
        )
        self._pending.append(cmd)
        self._active = [c for c in self._active if c.expires_ns > now_ns and c.junction_id != cmd.junction_id]
        if request.kind != pb.COMMAND_KIND_RELEASE:
            self._active.append(cmd)
        return OverrideOutcome(True, "accepted (stand-in checks; controller applies clearance)", cmd, cmd.command_id)

    def take_pending(self) -> list[pb.SignalCommand]:
        """Commands accepted since the last call."""
        out, self._pending = self._pending, []
        return out

    def active(self, now: float) -> list[str]:
        """Controller ids with an override in force at ``now``."""
        now_ns = int(now * 1e9)
        self._active = [c for c in self._active if c.expires_ns > now_ns]
        return [c.junction_id for c in self._active]
