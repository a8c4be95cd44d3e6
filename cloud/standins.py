"""Minimal picture, control and override stand-ins, used only while fusion's picture and
``control`` have not landed (:func:`cloud.wiring.build_core` prefers the real ones).

They keep the process honest end to end (lane states, a GLOSA-style speed advisory per connected
vehicle on a signalised approach, operator overrides with basic checks) without pretending to be
the real stages: every outcome they produce says ``stand-in``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from cloud.contracts import OverrideOutcome, OverrideRequest, Picture, StructArray
from cloud.signalmap import GO_STATES, SignalMap
from proto import empty_lane_states, pb, units
from roadnet.matching import MapMatcher
from roadnet.model import RoadNetwork

HALT_MPS = 0.5
#: A vehicle halted this long away from a stop line is reported as a stopped vehicle.
STOPPED_AFTER_S = 30.0


class StandinPictureBuilder:
    """Map-matches tracks and computes lane counts, queues, speeds, occupancy and stopped vehicles.

    Parameters
    ----------
    net
        The road network.
    """

    def __init__(self, net: RoadNetwork) -> None:
        self.net = net
        self.matcher = MapMatcher(net, radius=8.0)
        self._halt_ids = np.zeros(0, np.int64)
        self._halt_since = np.zeros(0)

    def build(
        self,
        t: float,
        tracks: StructArray,
        signals: Mapping[str, pb.Spat],
        parking: Mapping[str, pb.ParkingStatus],
    ) -> Picture:
        """The picture of ``tracks`` at ``t``; see :class:`cloud.contracts.Picture`."""
        net = self.net
        n_l = len(net.lane_ids)
        lanes = empty_lane_states(n_l)
        if len(tracks):
            xy = np.stack([tracks["x"], tracks["y"]], axis=1)
            m = self.matcher.match(xy, np.arctan2(tracks["vy"], tracks["vx"]))
            lane, stop = m.lane, m.dist_to_stop
        else:
            lane, stop = np.zeros(0, np.int64), np.zeros(0)
        speed = np.hypot(tracks["vx"], tracks["vy"]) if len(tracks) else np.zeros(0)
        on = lane >= 0
        li = lane[on]
        lanes["count"] = np.bincount(li, minlength=n_l)
        halted = speed[on] < HALT_MPS
        lanes["halting"] = np.bincount(li, weights=halted, minlength=n_l).astype(np.int32)
        ssum = np.bincount(li, weights=speed[on], minlength=n_l)
        with np.errstate(invalid="ignore", divide="ignore"):
            lanes["mean_speed"] = np.where(lanes["count"] > 0, ssum / lanes["count"], np.nan)
            occ = np.bincount(li, weights=tracks["length"][on].astype(np.float64), minlength=n_l)
            lanes["occupancy"] = np.clip(occ / np.maximum(net.lane_length, 1.0), 0.0, 1.0)
            lanes["density"] = lanes["count"] / np.maximum(net.lane_length, 1.0)
        qd = np.where(halted & np.isfinite(stop[on]), stop[on], -np.inf)
        q = np.full(n_l, -np.inf)
        np.maximum.at(q, li, qd)
        lanes["queue_m"] = np.where(np.isfinite(q), q, 0.0)
        lanes["queue_veh"] = lanes["halting"]
        events = self._stopped(t, tracks, speed, stop)
        return Picture(t, tracks, lane, stop, lanes, events, dict(signals), dict(parking))

    def _stopped(self, t: float, tracks: StructArray, speed: np.ndarray, stop: np.ndarray) -> list[pb.Event]:
        ids = tracks["track_id"].astype(np.int64) if len(tracks) else np.zeros(0, np.int64)
        halted = (speed < HALT_MPS) & ~(stop < 60.0)
        hid = ids[halted]
        if len(self._halt_ids):
            pos = np.minimum(np.searchsorted(self._halt_ids, hid), len(self._halt_ids) - 1)
            since = np.where(self._halt_ids[pos] == hid, self._halt_since[pos], t)
        else:
            since = np.full(len(hid), t)
        order = np.argsort(hid)
        self._halt_ids, self._halt_since = hid[order], since[order]
        long = (t - since) >= STOPPED_AFTER_S
        rows = np.flatnonzero(halted)[long]
        if len(rows) == 0:
            return []
        lat, lon = self.net.frame.to_wgs84(tracks["x"][rows], tracks["y"][rows])
        return [
            pb.Event(
                event_id=f"stopped-{int(ids[r])}",
                kind=pb.EVENT_KIND_STOPPED_VEHICLE,
                severity=3,
                start_ns=int(s * 1e9),
                lat_e7=int(units.deg_to_e7(la)),
                lon_e7=int(units.deg_to_e7(lo)),
                track_id=int(ids[r]),
                description="vehicle stopped away from a stop line",
            )
            for r, s, la, lo in zip(rows.tolist(), since[long].tolist(), lat.tolist(), lon.tolist(), strict=True)
        ]


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
        return OverrideOutcome(True, "accepted (stand-in checks; controller applies clearance)", cmd)

    def take_pending(self) -> list[pb.SignalCommand]:
        """Commands accepted since the last call."""
        out, self._pending = self._pending, []
        return out

    def active(self, now: float) -> list[pb.SignalCommand]:
        """Overrides whose expiry is after ``now``."""
        now_ns = int(now * 1e9)
        self._active = [c for c in self._active if c.expires_ns > now_ns]
        return list(self._active)
