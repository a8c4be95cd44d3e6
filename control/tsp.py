"""Transit signal priority: green extension or early green for late buses, within a budget.

Buses come from BSMs (``cls == 2``, with ``bus_line`` and ``schedule_dev``) and from
``pb.PriorityRequest`` (SRM-like; an explicit ETA and lateness win over the BSM's). A bus on a
signalised approach within ``detect_range_m`` and ``max_eta_s`` of the stop line, with no bus
stop left between it and the line, asks for the green of its lane's main movement:

* its movement is green but the green is predicted to end before the bus arrives (+ margin):
  ``EXTEND_GREEN`` by the shortfall, if the current stage may run that long (maximum green,
  maximum red of the waiting links: the safety window), the shortfall is within
  ``max_extension_s`` and the controller's budget allows;
* its movement is red and would turn green after the bus arrives: ``EARLY_GREEN`` to the
  movement's next stage (every stage before it at its minimum), when that gains time;
* otherwise no action (it arrives on green).

One bus at a time per controller, the latest against its schedule first; a bus earlier than
``early_threshold_s`` gets none. A controller grants at most ``budget_s_per_cycle`` seconds of
priority per cycle (its program's cycle length). Each decision is answered to the bus with a
``pb.Advisory(priority=PriorityResponse)`` (GRANTED with the action and amount, REJECTED with the
reason, COMPLETED once the bus has passed), once per change.
"""

from __future__ import annotations

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
#: slowest speed assumed for a bus's ETA, m/s (a queued bus still moves up)
ETA_MIN_SPEED = 3.0


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
    counts: dict[str, int] = field(default_factory=lambda: {"granted": 0, "rejected": 0, "completed": 0})
    _seq: int = 0

    # ------------------------------------------------------------------ inputs
    def calls(self, now: float, vehicles: npt.NDArray[Any], requests: list[pb.PriorityRequest]) -> list[BusCall]:
        """The buses asking for priority this tick (BSMs merged with priority requests)."""
        cfg, net, ap = self.cfg, self.net, self.approaches
        out: dict[str, BusCall] = {}
        buses = vehicles[vehicles["cls"] == BUS] if len(vehicles) else vehicles
        if len(buses):
            mm = self.matcher.match(np.stack([buses["x"], buses["y"]], axis=1), buses["heading"])
            lane = mm.lane
            li = np.maximum(lane, 0)
            tls = np.where(lane >= 0, ap.lane_tls[li], -1)
            dist = mm.dist_to_stop
            ok = (tls >= 0) & (dist <= cfg.detect_range_m)
            for i in np.flatnonzero(ok).tolist():
                ln = int(lane[i])
                if self._stop_ahead(ln, float(mm.s[i])):
                    continue
                eta = now + float(dist[i]) / max(float(buses["speed"][i]), ETA_MIN_SPEED)
                vid = str(buses["vehicle_id"][i])
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
        net = self.net
        on = net.stop_lane == lane
        return bool(np.any(on & (net.stop_end > s + 1.0)))

    # ------------------------------------------------------------------ budget
    def budget_left(self, t: int, now: float, cycle: float) -> float:
        """Seconds of priority controller ``t`` may still grant in the current cycle window."""
        hist = [(a, b) for a, b in self.spent.get(t, []) if now - a < cycle]
        self.spent[t] = hist
        return self.cfg.budget_s_per_cycle - sum(b for _, b in hist)

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
        by_bus = {c.vehicle_id: c for c in calls}
        # grants: completed when the bus has left the approach, lapsed after ``until``
        for t, g in list(self.grants.items()):
            c = by_bus.get(g.call.vehicle_id)
            if c is None or c.tls != t or now > g.until:
                del self.grants[t]
                self.counts["completed"] += 1
                advs += self._answer(now, g.call, PS.PRIORITY_STATUS_COMPLETED, g.kind, g.amount_s, "bus passed")
        per_tls: dict[int, list[BusCall]] = {}
        for c in calls:
            per_tls.setdefault(c.tls, []).append(c)
        for t, cs in per_tls.items():
            if t in self.grants:
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
        left = self.budget_left(c.tls, now, cycle)
        s_like, e_like, _, _ = pred.windows(c.link, 2)
        arrive = c.eta + cfg.margin_s
        green_now = bool(st.GREENISH[st.codes(m.chars)][c.link])
        if green_now:
            if not math.isfinite(e_like[0]) or e_like[0] >= arrive:
                return None, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, 0, 0.0, "arrives on green")
            need = arrive - float(e_like[0])
            if not pp.flexible[m.phase]:
                return None, self._deny(now, c, "the green cannot be extended in this phase")
            planned = m.phase_end if math.isfinite(m.phase_end) else window[1]
            room = window[1] - planned
            limit = min(cfg.max_extension_s, room, left)
            if need > limit:
                why = "budget spent" if left < need <= min(cfg.max_extension_s, room) else "beyond max green / max red"
                return None, self._deny(now, c, f"needs {need:.1f} s, {why} ({max(limit, 0.0):.1f} s possible)")
            cmd = self._command(now, c, CK.COMMAND_KIND_EXTEND_GREEN, need, -1)
            self._grant(now, c, CK.COMMAND_KIND_EXTEND_GREEN, need, arrive + 5.0)
            return cmd, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, CK.COMMAND_KIND_EXTEND_GREEN, need, "extended")
        if not math.isfinite(s_like[0]) or s_like[0] <= c.eta:
            return None, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, 0, 0.0, "arrives on green")
        target = self._target_phase(pp, m.phase, c.link)
        if target < 0:
            return None, self._deny(now, c, "no stage serves the bus's movement")
        gain = self._gain(pp, m, pred, window, target)
        if gain < 1.0:
            return None, self._deny(now, c, "stages before its green are at their minimum")
        gain = min(gain, float(s_like[0]) - c.eta + cfg.margin_s)
        if gain > left:
            return None, self._deny(now, c, f"budget spent ({max(left, 0.0):.1f} s left this cycle)")
        cmd = self._command(now, c, CK.COMMAND_KIND_EARLY_GREEN, gain, target)
        self._grant(now, c, CK.COMMAND_KIND_EARLY_GREEN, gain, max(c.eta, float(s_like[0])) + 10.0, target)
        return cmd, self._answer(now, c, PS.PRIORITY_STATUS_GRANTED, CK.COMMAND_KIND_EARLY_GREEN, gain, "early green")

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
        g = self.grants.pop(t, None)
        if g is None:
            return []
        hist = self.spent.get(t, [])
        if hist:
            hist.pop()
        self.counts["granted"] -= 1
        return self._deny(now, g.call, why)

    def _grant(self, now: float, c: BusCall, kind: int, amount: float, until: float, target: int = -1) -> None:
        self.grants[c.tls] = Grant(c, kind, amount, until, target)
        self.spent.setdefault(c.tls, []).append((now, amount))
        self.counts["granted"] += 1

    def _command(self, now: float, c: BusCall, kind: int, amount: float, target: int) -> pb.SignalCommand:
        self._seq += 1
        return pb.SignalCommand(
            command_id=f"tsp-{self._seq}",
            junction_id=self.plans[c.tls].tls_id,
            kind=kind,  # type: ignore[arg-type]
            phase_index=max(target, 0),
            duration_s=float(amount),
            issued_ns=round(now * 1e9),
            expires_ns=round((now + self.cfg.expiry_s + amount) * 1e9),
            source="tsp",
            reason=f"bus {c.vehicle_id} line {c.line or '-'} {c.lateness_s:+.0f} s vs schedule",
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
