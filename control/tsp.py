"""Transit signal priority: green extension or early green for late buses, within a budget.

Buses come from BSMs (``cls == 2``, with ``bus_line`` and ``schedule_dev``) and from
``pb.PriorityRequest`` (SRM-like; an explicit ETA and lateness win over the BSM's). A bus on a
signalised approach within ``detect_range_m`` and ``max_eta_s`` of the stop line, with no bus
stop left between it and the line, asks for the green of its lane's main movement. Its ETA is
when its front reaches the stop line accelerating at ``bus_accel_mps2`` up to the speed limit
(:func:`travel_time`): a bus pulling out of a stop is slow now but not for long.

* its movement is green but the stage is planned to end before the bus arrives (+ margin):
  ``EXTEND_GREEN`` to its arrival (the stage's planned end is what the field and the command
  move), if the current stage may run that long (maximum green, maximum red of the waiting links:
  the safety window), the priority part (beyond the stage's likely end) is within
  ``max_extension_s`` and the controller's budget allows;
* its movement is red and would turn green after the bus arrives: ``EARLY_GREEN`` to the
  movement's next stage (every stage before it at its minimum), when that gains time;
* otherwise no action (it arrives on green).

A grant owns its controller (the strategy sends nothing) until the bus has passed. While it is
in force the bus's green is *held*: when the bus is slower than its ETA said and its green
would end before it arrives, the green is extended again, within the same limits and budget.

One bus at a time per controller, the latest against its schedule first; a bus earlier than
``early_threshold_s`` gets none. A controller grants at most ``budget_s_per_cycle`` seconds of
priority per cycle (its program's cycle length), counted as the time priority adds beyond the
stage's likely end (extension) or cuts from the stages before the bus's (early green). The
budget is weighted by lateness: a bus at least ``late_full_s`` late may draw all that is left,
an earlier one only what exceeds a reserve growing linearly to the whole budget at
``early_threshold_s``. Each decision is answered to the bus with a
``pb.Advisory(priority=PriorityResponse)`` (GRANTED with the action and amount, REJECTED with the
reason, COMPLETED once the bus has passed), once per change.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from control import states as st
from control.advice import advisory
from control.approach import Approaches
from control.config import TspConfig
from control.machine import SignalMachine
from control.plan import ControllerPlan
from control.spat import Prediction
from proto import pb
from roadnet import MapMatcher, RoadNetwork

F64 = npt.NDArray[np.float64]
CK = pb.CommandKind
PS = pb.PriorityStatus
BUS = 2
#: a bus that sent a BSM this recently is judged on its BSMs, not on its priority request, s
BSM_FRESH_S = 2.0
#: a green hold is extended again only when the bus's arrival has slipped by at least this, s
HOLD_STEP_S = 1.0


def travel_time(dist: F64, v0: F64, accel: float, vmax: F64) -> F64:
    """Time to cover ``dist`` from speed ``v0`` accelerating at ``accel`` up to ``vmax``.

    The law of the simulator's ``sim.engine.idm.time_to_cover`` (control may not import sim),
    with a negative speed or distance counting as 0.

    Parameters
    ----------
    dist
        (n,) distance, m (negative counts as 0).
    v0
        (n,) current speed, m/s.
    accel
        Acceleration, m/s² (> 0).
    vmax
        (n,) speed not exceeded (the speed limit; a faster vehicle keeps its speed), m/s.

    Returns
    -------
    numpy.ndarray
        (n,) s.
    """
    d = np.maximum(np.asarray(dist, dtype=np.float64), 0.0)
    v = np.maximum(np.asarray(v0, dtype=np.float64), 0.0)
    vm = np.maximum(np.maximum(np.asarray(vmax, dtype=np.float64), v), 0.1)
    d_acc = (vm * vm - v * v) / (2.0 * accel)
    t_acc = (np.sqrt(v * v + 2.0 * accel * np.minimum(d, d_acc)) - v) / accel
    out: F64 = t_acc + np.maximum(d - d_acc, 0.0) / vm
    return out


@dataclass
class BusCall:
    """A bus asking for priority at one controller this tick."""

    vehicle_id: str
    request_id: str
    tls: int
    link: int
    lane: int
    eta: float  #: absolute s
    lateness_s: float
    line: str


@dataclass
class Grant:
    """Priority in force at one controller."""

    call: BusCall
    kind: int
    amount_s: float
    until: float  #: absolute s after which the grant lapses
    target_phase: int = -1
    held_s: float = 0.0  #: green added since by holds for the same bus, s


@dataclass
class TransitPriority:
    """TSP decisions for every controller; see the module docstring."""

    net: RoadNetwork
    plans: list[ControllerPlan]
    approaches: Approaches
    matcher: MapMatcher
    cfg: TspConfig = field(default_factory=TspConfig)
    grants: dict[int, Grant] = field(default_factory=dict)
    spent: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    _answered: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    #: open priority requests by vehicle id (requests arrive once; a cancel or a lapse closes them)
    requests: dict[str, pb.PriorityRequest] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"granted": 0, "held": 0, "rejected": 0, "completed": 0})
    _seq: int = 0
    #: this tick's holds: controller -> seconds added (undone when the safety layer refuses)
    _holds: dict[int, float] = field(default_factory=dict)
    #: when each bus last sent a BSM, s; the buses reported this tick
    _bsm_seen: dict[str, float] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)
    #: the edge each bus was last called on (it has left that edge's stop behind)
    _past_stop: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ inputs
    def calls(self, now: float, vehicles: npt.NDArray[Any], requests: list[pb.PriorityRequest]) -> list[BusCall]:
        """The buses asking for priority this tick (BSMs merged with priority requests)."""
        cfg, net, ap = self.cfg, self.net, self.approaches
        out: dict[str, BusCall] = {}
        buses = vehicles[vehicles["cls"] == BUS] if len(vehicles) else vehicles
        if len(self._bsm_seen) > 4 * len(buses) + 64:
            self._bsm_seen = {v: t for v, t in self._bsm_seen.items() if now - t <= BSM_FRESH_S}
            self._past_stop = {v: e for v, e in self._past_stop.items() if v in self._bsm_seen}
        self._reported = {str(v) for v in buses["vehicle_id"].tolist()} if len(buses) else set()
        for vid in self._reported:
            self._bsm_seen[vid] = now
        if len(buses):
            mm = self.matcher.match(np.stack([buses["x"], buses["y"]], axis=1), buses["heading"])
            lane = mm.lane
            li = np.maximum(lane, 0)
            tls = np.where(lane >= 0, ap.lane_tls[li], -1)
            dist = mm.dist_to_stop
            ok = (tls >= 0) & (dist <= cfg.detect_range_m)
            # the front reaches the line: reports give the centre
            front = np.nan_to_num(dist) - 0.5 * np.asarray(buses["length"], dtype=np.float64)
            tt = travel_time(front, buses["speed"], cfg.bus_accel_mps2, net.lane_speed[li])
            for i in np.flatnonzero(ok).tolist():
                ln = int(lane[i])
                vid = str(buses["vehicle_id"][i])
                edge = int(net.lane_edge[ln])
                # once past its stop it stays past (a noisy position near the stop must not flicker)
                if self._past_stop.get(vid) != edge:
                    if self._stop_ahead(ln, float(mm.s[i])):
                        continue
                    self._past_stop[vid] = edge
                eta = now + float(tt[i])
                out[vid] = BusCall(
                    vid, f"bsm-{vid}", int(tls[i]), int(ap.lane_link[ln]), ln, eta,
                    float(buses["schedule_dev"][i]), str(buses["bus_line"][i]),
                )  # fmt: skip
        for r in requests:
            if r.cancel:
                self.requests.pop(r.vehicle_id, None)
            else:
                self.requests[r.vehicle_id] = r
        for vid, r in list(self.requests.items()):
            if r.eta_ns and r.eta_ns / 1e9 < now - cfg.max_eta_s:
                del self.requests[vid]  # lapsed: the bus never cancelled
                continue
            t = net.tls_index_of.get(r.junction_id)
            ln = net.lane_index_of.get(r.approach_lane, -1)
            if t is None or ln < 0 or int(ap.lane_tls[ln]) != t:
                continue
            prev = out.get(r.vehicle_id)
            if prev is None and now - self._bsm_seen.get(r.vehicle_id, -math.inf) <= BSM_FRESH_S:
                # the bus's own reports say it is not (yet) asking here: at a stop before the line,
                # out of range; the request's ETA was taken once and has gone stale
                continue
            if prev is not None:
                # the bus's own BSM gives a live ETA; the request adds its lateness when the BSM has none
                if prev.lateness_s == 0.0 and r.schedule_deviation_ms:
                    prev.lateness_s = r.schedule_deviation_ms / 1e3
                continue
            eta = r.eta_ns / 1e9 if r.eta_ns else math.nan
            if not math.isfinite(eta):
                continue
            out[r.vehicle_id] = BusCall(
                r.vehicle_id, r.request_id or f"srm-{r.vehicle_id}", t, int(ap.lane_link[ln]), ln, eta,
                r.schedule_deviation_ms / 1e3, r.bus_line,
            )  # fmt: skip
        return [c for c in out.values() if c.eta - now <= cfg.max_eta_s]

    def _stop_ahead(self, lane: int, s: float) -> bool:
        """A bus stop still ahead on the lane's edge (any lane: a report may match the next lane)."""
        net = self.net
        on = self._stop_edge == net.lane_edge[lane]
        return bool(np.any(on & (net.stop_end > s + 1.0)))

    @functools.cached_property
    def _stop_edge(self) -> npt.NDArray[np.int64]:
        """(S,) the edge of every bus stop."""
        return np.asarray(self.net.lane_edge[self.net.stop_lane], dtype=np.int64)

    # ------------------------------------------------------------------ budget
    def budget_left(self, t: int, now: float, cycle: float) -> float:
        """Seconds of priority controller ``t`` may still grant in the current cycle window."""
        hist = [(a, b) for a, b in self.spent.get(t, []) if now - a < cycle]
        self.spent[t] = hist
        return self.cfg.budget_s_per_cycle - sum(b for _, b in hist)

    def budget_for(self, c: BusCall, left: float) -> float:
        """Seconds of the ``left`` budget bus ``c`` may draw: all when late, less the earlier it is."""
        cfg = self.cfg
        span = cfg.late_full_s - cfg.early_threshold_s
        w = 1.0 if span <= 0 else min(max((c.lateness_s - cfg.early_threshold_s) / span, 0.0), 1.0)
        return left - (1.0 - w) * cfg.budget_s_per_cycle

    # ------------------------------------------------------------------ deciding
    def decide(
        self,
        now: float,
        calls: list[BusCall],
        machines: dict[int, SignalMachine],
        predictions: dict[int, Prediction],
        windows: dict[int, tuple[float, float]],
    ) -> tuple[list[pb.SignalCommand], list[pb.Advisory]]:
        """Commands and priority responses for this tick.

        Parameters
        ----------
        calls
            From :meth:`calls`.
        machines, predictions, windows
            Per controller showing a stage: tracked state, prediction and the safety window
            (earliest, latest end of the current stage), s.
        """
        cfg = self.cfg
        cmds: list[pb.SignalCommand] = []
        advs: list[pb.Advisory] = []
        self._holds.clear()
        by_bus = {c.vehicle_id: c for c in calls}
        # grants: completed when the bus has left the approach, lapsed after ``until``
        for t, g in list(self.grants.items()):
            vid = g.call.vehicle_id
            c = by_bus.get(vid)
            # a bus missing from this tick's reports (BSMs come slower than ticks) still holds its
            # grant; one reported elsewhere, or silent for a while, has passed
            gone = c is None and (vid in self._reported or now - self._bsm_seen.get(vid, -math.inf) > BSM_FRESH_S)
            if gone or (c is not None and c.tls != t) or now > g.until:
                del self.grants[t]
                self.counts["completed"] += 1
                why = "bus passed" if c is None or c.tls != t else "grant over"
                advs += self._answer(now, g.call, PS.PRIORITY_STATUS_COMPLETED, g.kind, g.amount_s, why)
        per_tls: dict[int, list[BusCall]] = {}
        for c in calls:
            per_tls.setdefault(c.tls, []).append(c)
        for t, cs in per_tls.items():
            held = self.grants.get(t)
            if held is not None:
                m = machines.get(t)
                c = by_bus.get(held.call.vehicle_id)
                if c is not None and m is not None and t in windows:
                    cmd, adv = self._hold(now, c, held, m, windows[t])
                    if cmd is not None:
                        cmds.append(cmd)
                    advs += adv
                continue
            cs.sort(key=lambda c: -c.lateness_s)
            for c in cs:
                if c.lateness_s < cfg.early_threshold_s:
                    advs += self._answer(
                        now, c, PS.PRIORITY_STATUS_REJECTED, 0, 0.0, f"{-c.lateness_s:.0f} s ahead of schedule"
                    )
            eligible = [c for c in cs if c.lateness_s >= cfg.early_threshold_s]
            m, pred = machines.get(t), predictions.get(t)
            if not eligible or m is None or pred is None or t not in windows:
                continue
            c = eligible[0]
            cmd, adv = self._decide_one(now, c, m, pred, windows[t])
            if cmd is not None:
                cmds.append(cmd)
            advs += adv
        return cmds, advs

    def _decide_one(
        self, now: float, c: BusCall, m: SignalMachine, pred: Prediction, window: tuple[float, float]
    ) -> tuple[pb.SignalCommand | None, list[pb.Advisory]]:
        cfg = self.cfg
        plan = self.plans[c.tls]
        pp = plan.program(m.program)
        cycle = float(pp.duration.sum())
        left = self.budget_for(c, self.budget_left(c.tls, now, cycle))
        s_like, e_like, _, _ = pred.windows(c.link, 2)
        arrive = c.eta + cfg.margin_s
        green_now = bool(st.GREENISH[st.codes(m.chars)][c.link])
        if green_now:
            # the command moves the planned end (the strategy's current intent, which the field
            # runs); priority is what the stage gets beyond its likely end
            planned = m.phase_end if math.isfinite(m.phase_end) else window[1]
            if planned >= arrive:
                return None, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, 0, 0.0, "arrives on green")
            if not pp.flexible[m.phase]:
                return None, self._deny(now, c, "the green cannot be extended in this phase")
            need = arrive - planned
            likely = float(e_like[0]) if math.isfinite(e_like[0]) else planned
            cost = max(arrive - max(likely, planned), 0.0)
            room = window[1] - planned
            if need > room or cost > cfg.max_extension_s:
                # it misses this green whatever: end it now so that its next one comes sooner
                early = self._early_return(now, c, m, pred, window, left)
                if early is not None:
                    return early
                possible = max(min(room, cfg.max_extension_s), 0.0)
                return None, self._deny(
                    now, c, f"needs {need:.1f} s, beyond max green / max red ({possible:.1f} s possible)"
                )
            if cost > left:
                return None, self._deny(now, c, f"needs {cost:.1f} s, budget spent ({max(left, 0.0):.1f} s possible)")
            cmd = self._command(now, c, CK.COMMAND_KIND_EXTEND_GREEN, need, -1)
            self._grant(now, c, CK.COMMAND_KIND_EXTEND_GREEN, need, arrive + 5.0, cost=cost)
            return cmd, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, CK.COMMAND_KIND_EXTEND_GREEN, need, "extended")
        # a bus braking for the red loses time even when the green comes before it stops: its
        # green should start ``green_lead_s`` before it arrives
        due = c.eta - cfg.green_lead_s
        if not math.isfinite(s_like[0]) or s_like[0] <= due:
            return None, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, 0, 0.0, "arrives on green")
        target = self._target_phase(pp, m.phase, c.link)
        if target < 0:
            return None, self._deny(now, c, "no stage serves the bus's movement")
        gain = self._gain(pp, m, pred, window, target)
        if gain < 1.0:
            return None, self._deny(now, c, "stages before its green are at their minimum")
        gain = min(gain, float(s_like[0]) - due)
        if gain > left:
            return None, self._deny(now, c, f"budget spent ({max(left, 0.0):.1f} s left this cycle)")
        cmd = self._command(now, c, CK.COMMAND_KIND_EARLY_GREEN, gain, target)
        self._grant(now, c, CK.COMMAND_KIND_EARLY_GREEN, gain, max(c.eta, float(s_like[0])) + 10.0, target)
        return cmd, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, CK.COMMAND_KIND_EARLY_GREEN, gain, "early green")

    def _early_return(
        self, now: float, c: BusCall, m: SignalMachine, pred: Prediction, window: tuple[float, float], left: float
    ) -> tuple[pb.SignalCommand | None, list[pb.Advisory]] | None:
        """End the bus's green now when it cannot pass in it, so that the stages between run early.

        Worth it when the bus's next green then starts at least a second earlier than after the
        stage's likely end (the stages between at their minimum either way: the early green that
        follows); the budget must cover this cut and the one of the stages between.
        """
        cfg = self.cfg
        pp = self.plans[c.tls].program(m.program)
        likely = float(pred.end_likely[0])
        cut = likely - window[0]
        between = 0.0  # from the stage's end to the bus's next green, the stages between at minimum
        spare = 0.0  # what the stages between have beyond their minimum (the early green's cut)
        for i in range(1, len(pred.phases)):
            h = int(pred.phases[i])
            if pp.green[h][c.link]:
                break
            dur = float(pred.end_likely[i] - pred.end_likely[i - 1])
            low = float(pp.eff_min[h]) if pp.flexible[h] else dur
            between += low
            spare += max(dur - low, 0.0)
        else:
            return None
        due = c.eta - cfg.green_lead_s
        gain = max(likely + between, due) - max(window[0] + between, due)
        if gain < 1.0 or cut + spare > left:
            return None
        cmd = self._command(
            now,
            c,
            CK.COMMAND_KIND_SET_DURATION,
            max(window[0] - now, 0.1),
            m.phase,
            program_id=pp.program_id,
            expires=window[0] + cfg.expiry_s,
            note=": early return",
        )
        # the grant keeps the strategy off until the stage has ended; the early green follows
        self._grant(now, c, CK.COMMAND_KIND_SET_DURATION, cut, window[0] + 0.5)
        return cmd, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, CK.COMMAND_KIND_SET_DURATION, cut, "early return")

    def _hold(
        self, now: float, c: BusCall, g: Grant, m: SignalMachine, window: tuple[float, float]
    ) -> tuple[pb.SignalCommand | None, list[pb.Advisory]]:
        """Keep a granted bus's green until it arrives: extend again when it is slower than said."""
        cfg = self.cfg
        pp = self.plans[c.tls].program(m.program)
        if g.kind == CK.COMMAND_KIND_SET_DURATION:
            return None, []  # an early return: the green ends on purpose
        if not (pp.flexible[m.phase] and st.GREENISH[st.codes(m.chars)][c.link]) or not math.isfinite(m.phase_end):
            return None, []
        arrive = c.eta + cfg.margin_s
        need = arrive - m.phase_end
        if need < HOLD_STEP_S:
            return None, []
        left = self.budget_for(c, self.budget_left(c.tls, now, float(pp.duration.sum())))
        if need > min(window[1] - m.phase_end, cfg.max_extension_s - g.held_s, left):
            return None, []
        g.held_s += need
        g.until = max(g.until, arrive + 5.0)
        self.spent.setdefault(c.tls, []).append((now, need))
        self.counts["held"] += 1
        self._holds[c.tls] = need
        cmd = self._command(now, c, CK.COMMAND_KIND_EXTEND_GREEN, need, -1)
        return cmd, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, CK.COMMAND_KIND_EXTEND_GREEN, need, "green held")

    @staticmethod
    def _target_phase(pp: Any, h: int, link: int) -> int:
        n = pp.n_phases
        for i in range(1, n + 1):
            j = (h + i) % n
            if pp.resumable[j] and pp.drive[j][link]:
                return int(j)
        return -1

    @staticmethod
    def _gain(pp: Any, m: SignalMachine, pred: Prediction, window: tuple[float, float], target: int) -> float:
        """Seconds an early green to ``target`` saves: every stage before it cut to its minimum."""
        gain = 0.0
        for i, h in enumerate(pred.phases.tolist()):
            if h == target and i > 0:
                break
            if not pp.flexible[h]:
                continue
            if i == 0:
                gain += max(float(pred.end_likely[0]) - window[0], 0.0)
            else:
                gain += float(pred.end_likely[i] - pred.end_likely[i - 1]) - float(pp.eff_min[h])
        return gain

    def revoke(self, t: int, now: float, why: str) -> list[pb.Advisory]:
        """Undo this tick's grant at controller ``t`` (its command was not sent); tell the bus."""
        held = self._holds.pop(t, None)
        g = self.grants.get(t) if held is not None else self.grants.pop(t, None)
        if g is None:
            return []
        hist = self.spent.get(t, [])
        if hist:
            hist.pop()
        if held is not None:
            # a hold the layer refused: the grant stays as it was
            g.held_s -= held
            self.counts["held"] -= 1
            return []
        self.counts["granted"] -= 1
        return self._deny(now, g.call, why)

    def _grant(
        self, now: float, c: BusCall, kind: int, amount: float, until: float, target: int = -1, *, cost: float = -1.0
    ) -> None:
        """Record a grant; ``cost`` (default: ``amount``) is what it draws from the budget, s."""
        self.grants[c.tls] = Grant(c, kind, amount, until, target)
        self.spent.setdefault(c.tls, []).append((now, amount if cost < 0 else cost))
        self.counts["granted"] += 1

    def _command(
        self,
        now: float,
        c: BusCall,
        kind: int,
        amount: float,
        target: int,
        *,
        program_id: str = "",
        expires: float | None = None,
        note: str = "",
    ) -> pb.SignalCommand:
        """A command for bus ``c``; it expires at ``expires`` (absolute s; default: after ``amount`` and the expiry)."""
        self._seq += 1
        return pb.SignalCommand(
            command_id=f"tsp-{self._seq}",
            junction_id=self.plans[c.tls].tls_id,
            kind=kind,  # type: ignore[arg-type]
            phase_index=max(target, 0),
            program_id=program_id,
            duration_s=float(amount),
            issued_ns=round(now * 1e9),
            expires_ns=round((now + self.cfg.expiry_s + amount if expires is None else expires) * 1e9),
            source="tsp",
            reason=f"bus {c.vehicle_id} line {c.line or '-'} {c.lateness_s:+.0f} s vs schedule{note}",
        )

    def _deny(self, now: float, c: BusCall, why: str) -> list[pb.Advisory]:
        return self._answer(now, c, PS.PRIORITY_STATUS_REJECTED, 0, 0.0, why)

    def _answer(self, now: float, c: BusCall, status: int, action: int, amount: float, why: str) -> list[pb.Advisory]:
        key = (c.vehicle_id, c.tls)
        if self._answered.get(key) == (status, action):
            return []
        self._answered[key] = (status, action)
        if status == PS.PRIORITY_STATUS_REJECTED:
            self.counts["rejected"] += 1
        self._seq += 1
        now_ns = round(now * 1e9)
        return [
            advisory(
                f"tsp-{self._seq}",
                c.vehicle_id,
                now_ns,
                self.cfg.expiry_s,
                priority=pb.PriorityResponse(
                    request_id=c.request_id,
                    junction_id=self.plans[c.tls].tls_id,
                    status=status,  # type: ignore[arg-type]
                    action=action,  # type: ignore[arg-type]
                    amount_s=float(amount),
                    reason=why,
                ),
            )
        ]
