"""Virtual onboard units on the connected vehicles (``truth["connected"]``).

They send a BSM at ``rate_hz`` (10 Hz; lock-step: :data:`proto.arrays.VEHICLE_REPORT_DTYPE`
rows; real time: :class:`pb.Bsm` messages built from them), a bus may ask for signal priority
(:class:`pb.PriorityRequest`) when it approaches a signalised stop line and cancels when it has
passed, and they act on advisories with a per-vehicle compliance draw (seeded, fixed for the
vehicle's whole trip):

- :class:`pb.SpeedAdvice` -> ``engine.set_speed_advice`` until the advisory expires;
- :class:`pb.RouteAdvice` -> ``engine.set_route``;
- priority responses, hazard warnings and parking guidance are recorded.

Vehicles that received GLOSA speed advice are tagged ``glosa_compliant`` or
``glosa_noncompliant`` (:attr:`Obus.groups`) for the KPIs' per-group stops and delay.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from proto import pb
from proto.arrays import VEHICLE_REPORT_DTYPE
from proto.units import speed_from_002
from roadnet import classes
from roadnet.model import RoadNetwork
from sim.devices.vehicles import VehicleIndex, wire_id

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

GLOSA_COMPLIANT: Final = "glosa_compliant"
GLOSA_NONCOMPLIANT: Final = "glosa_noncompliant"


class Advisable(Protocol):
    """What the OBUs need from the traffic engine."""

    def set_speed_advice(self, vehicle_ids: npt.NDArray[np.str_], speed_mps: F64, until_t: F64) -> Any:
        """Cap the speed of ``vehicle_ids`` (N,) at ``speed_mps`` (N,) until simulated ``until_t`` (N,) s."""
        ...

    def set_route(self, vehicle_id: str, edge_ids: Sequence[str]) -> bool:
        """Re-route one vehicle over ``edge_ids`` (from its current edge); False when impossible."""
        ...


@dataclass(frozen=True)
class ObuParams:
    """OBU behaviour: BSM rate (Hz), GNSS noise (m), compliance with advice (0..1), priority requests."""

    rate_hz: float = 10.0
    gps_sigma_m: float = 0.5
    compliance: float = 0.8
    priority_requests: bool = True
    priority_range_m: float = 150.0

    def check(self, where: str) -> list[str]:
        """Problems with these values, each naming ``where`` and the key."""
        out = []
        if not self.rate_hz > 0:
            out.append(f"{where} bsm_rate_hz must be > 0")
        if not self.gps_sigma_m >= 0:
            out.append(f"{where} gps_sigma_m must be >= 0")
        if not 0 <= self.compliance <= 1:
            out.append(f"{where} compliance must be between 0 and 1")
        if not self.priority_range_m > 0:
            out.append(f"{where} priority_range_m must be > 0")
        return out


@dataclass(frozen=True)
class AdvisoryResult:
    """What one OBU did with one advisory."""

    t: float  #: simulated time, s
    advisory_id: str
    vehicle_id: str
    kind: str  #: speed, route, priority, hazard, parking
    applied: bool
    reason: str


class Obus:
    """The OBUs of all connected vehicles.

    Parameters
    ----------
    net
        The road network (for priority requests: approaches of signalised junctions).
    index
        The run's vehicle index (stable codes and per-vehicle draws).
    epoch_ns
        Unix time of simulated time 0, ns.
    params
        BSM rate, GNSS noise, compliance, priority requests.
    seed
        Seeds the GNSS noise.
    """

    def __init__(
        self,
        net: RoadNetwork,
        index: VehicleIndex,
        *,
        epoch_ns: int,
        params: ObuParams | None = None,
        seed: int = 0,
    ) -> None:
        self.net = net
        self.index = index
        self.epoch_ns = int(epoch_ns)
        self.params = params or ObuParams()
        self._rng = np.random.default_rng([seed, 0x0B1])
        self._next_bsm = -np.inf
        self._next_prio = -np.inf
        # per vehicle code: connected and present at the last observation
        self._present: B = np.zeros(0, dtype=np.bool_)
        self._wire_to_id: dict[str, str] = {}
        tls_of_j = np.full(len(net.junction_ids), -1, dtype=np.int64)
        for t in range(len(net.tls_ids)):
            tls_of_j[net.tls_junction_list(t)] = t
        self._lane_tls = np.where(net.lane_end_junction >= 0, tls_of_j[np.maximum(net.lane_end_junction, 0)], -1)
        self._lane_tls[net.lane_internal] = -1
        #: active priority requests: vehicle id -> (controller index, request id)
        self.priority_active: dict[str, tuple[int, str]] = {}
        self._req_serial = 0
        #: vehicle id -> GLOSA group tag, for the KPIs
        self.groups: dict[str, str] = {}
        #: recent advisory outcomes (bounded) and counts per (kind, applied)
        self.results: deque[AdvisoryResult] = deque(maxlen=10_000)
        self.counts: Counter[str] = Counter()
        self.priority_log: deque[tuple[float, str, pb.PriorityResponse]] = deque(maxlen=10_000)
        self.hazards: deque[tuple[float, str, pb.HazardWarning]] = deque(maxlen=10_000)
        self.bsm_sent = 0
        self._ever: B = np.zeros(0, dtype=np.bool_)

    # ------------------------------------------------------------------ uplink
    def compliant(self, codes: I64) -> B:
        """(N,) True for vehicles (by code) that follow advice."""
        out: B = self.index.u[codes] < self.params.compliance
        return out

    def observe(self, t: float, truth: npt.NDArray[np.void], codes: I64) -> npt.NDArray[np.void]:
        """The BSMs due at simulated time ``t``, as (M,) :data:`VEHICLE_REPORT_DTYPE` rows.

        Also remembers which vehicles are connected and present (for advisories).
        """
        conn = truth["connected"].astype(np.bool_)
        present = np.zeros(len(self.index), dtype=np.bool_)
        present[codes[conn]] = True
        self._present = present
        if len(self._ever) < len(present):
            self._ever = np.concatenate([self._ever, np.zeros(len(present) - len(self._ever), dtype=np.bool_)])
        self._ever |= present
        if t + 1e-9 < self._next_bsm:
            return np.zeros(0, dtype=VEHICLE_REPORT_DTYPE)
        period = 1.0 / self.params.rate_hz
        self._next_bsm = max(self._next_bsm + period, t + period - 1e-6) if np.isfinite(self._next_bsm) else t + period
        tr = truth[conn]
        n = len(tr)
        rep = np.zeros(n, dtype=VEHICLE_REPORT_DTYPE)
        rep["vehicle_id"] = tr["vehicle_id"]
        rep["t"] = self.epoch_ns / 1e9 + t
        sig = self.params.gps_sigma_m
        rep["x"] = tr["x"] + (self._rng.normal(0.0, sig, n) if sig > 0 else 0.0)
        rep["y"] = tr["y"] + (self._rng.normal(0.0, sig, n) if sig > 0 else 0.0)
        for c in ("vx", "vy", "speed", "heading", "accel", "length", "width", "cls", "bus_line", "schedule_dev"):
            rep[c] = tr[c]
        self.bsm_sent += n
        return rep

    def priority_requests(self, t: float, truth: npt.NDArray[np.void]) -> list[pb.PriorityRequest]:
        """Requests (and cancellations) of connected buses near signalised stop lines, at 1 Hz."""
        if not self.params.priority_requests or t + 1e-9 < self._next_prio:
            return []
        self._next_prio = t + 1.0
        lane = truth["lane"]
        ok = (truth["cls"] == classes.BUS) & truth["connected"] & (lane >= 0)
        lane_c = np.where(ok, lane, 0)
        tls = np.where(ok, self._lane_tls[lane_c], -1)
        dist = self.net.lane_length[lane_c] - truth["s"]
        near = (tls >= 0) & (dist <= self.params.priority_range_m) & (dist >= 0)
        out: list[pb.PriorityRequest] = []
        now_ns = self.epoch_ns + round(t * 1e9)
        approaching: dict[str, int] = {}
        for k in np.flatnonzero(near).tolist():  # buses on an approach only
            vid = str(truth["vehicle_id"][k])
            tl = int(tls[k])
            approaching[vid] = tl
            act = self.priority_active.get(vid)
            if act is not None and act[0] == tl:
                continue
            if act is not None:
                out.append(self._request(vid, act[0], act[1], now_ns, cancel=True))
            self._req_serial += 1
            rid = f"{wire_id(vid)}-{self._req_serial}"
            self.priority_active[vid] = (tl, rid)
            eta = now_ns + round(float(dist[k]) / max(float(truth["speed"][k]), 1.0) * 1e9)
            req = self._request(vid, tl, rid, eta, cancel=False)
            req.approach_lane = self.net.lane_ids[int(lane[k])]
            req.schedule_deviation_ms = round(float(truth["schedule_dev"][k]) * 1000.0)
            req.bus_line = str(truth["bus_line"][k])
            out.append(req)
        for vid in [v for v in self.priority_active if v not in approaching]:
            tl, rid = self.priority_active.pop(vid)
            out.append(self._request(vid, tl, rid, now_ns, cancel=True))
        return out

    def _request(self, vid: str, tl: int, rid: str, eta_ns: int, *, cancel: bool) -> pb.PriorityRequest:
        return pb.PriorityRequest(
            request_id=rid,
            vehicle_id=wire_id(vid),
            junction_id=self.net.tls_ids[tl],
            eta_ns=eta_ns,
            cancel=cancel,
        )

    # ------------------------------------------------------------------ downlink
    def resolve(self, wire: str) -> str:
        """The vehicle id behind a wire id (they differ only for ids with ``/ + #`` or spaces)."""
        return self._wire_to_id.get(wire, wire)

    def note_ids(self, ids: npt.NDArray[np.str_]) -> None:
        """Remember the wire ids of ``ids`` that differ from the ids (call for new vehicles)."""
        for v in ids.tolist():
            w = wire_id(v)
            if w != v:
                self._wire_to_id[w] = v

    def apply(self, t: float, advisories: Sequence[pb.Advisory], engine: Advisable) -> list[AdvisoryResult]:
        """Act on the advisories received at simulated time ``t``.

        Advisories to vehicles that are not connected and present, or already expired, are
        ignored (recorded with the reason). Speed advice goes to the engine in one batch.
        """
        if not advisories:
            return []
        now_ns = self.epoch_ns + round(t * 1e9)
        ids = np.array([self.resolve(a.vehicle_id) for a in advisories], dtype="<U40")
        codes = self.index.codes(ids)
        present = np.zeros(len(ids), dtype=np.bool_)
        inside = codes < len(self._present)
        present[inside] = self._present[codes[inside]]
        comply = self.compliant(codes)
        out: list[AdvisoryResult] = []
        sp_ids: list[str] = []
        sp_v: list[float] = []
        sp_until: list[float] = []
        for k, adv in enumerate(advisories):
            kind = adv.WhichOneof("kind") or "none"
            vid = str(ids[k])
            if not present[k]:
                out.append(AdvisoryResult(t, adv.advisory_id, vid, kind, False, "vehicle not connected or not present"))
                continue
            if adv.expires_ns and adv.expires_ns <= now_ns:
                out.append(AdvisoryResult(t, adv.advisory_id, vid, kind, False, "expired on arrival"))
                continue
            ok = bool(comply[k])
            if kind == "speed":
                self.groups[vid] = GLOSA_COMPLIANT if ok else GLOSA_NONCOMPLIANT
                if ok:
                    sp_ids.append(vid)
                    sp_v.append(float(speed_from_002(adv.speed.speed_002)))
                    until = (adv.expires_ns - self.epoch_ns) / 1e9 if adv.expires_ns else t + 10.0
                    sp_until.append(until)
                out.append(AdvisoryResult(t, adv.advisory_id, vid, kind, ok, "" if ok else "driver did not comply"))
            elif kind == "route":
                if ok:
                    done = bool(engine.set_route(vid, list(adv.route.edge_ids)))
                    out.append(
                        AdvisoryResult(t, adv.advisory_id, vid, kind, done, "" if done else "route not drivable")
                    )
                else:
                    out.append(AdvisoryResult(t, adv.advisory_id, vid, kind, False, "driver did not comply"))
            elif kind == "priority":
                self.priority_log.append((t, vid, adv.priority))
                out.append(
                    AdvisoryResult(t, adv.advisory_id, vid, kind, True, pb.PriorityStatus.Name(adv.priority.status))
                )
            elif kind == "hazard":
                self.hazards.append((t, vid, adv.hazard))
                out.append(AdvisoryResult(t, adv.advisory_id, vid, kind, True, "recorded"))
            elif kind == "parking":
                out.append(AdvisoryResult(t, adv.advisory_id, vid, kind, True, "recorded"))
            else:
                out.append(AdvisoryResult(t, adv.advisory_id, vid, kind, False, "advisory without a body"))
        if sp_ids:
            engine.set_speed_advice(np.array(sp_ids, dtype="<U40"), np.array(sp_v), np.array(sp_until))
        for r in out:
            self.counts[f"{r.kind}_{'applied' if r.applied else 'ignored'}"] += 1
        self.results.extend(out)
        return out

    def summary(self) -> dict[str, Any]:
        """Counts for reports."""
        return {
            "connected_vehicles": int(self._ever.sum()),
            "bsm_sent": self.bsm_sent,
            "advisories": dict(sorted(self.counts.items())),
            "glosa_compliant": sum(1 for g in self.groups.values() if g == GLOSA_COMPLIANT),
            "glosa_noncompliant": sum(1 for g in self.groups.values() if g == GLOSA_NONCOMPLIANT),
        }
