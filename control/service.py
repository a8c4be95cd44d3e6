"""The control facade: one object that decides every tick for the whole map.

:class:`ControlService` is built from the map and a :class:`~control.config.ControlConfig`
(strategy per controller, TSP, GLOSA, routing) and answers
``decide(now, picture, spat, priority_requests) -> (commands, advisories)``:

1. track every controller from its SPaT (:class:`~control.tracker.SignalTracker`);
2. operator overrides due this tick (they own their controller while in force);
3. transit priority for late buses (it owns its controller until the bus has passed);
4. the strategies' stage ends for every other controller showing a stage, sent as
   ``SET_DURATION`` when they differ from the field's plan;
5. GLOSA speed advice, route advice and parking guidance.

Every signal command, whatever its source, passes :class:`~control.safety.SafetyLayer` before it
leaves; rejected ones are counted (``stats``) and never sent.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from control.approach import Approaches
from control.config import ControlConfig
from control.glosa import Glosa
from control.machine import SignalMachine
from control.overrides import AuditSink, OverrideManager
from control.parking import ParkingGuide, ParkingOption
from control.picture import connected_vehicles, events_of, parking_of
from control.plan import build_plans
from control.routing import Router, closed_lanes
from control.safety import SafetyLayer
from control.spat import Prediction, predict, spat_message
from control.stages import build_stage_table
from control.strategies import Actuated, Context, FixedTime, MaxPressure, Strategy
from control.tracker import SignalTracker, spats_of
from control.tsp import TransitPriority
from proto import pb
from roadnet import MapMatcher, RoadNetwork

LOG = logging.getLogger("xiangjiang.control")
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: a strategy's end differing from the field's plan by less than this is not re-sent, s
END_TOLERANCE_S = 0.5
#: at most one strategy command per controller per this long (a first command per stage aside), s
RESEND_S = 1.0


class _Predictions(Mapping[int, Prediction]):
    """Every tracked controller's prediction, computed when first asked for."""

    def __init__(self, svc: ControlService, now: float) -> None:
        self.svc, self.now = svc, now
        self.keys_ = [t for t in range(len(svc.plans)) if svc.tracker.machine(t) is not None]

    def __getitem__(self, t: int) -> Prediction:
        p = self.svc.prediction(t, self.now)
        if p is None:
            raise KeyError(t)
        return p

    def __iter__(self) -> Iterator[int]:
        return iter(self.keys_)

    def __len__(self) -> int:
        return len(self.keys_)


class ControlService:
    """Signal control, TSP, SPaT prediction, GLOSA, routing, parking and overrides for one map.

    Parameters
    ----------
    net
        The road network.
    config
        Strategies and options (default: actuated everywhere, TSP and GLOSA on).
    audit
        Where override audit entries go (default: in memory, ``overrides.audit``).
    """

    def __init__(
        self, net: RoadNetwork, config: ControlConfig | None = None, *, audit: AuditSink | None = None
    ) -> None:
        self.net = net
        self.config = cfg = config or ControlConfig()
        self.plans = build_plans(net, cfg.safety)
        self.safety = SafetyLayer(self.plans, cfg.safety)
        self.tracker = SignalTracker(self.plans)
        self.table = build_stage_table(net, self.plans, reach_m=cfg.max_pressure.reach_m)
        self.approaches = Approaches.build(net)
        self.matcher = MapMatcher(net, radius=10.0)
        self.strategies: dict[str, Strategy] = {
            "fixed": FixedTime(net, self.plans, self.table, cfg.fixed),
            "actuated": Actuated(cfg.actuated),
            "max-pressure": MaxPressure(cfg.max_pressure),
        }
        self.strategy_of = [cfg.strategy_of(tid) for tid in net.tls_ids]
        self.tsp = TransitPriority(net, self.plans, self.approaches, self.matcher, cfg.tsp)
        self.glosa = Glosa(net, self.approaches, self.matcher, cfg.glosa)
        self.router = Router(net, cfg.routing, self.matcher)
        self.parking = ParkingGuide(net)
        self.overrides = OverrideManager(self.safety, self._machine_by_id, audit)
        n = len(net.tls_ids)
        self._last_sent = np.full(n, -math.inf)
        self._stage_key: list[tuple[int, int, float] | None] = [None] * n
        self._intent = np.full(n, np.nan)
        self._pred_cache: dict[int, tuple[tuple[Any, ...], Prediction]] = {}
        self._spat_cache: dict[int, tuple[Prediction, int, pb.Spat]] = {}
        self._windows: dict[int, tuple[float, float]] = {}
        self._glosa_t = -math.inf
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ helpers
    def _machine_by_id(self, tls_id: str) -> SignalMachine | None:
        t = self.net.tls_index_of.get(tls_id)
        return None if t is None else self.tracker.machine(t)

    def _staged(self) -> list[int]:
        """Controllers showing a stage the cloud models (in a flexible phase, state as programmed)."""
        out = []
        for t in range(len(self.plans)):
            m = self.tracker.machine(t)
            if m is None or m.uncertain or not m.in_phase:
                continue
            if self.plans[t].program(m.program).flexible[m.phase]:
                out.append(t)
        return out

    def prediction(self, t: int, now: float) -> Prediction | None:
        """The SPaT prediction of controller ``t`` (cached while its state and intent hold)."""
        m = self.tracker.machine(t)
        if m is None:
            return None
        intent = float(self._intent[t])
        tr = self.tracker.tracked[t]
        key = (
            m.program,
            m.phase,
            round(m.phase_start, 1),
            round(m.phase_end, 1),
            round(intent, 1),
            m.chars,
            t in self.tsp.grants,
        )
        hit = self._pred_cache.get(t)
        if hit is not None and hit[0] == key:
            return hit[1]
        window = self._windows.get(t) or (self.safety.duration_window(m, now) if m.in_phase else None)
        name = self.strategy_of[t]
        busy = t in self.tsp.grants or self.overrides.controls(self.net.tls_ids[t], now)
        deterministic = name in ("fixed", "local") and not busy
        expected: dict[tuple[int, int], float] | None = tr.history if tr is not None else None
        if name == "fixed":
            ft = self.strategies["fixed"]
            assert isinstance(ft, FixedTime)
            expected = ft.planned_durations(t, m.program) or None
        elif name == "local":
            expected = None
        like = intent if math.isfinite(intent) else None
        if not deterministic and tr is not None and m.in_phase:
            # an adaptive stage is expected to last about as long as it usually does
            usual = tr.history.get((m.program, m.phase))
            if usual is not None:
                like = max(like if like is not None else m.phase_end, m.phase_start + usual)
        pred = predict(m, now, intent_end=like, expected=expected, window=window, deterministic=deterministic)
        self._pred_cache[t] = (key, pred)
        return pred

    def _send(self, cmd: pb.SignalCommand, t: int, now: float, out: list[pb.SignalCommand]) -> bool:
        m = self.tracker.machine(t)
        if m is None:
            self.stats["rejected:no state"] += 1
            return False
        v = self.safety.check(cmd, m, now)
        self.stats[f"{v.outcome}:{cmd.source}"] += 1
        if v.command is None:
            LOG.debug("safety rejected %s at %s: %s", pb.CommandKind.Name(cmd.kind), cmd.junction_id, v.reason)
            return False
        out.append(v.command)
        self.tracker.note(t, v.command, now)
        return True

    # ------------------------------------------------------------------ the tick
    def decide(
        self,
        now: float,
        picture: Any,
        spat: Mapping[str, pb.Spat] | Iterable[pb.Spat],
        priority_requests: Sequence[pb.PriorityRequest] = (),
    ) -> tuple[list[pb.SignalCommand], list[pb.Advisory]]:
        """Decisions for one tick.

        Parameters
        ----------
        now
            s since the epoch.
        picture
            The traffic picture (see :mod:`control.picture` for the fields read).
        spat
            This tick's SPaT messages (a list, or a mapping by controller id).
        priority_requests
            Buses' priority requests received this tick.

        Returns
        -------
        commands, advisories
            Signal commands (all passed the safety layer) and per-vehicle advisories.
        """
        cfg = self.config
        self.tracker.update(spats_of(spat), now)
        lanes = picture.lanes
        for s in self.strategies.values():
            s.observe(now, lanes)
        vehicles = connected_vehicles(picture)
        commands: list[pb.SignalCommand] = []
        advisories: list[pb.Advisory] = []
        # 1. operator overrides
        for c in self.overrides.due(now):
            commands.append(c)
            t = self.net.tls_index_of[c.junction_id]
            self.tracker.note(t, c, now)
            self.stats["sent:operator"] += 1
        staged = [t for t in self._staged() if not self.overrides.controls(self.net.tls_ids[t], now)]
        windows = {t: self.safety.duration_window(m, now) for t in staged if (m := self.tracker.machine(t))}
        self._windows = windows
        # 2. strategy intents (also the likely end the prediction uses)
        self._intent[:] = np.nan
        self._strategy_intents(now, lanes, staged, windows)
        # 3. transit priority
        busy: set[int] = set()
        if cfg.tsp.enabled:
            busy = self._tsp(now, vehicles, list(priority_requests), staged, windows, commands, advisories)
        # 4. strategy commands
        for t in staged:
            if t in busy or t in self.tsp.grants:
                continue
            self._strategy_command(t, now, commands)
        # 5. vehicle advice
        if cfg.glosa.enabled and len(vehicles) and now - self._glosa_t >= cfg.glosa.period_s:
            self._glosa_t = now
            advisories += self.glosa.advisories(now, vehicles, lanes, _Predictions(self, now))
        if cfg.routing.enabled and self.router.trips:
            closed = getattr(picture, "closed_lanes", None)
            if closed is None:
                closed = closed_lanes(self.net, events_of(picture), now)
            tt = self.router.edge_times(lanes, closed, getattr(picture, "edge_tt", None))
            advisories += self.router.advisories(now, vehicles, tt)
        self.parking.update(parking_of(picture))
        advisories += self.parking.guidance(now, vehicles)
        self.stats["commands"] += len(commands)
        self.stats["advisories"] += len(advisories)
        return commands, advisories

    def _strategy_intents(
        self, now: float, lanes: Any, staged: list[int], windows: dict[int, tuple[float, float]]
    ) -> None:
        by: dict[str, list[int]] = {}
        for t in staged:
            name = self.strategy_of[t]
            if name in self.strategies:
                by.setdefault(name, []).append(t)
        for name, ts in by.items():
            ms = [self.tracker.machine(t) for t in ts]
            mm = [m for m in ms if m is not None]
            tls = np.array(ts, dtype=np.int64)
            ctx = Context(
                now=now,
                lanes=lanes,
                table=self.table,
                plans=self.plans,
                tls=tls,
                program=np.array([m.program for m in mm], dtype=np.int64),
                phase=np.array([m.phase for m in mm], dtype=np.int64),
                row=np.array([self.table.row_of[(m.program, m.phase)] for m in mm], dtype=np.int64),
                phase_start=np.array([m.phase_start for m in mm]),
                planned_end=np.array([m.phase_end for m in mm]),
                lo=np.array([windows[t][0] for t in ts]),
                hi=np.array([windows[t][1] for t in ts]),
            )
            self._intent[tls] = self.strategies[name].desired_end(ctx)

    def _strategy_command(self, t: int, now: float, commands: list[pb.SignalCommand]) -> None:
        desired = float(self._intent[t])
        m = self.tracker.machine(t)
        if m is None or not math.isfinite(desired):
            return
        key = (m.program, m.phase, round(m.phase_start, 3))
        first = self._stage_key[t] != key
        if not first and abs(desired - m.phase_end) < END_TOLERANCE_S:
            return
        if not first and now - self._last_sent[t] < RESEND_S:
            return
        cmd = pb.SignalCommand(
            command_id=f"{self.strategy_of[t]}-{t}-{round(now * 1e3)}",
            junction_id=self.net.tls_ids[t],
            kind=pb.COMMAND_KIND_SET_DURATION,
            phase_index=m.phase,
            program_id=self.plans[t].program(m.program).program_id,
            duration_s=max(desired - now, 0.1),
            issued_ns=round(now * 1e9),
            expires_ns=round((max(desired, now) + self.config.command_expiry_s) * 1e9),
            source=self.strategy_of[t],
        )
        if self._send(cmd, t, now, commands):
            self._stage_key[t] = key
            self._last_sent[t] = now

    def _tsp(
        self,
        now: float,
        vehicles: Any,
        requests: list[pb.PriorityRequest],
        staged: list[int],
        windows: dict[int, tuple[float, float]],
        commands: list[pb.SignalCommand],
        advisories: list[pb.Advisory],
    ) -> set[int]:
        calls = self.tsp.calls(now, vehicles, requests)
        if not calls and not self.tsp.grants:
            return set()
        st = set(staged)
        machines = {t: m for t in st if (m := self.tracker.machine(t)) is not None}
        preds = {t: p for t in {c.tls for c in calls} & st if (p := self.prediction(t, now)) is not None}
        cmds, advs = self.tsp.decide(now, calls, machines, preds, {t: windows[t] for t in st})
        advisories += advs
        busy: set[int] = set()
        for c in cmds:
            t = self.net.tls_index_of[c.junction_id]
            if self._send(c, t, now, commands):
                busy.add(t)
            else:
                advisories += self.tsp.revoke(t, now, "the safety layer refused the change")
        return busy

    # ------------------------------------------------------------------ published views
    def spat(self, now: float) -> list[pb.Spat]:
        """Predicted SPaT of every tracked controller (for ``rsu/{id}/spat/down`` and the API).

        A controller's message is the same object while its prediction holds: read it, do not change it.
        """
        out = []
        for t in range(len(self.plans)):
            p = self.prediction(t, now)
            tr = self.tracker.tracked[t]
            if p is not None and tr is not None:
                mode = tr.mode or pb.CONTROL_MODE_CLOUD
                hit = self._spat_cache.get(t)
                if hit is None or hit[0] is not p or hit[1] != mode:  # a prediction held: its message too
                    hit = self._spat_cache[t] = (p, mode, spat_message(p, mode))
                out.append(hit[2])
        return out

    def nearest_free(self, lat: float, lon: float, k: int = 3, *, now: float | None = None) -> list[ParkingOption]:
        """The ``k`` nearest parking areas with free spaces from a WGS84 position."""
        return self.parking.nearest_free(lat, lon, k, now=now)
