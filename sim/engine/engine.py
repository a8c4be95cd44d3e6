"""The traffic engine: IDM car following, lane changes, junctions that obey signals and yield,
insertion, bus stops, parking, incidents; vectorised over all vehicles, deterministic for a seed.

One :meth:`Engine.step` advances ``dt`` seconds:

1. link states (given, or every controller's active program in fixed time);
2. vehicles are sorted along their lane groups (:mod:`sim.engine.leaders`);
3. lane changes (:mod:`sim.engine.lanechange`), then insertion of departures
   (:mod:`sim.engine.insertion`);
4. the look-ahead (:mod:`sim.engine.lookahead`) finds every vehicle's leader and planned stop
   (red line, yielding link, jammed exit, stop, closure) and its junction announcements;
5. IDM accelerations (:mod:`sim.engine.idm`), with a speed-limit anticipation, cooperation for
   merging vehicles and driver imperfection (``sigma``), then the safe kinematic update and the
   moves across lane ends (:mod:`sim.engine.movement`);
6. arrivals, dwelling at stops, stop counting, jams (teleport after ``teleport_time`` s
   standing), parking.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from roadnet.classes import BUS
from roadnet.model import RoadNetwork
from sim.demand.model import Demand
from sim.demand.routing import EdgeGraph, Router
from sim.engine.idm import idm_accel
from sim.engine.insertion import try_insert
from sim.engine.junctions import announce, junction_view, link_modes, occupancy
from sim.engine.lanechange import lane_changes
from sim.engine.leaders import Entries, build_entries, group_rooms
from sim.engine.lookahead import Plan, look_ahead
from sim.engine.movement import kinematics, move
from sim.engine.parking import Parking
from sim.engine.records import ARRIVED, RUNNING, STOP_EVENT_DTYPE, TRIP_DTYPE, WAITING
from sim.engine.signals_fixed import FixedTimeSignals
from sim.engine.state import R_AMBER, R_CLOSED, R_LANE_END, R_RED, R_STOP, R_STOP_SIGN, Fleet
from sim.engine.stops import build_stop_table, dwell_end, remap_stops
from sim.engine.topology import Topology
from sim.engine.truth import LaneGeometry
from sim.interface import TRUTH_DTYPE

log = logging.getLogger(__name__)

#: planned stops at a fixed point, approached with a constant deceleration
HARD_STOPS = np.array([R_RED, R_AMBER, R_STOP, R_STOP_SIGN, R_CLOSED])

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: engine parameters and their defaults (pass any as keyword to :class:`Engine`)
DEFAULT_PARAMS: dict[str, float] = {
    "teleport_time": 300.0,  # s standing still (not at a planned stop) before a vehicle jumps ahead
    "stuck_reroute": 60.0,  # s waiting at a lane end for a lane change before taking another route
    "time_gap": 1.0,  # s a yielding vehicle keeps from a prioritised foe
    # IDM time gap T = factor * the type's tau: 0.5 lets a queue discharge at about the rate of
    # SUMO's default (Krauss) model at 0.1 s steps (compared by python -m bench.sim_vs_sumo)
    "time_gap_factor": 0.5,
    "dawdle": 0.25,  # driver imperfection: positive accelerations scaled by 1 - dawdle*sigma*U(0,1)
    "horizon_min": 40.0,  # m looked ahead at standstill
    "horizon_max": 250.0,  # m looked ahead at most
    "depth": 8,  # lane ends looked past at most
    "lc_threshold": 0.3,  # m/s^2 gain needed for a discretionary lane change
    "lc_cooldown": 3.0,  # s between discretionary lane changes
    "lc_every": 5,  # steps between two looks of one vehicle for a discretionary lane change
    "lc_lookahead": 1000.0,  # m: edges shorter than this are planned through when choosing lanes early
    "parking_target": 0.6,  # background occupancy of parking areas
    "parking_dwell": 1800.0,  # s mean background parking dwell
    "background_parking": 1.0,  # 1: background curb parkers, 0: none
    "queue_every": 1.0,  # s between queue-length samples
    "halt_speed": 0.1,  # m/s below which a vehicle counts as halted (stops, waiting)
}


def _table(dtype: np.dtype, n: int, **cols: npt.ArrayLike) -> npt.NDArray[np.void]:
    """A structured array of ``n`` rows with the given columns (the others zero)."""
    out = np.zeros(n, dtype=dtype)
    for name, col in cols.items():
        out[name] = col
    return out


class Engine:
    """The traffic engine (see the module docstring).

    Parameters
    ----------
    net
        The road network.
    demand
        The vehicles to simulate (:mod:`sim.demand`).
    seed
        Seeds every random choice: the same network, demand, seed and inputs give the same run.
    dt
        Step length, s.
    **params
        Any of :data:`DEFAULT_PARAMS`.

    Attributes
    ----------
    t
        Simulated seconds since the start.
    net, demand, dt
        As given.
    link_state
        (K,) the link states applied in the last step ('<U1', indexed like ``net.link_group``).
    crossings
        (vehicle ids, connection indices, link mode) of the stop-line crossings of the last step.
    stats
        Counters: inserted, arrived, teleports, reroutes (gave up a lane change), emergency_brakes,
        lane_changes, steps, updates.
    wall_seconds
        Wall-clock seconds spent in :meth:`step`.
    """

    def __init__(self, net: RoadNetwork, demand: Demand, *, seed: int = 0, dt: float = 0.1, **params: float) -> None:
        unknown = set(params) - set(DEFAULT_PARAMS)
        if unknown:
            raise TypeError(f"unknown engine parameters {sorted(unknown)}; known: {sorted(DEFAULT_PARAMS)}")
        if dt <= 0:
            raise ValueError("dt must be positive")
        self.net = net
        self.demand = demand
        self.dt = float(dt)
        self.t = 0.0
        self.seed = seed
        self.params = {**DEFAULT_PARAMS, **{k: float(v) for k, v in params.items()}}
        self.rng = np.random.default_rng([seed, 0xE1])
        self.graph = EdgeGraph(net)
        vt = demand.vtypes
        bits = sorted({int(b) for b in vt.bits.tolist()})
        self.topo = Topology(net, bits)
        self._type_grp = np.array([bits.index(int(b)) for b in vt.bits.tolist()], dtype=np.int64)
        self.fixed = FixedTimeSignals(net)
        self.geom = LaneGeometry(net)
        self.problems: list[str] = list(demand.problems)
        n = len(demand)
        self._vid_of = {str(v): i for i, v in enumerate(demand.ids.tolist())}
        # routes (flat, growing on reroutes) and their free-flow costs
        self.routes: I64 = demand.route_edges.astype(np.int64).copy()
        first = np.zeros(len(self.routes), dtype=np.bool_)
        first[demand.route_offsets[:-1][np.diff(demand.route_offsets) > 0]] = True
        tt, ln = self.graph.position_costs(self.routes, first)
        self._tt_cum = np.concatenate([[0.0], np.cumsum(tt)])
        self._len_cum = np.concatenate([[0.0], np.cumsum(ln)])
        ro = demand.route_offsets
        self.route_want = self._want_of(self.routes, ro, self._type_grp[demand.vtype])
        self.route_pref = self._want_of(self.routes, ro, self._type_grp[demand.vtype], self.params["lc_lookahead"])
        self.stops, self._stop_off = build_stop_table(demand, net.lane_edge, self.problems)
        # per-demand-vehicle records
        self.rec_status = np.full(n, WAITING, dtype=np.uint8)
        self.rec_depart = np.full(n, np.nan)
        self.rec_arrival = np.full(n, np.nan)
        self.rec_ff = self._tt_cum[ro[1:]] - self._tt_cum[ro[:-1]]
        self.rec_len = self._len_cum[ro[1:]] - self._len_cum[ro[:-1]]
        self.rec_stops = np.zeros(n, dtype=np.int32)
        self.rec_dist = np.zeros(n)
        self.rec_wait = np.zeros(n)
        self.rec_tele = np.zeros(n, dtype=np.int32)
        self.rec_dwell_done = np.zeros(n)
        sd = np.nan_to_num(self.stops.dur)
        self.rec_dwell_plan = np.add.reduceat(np.r_[sd, 0.0], self._stop_off[:-1])[:n] * (np.diff(self._stop_off) > 0)
        self._stop_events: list[tuple[str, str, int, float, float, float, float]] = []
        self._open_events: dict[int, tuple[str, str, int, float]] = {}
        # departures
        self._order = np.argsort(demand.depart, kind="stable")
        self._next = 0
        self._pending = np.zeros(0, dtype=np.int64)
        self.fleet = Fleet()
        self.reg_eta = np.full(self.topo.n_conns, np.inf)
        self.closed_pos = np.full(self.topo.n_lanes, np.inf)
        self.closed_until = np.full(self.topo.n_lanes, -np.inf)
        #: per class group, its router around the edges blocked now (see _router)
        self._routers: dict[int, Router] = {}
        self._edge_blocked = np.zeros(0, dtype=np.int64)
        self._refresh_closures()
        self.parking = Parking(
            net,
            np.random.default_rng([seed, 0xFA]),
            target=self.params["parking_target"],
            mean_dwell=self.params["parking_dwell"],
            background=self.params["background_parking"] > 0,
        )
        self.link_state: npt.NDArray[np.str_] = self.fixed.state(0.0)
        self.crossings: tuple[npt.NDArray[np.str_], I64, I64] = (
            np.zeros(0, dtype="<U40"),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )
        self.max_queue = np.zeros(self.topo.n_lanes)
        self._next_queue = 0.0
        self.stats: dict[str, int] = {
            k: 0
            for k in (
                "inserted",
                "arrived",
                "teleports",
                "reroutes",
                "emergency_brakes",
                "lane_changes",
                "steps",
                "updates",
            )
        }
        self.wall_seconds = 0.0

    # ================================================================== public API
    @property
    def n_running(self) -> int:
        """Vehicles in the network now."""
        return self.fleet.n

    def vehicle_ids(self) -> npt.NDArray[np.str_]:
        """(R,) ids of the vehicles in the network, in row order."""
        out: npt.NDArray[np.str_] = self.demand.ids[self.fleet.vid]
        return out

    def run(self, seconds: float) -> None:
        """Step with the fixed-time signals for ``seconds`` of simulated time."""
        for _ in range(round(seconds / self.dt)):
            self.step()

    def step(self, link_state: npt.NDArray[np.str_] | None = None) -> None:
        """Advance one ``dt``.

        Parameters
        ----------
        link_state
            (K,) one SUMO state character per controller link ('<U1', indexed like
            ``net.link_group``), or None to run every controller's active program in fixed time.

        Raises
        ------
        ValueError
            When ``link_state`` does not have one character per link.
        """
        w0 = time.perf_counter()
        t = self.t
        dt = self.dt
        topo = self.topo
        if link_state is None:
            ls = self.fixed.state(t)
        else:
            ls = np.asarray(link_state, dtype="<U1")
            if ls.shape != (self.fixed.n_links,):
                raise ValueError(f"link_state has shape {ls.shape}, expected ({self.fixed.n_links},)")
        self.link_state = ls
        modes = link_modes(ls)
        if np.any(self.closed_until <= t):
            self._expire_closures(t)
        self.parking.step(t, dt)
        f = self.fleet
        e = build_entries(f, topo)
        # lane changes
        v0 = self._desired(f)
        lc = lane_changes(
            e,
            f,
            topo,
            self.route_want,
            self.route_pref,
            self.stops,
            self._edge_closed,
            v0,
            threshold=self.params["lc_threshold"],
            cooldown=self.params["lc_cooldown"],
            disc_turn=self.stats["steps"] % int(self.params["lc_every"]),
            disc_every=int(self.params["lc_every"]),
        )
        f.lc_time += dt
        coop_gap, coop_v, v_cap = lc.coop_gap, lc.coop_v, lc.v_cap
        if len(lc.rows):
            f.lane[lc.rows] = lc.lane
            f.s[lc.rows] = lc.s
            f.lc_time[lc.rows] = 0.0
            f.prev_lane[lc.rows] = -1
            self.stats["lane_changes"] += len(lc.rows)
            e = build_entries(f, topo)
        # insertion
        n_before = f.n
        self._insert(e, t)
        if f.n > n_before:
            extra = f.n - n_before
            coop_gap = np.concatenate([coop_gap, np.full(extra, np.inf)])
            coop_v = np.concatenate([coop_v, np.zeros(extra)])
            v_cap = np.concatenate([v_cap, np.full(extra, np.inf)])
            e = build_entries(f, topo)
            v0 = self._desired(f)
        # junctions and look-ahead
        occ = occupancy(f, topo)
        room = group_rooms(e, topo.n_lanes)
        jv = junction_view(topo, modes, self.reg_eta - dt, occ, room)
        horizon = np.clip(
            self.params["horizon_min"] + f.v * (f.v / np.maximum(f.decel, 0.5) + 4.0),
            self.params["horizon_min"],
            self.params["horizon_max"],
        )
        plan = look_ahead(
            e,
            f,
            topo,
            jv,
            self.routes,
            self.route_want,
            self.route_pref,
            self.stops,
            self.closed_pos,
            self._lane_open,
            v0,
            horizon,
            self.params["time_gap"],
            int(self.params["depth"]),
        )
        self.reg_eta = announce(topo, plan.reg_conn, plan.reg_eta)
        # accelerations and moves
        a = self._accel(f, plan, v0, coop_gap, coop_v, v_cap)
        limit = np.minimum(plan.gap, plan.obs)
        v_new, ds, emergency = kinematics(f, a, limit, dt)
        f.acc = (v_new - f.v) / dt
        f.v = v_new
        moved = move(f, plan, ds, topo)
        self.stats["emergency_brakes"] += int(emergency.sum())
        f.odo += ds
        cross_vid = f.vid[moved.cross_rows]
        self.crossings = (self.demand.ids[cross_vid], moved.cross_conns, jv.mode[moved.cross_conns])
        f.blocked = plan.reason.copy()
        self.stats["steps"] += 1
        self.t = self.stats["steps"] * dt
        self._after_move(plan, moved.arrived)
        self.stats["updates"] += f.n
        if self.t >= self._next_queue:
            self._sample_queues()
            self._next_queue = self.t + self.params["queue_every"]
        self.wall_seconds += time.perf_counter() - w0

    def truth(self) -> npt.NDArray[np.void]:
        """Ground truth of every vehicle in the network now, shape (R,), ``TRUTH_DTYPE``.

        ``x, y`` are the vehicle's centre in the local frame (half a length behind the front,
        on the lane it came from when its tail is still there); ``lane`` and ``s`` are the lane
        and position of the front bumper (SUMO's convention); ``heading`` math radians;
        ``schedule_dev`` for buses = now - (scheduled departure + free-flow time to the current
        position + planned dwells done), s, positive when late.
        """
        f = self.fleet
        if f.n == 0:
            return np.zeros(0, dtype=TRUTH_DTYPE)
        topo = self.topo
        c = f.s - 0.5 * f.length
        back = (c < 0) & (f.prev_lane >= 0)
        ln = np.where(back, np.maximum(f.prev_lane, 0), f.lane)
        sc = np.where(back, topo.lane_len[np.maximum(f.prev_lane, 0)] + c, np.maximum(c, 0.0))
        x, y, h = self.geom.locate(ln, sc)
        dev = np.zeros(f.n)
        bus = f.cls == BUS
        if bus.any():
            gpos = np.maximum(topo.lane_goff[f.lane] + f.s, 0.0)
            ff = self._tt_cum[f.rpos] - self._tt_cum[f.rstart] + gpos / topo.lane_speed[f.lane]
            sched = self.demand.depart[f.vid] + ff + self.rec_dwell_done[f.vid]
            dev = np.where(bus, self.t - sched, 0.0)
        return _table(
            TRUTH_DTYPE,
            f.n,
            vehicle_id=self.demand.ids[f.vid],
            x=x,
            y=y,
            vx=f.v * np.cos(h),
            vy=f.v * np.sin(h),
            speed=f.v,
            heading=h,
            accel=f.acc,
            lane=f.lane,
            s=f.s,
            length=f.length,
            width=f.width,
            cls=f.cls,
            bus_line=self.demand.line[f.vid],
            schedule_dev=dev,
            connected=f.connected,
        )

    def set_speed_advice(self, vehicle_ids: Iterable[str], speed_mps: npt.ArrayLike, until_t: npt.ArrayLike) -> int:
        """Cap the desired speed of vehicles until a time (an OBU's driver complying with advice).

        Parameters
        ----------
        vehicle_ids
            (n,) ids; ids not in the network now are ignored.
        speed_mps
            (n,) speed caps, m/s; NaN clears a vehicle's advice.
        until_t
            (n,) simulated time until which each cap holds, s.

        Returns
        -------
        int
            How many vehicles in the network got the advice.
        """
        ids = list(vehicle_ids)
        sp = np.broadcast_to(np.asarray(speed_mps, dtype=np.float64), (len(ids),))
        un = np.broadcast_to(np.asarray(until_t, dtype=np.float64), (len(ids),))
        rows = self._rows_of(ids)
        ok = rows >= 0
        f = self.fleet
        f.adv_v[rows[ok]] = sp[ok]
        f.adv_until[rows[ok]] = np.where(np.isnan(sp[ok]), -np.inf, un[ok])
        return int(ok.sum())

    def set_route(self, vehicle_id: str, edge_ids: Sequence[str]) -> bool:
        """Give a vehicle in the network a new route from the edge it is on (or entering).

        The route must start with that edge and be connected for the vehicle's class; its
        remaining stops are kept where the new route passes them.

        Returns
        -------
        bool
            False (and nothing changes) when the vehicle is not in the network or the route is
            unknown, does not start at its current edge, or is not connected.
        """
        rows = self._rows_of([vehicle_id])
        if rows[0] < 0:
            return False
        i = int(rows[0])
        idx = self.net.edge_index_of
        if not edge_ids or any(e not in idx for e in edge_ids):
            return False
        new = [idx[e] for e in edge_ids]
        f = self.fleet
        if new[0] != int(self.routes[f.rpos[i]]):
            return False
        bits = int(self.topo.perm_bits[int(f.grp[i])])
        if not self.graph.route_valid(new, bits):
            return False
        self._replace_route(i, new)
        return True

    def connected(self, share: float, classes: set[int] | None = None) -> int:
        """Choose the OBU carriers (see :meth:`Demand.set_connected`); applies to running vehicles too.

        Returns
        -------
        int
            The number of connected vehicles in the demand.
        """
        n = self.demand.set_connected(share, classes, seed=self.seed)
        self.fleet.connected = self.demand.connected[self.fleet.vid]
        return n

    def close_lanes(self, lane_ids: Iterable[str], until_t: float, pos: float | Iterable[float] = 0.0) -> None:
        """Block lanes until ``until_t`` (an incident): a stopped obstacle at ``pos`` m on each lane.

        Vehicles stop before it, change lanes around it, avoid closed lanes at junctions, and
        vehicles whose remaining route needs an edge with every lane closed are rerouted.

        Raises
        ------
        KeyError
            Naming a lane id that is not in the network.
        """
        ids = list(lane_ids)
        bad = [x for x in ids if x not in self.net.lane_index_of]
        if bad:
            raise KeyError(f"unknown lane ids: {', '.join(bad[:5])}")
        lanes = np.array([self.net.lane_index_of[x] for x in ids], dtype=np.int64)
        p = np.broadcast_to(
            np.asarray(list(pos) if not isinstance(pos, float | int) else pos, dtype=float), lanes.shape
        )
        self.closed_pos[lanes] = np.minimum(self.closed_pos[lanes], np.maximum(p, 0.0))
        self.closed_until[lanes] = np.maximum(self.closed_until[lanes], until_t)
        self._refresh_closures()
        self._reroute_closed()

    def closures(self) -> tuple[I64, F64, F64]:
        """Lanes closed now: (lane indices, obstacle position m, until s)."""
        ln = np.flatnonzero(np.isfinite(self.closed_pos))
        return ln, self.closed_pos[ln], self.closed_until[ln]

    def parking_occupancy(self) -> I64:
        """(A,) occupied spaces of every parking area (``net.parking_*``)."""
        return self.parking.occupancy(self.t)

    def parking_bays(self) -> tuple[B, I64]:
        """(P,) occupied flag of every bay and (A + 1,) offsets of each area's bays."""
        return self.parking.bays(self.t)

    def records(self) -> npt.NDArray[np.void]:
        """Trip records of every demand vehicle, shape (N,), ``sim.engine.records.TRIP_DTYPE``."""
        d = self.demand
        dist = self.rec_dist.copy()
        f = self.fleet
        dist[f.vid] += f.odo
        duration = self.rec_arrival - self.rec_depart
        return _table(
            TRIP_DTYPE,
            len(d),
            vehicle_id=d.ids,
            cls=d.cls,
            line=d.line,
            connected=d.connected,
            status=self.rec_status,
            depart_sched=d.depart,
            depart=self.rec_depart,
            arrival=self.rec_arrival,
            duration=duration,
            free_flow_s=self.rec_ff,
            delay_s=duration - self.rec_ff,
            dwell_plan_s=self.rec_dwell_plan,
            route_length_m=self.rec_len,
            distance_m=dist,
            stops=self.rec_stops,
            waiting_s=self.rec_wait,
            teleports=self.rec_tele,
        )

    def stop_events(self) -> npt.NDArray[np.void]:
        """Every dwell at a planned stop so far, ``sim.engine.records.STOP_EVENT_DTYPE``."""
        out = np.zeros(len(self._stop_events), dtype=STOP_EVENT_DTYPE)
        if self._stop_events:
            cols = list(zip(*self._stop_events, strict=True))
            for name, col in zip(STOP_EVENT_DTYPE.names or (), cols, strict=True):
                out[name] = col
        return out

    # ================================================================== internals
    def _rows_of(self, ids: Sequence[str]) -> I64:
        f = self.fleet
        row_of = np.full(len(self.demand), -1, dtype=np.int64)
        row_of[f.vid] = np.arange(f.n)
        vids = np.array([self._vid_of.get(str(x), -1) for x in ids], dtype=np.int64)
        out: I64 = np.where(vids >= 0, row_of[np.maximum(vids, 0)], -1)
        return out

    def _want_of(self, routes: I64, offsets: I64, grp: I64, short: float = 100.0) -> I64:
        """Wanted lanes at every position of routes given as flat edges + (n + 1,) offsets."""
        lens = np.diff(offsets)
        last = np.zeros(len(routes), dtype=np.bool_)
        last[offsets[1:][lens > 0] - 1] = True
        g = np.repeat(grp, lens)
        return self.topo.route_want(routes, last, g, short)

    def _desired(self, f: Fleet) -> F64:
        v0 = np.minimum(f.vmax, f.sf * self.topo.lane_speed[f.lane])
        adv = (self.t < f.adv_until) & ~np.isnan(f.adv_v)
        out: F64 = np.where(adv, np.minimum(v0, np.maximum(f.adv_v, 0.5)), v0)
        return out

    def _accel(self, f: Fleet, plan: Plan, v0: F64, coop_gap: F64, coop_v: F64, v_cap: F64) -> F64:
        s0, T, am, b = f.min_gap, f.tau, f.accel, f.decel
        v = f.v
        a = idm_accel(v, v0, plan.gap, plan.v_lead, s0=s0, T=T, a_max=am, b=b)
        obs = np.isfinite(plan.obs)
        if obs.any():
            g_o = np.where(obs, plan.obs + f.min_gap - 0.5, np.inf)
            a = np.minimum(a, idm_accel(v, v0, g_o, np.zeros(f.n), s0=s0, T=T, a_max=am, b=b))
            # stopping at a fixed point (red, amber, stop, closure): the IDM brakes late and softly
            # near standstill, so once the constant deceleration that stops 0.3 m before the point
            # is noticeable, apply it (not for yielding and keep-clear stops, which come and go)
            hard = obs & np.isin(plan.reason, HARD_STOPS)
            room = np.where(hard, plan.obs - 0.3, np.inf)
            need = np.where(room > 0.05, v * v / (2.0 * np.maximum(room, 0.05)), v / self.dt)
            a = np.where(hard & (need > 0.6 * b), np.minimum(a, -need), a)
        coop = np.isfinite(coop_gap)
        if coop.any():
            # a virtual leader (courtesy to a merging vehicle, or a merger stopping behind the
            # standing vehicle beside it): at most a comfortable deceleration
            a_c = idm_accel(v, v0, coop_gap, coop_v, s0=s0, T=T, a_max=am, b=b)
            a = np.minimum(a, np.maximum(a_c, -b))
        slow = v > v_cap
        if slow.any():
            a = np.where(slow, np.minimum(a, np.maximum(v_cap - v, -f.decel)), a)
        lim = np.isfinite(plan.lim_d) & (v > plan.lim_v)
        if lim.any():
            vl = np.where(lim, plan.lim_v, 0.0)
            need = -(v * v - vl * vl) / (2.0 * np.maximum(np.where(lim, plan.lim_d, 1.0), 0.5))
            a = np.where(lim, np.minimum(a, np.maximum(need, -f.decel)), a)
        pos = a > 0
        if self.params["dawdle"] > 0:
            u = self.rng.random(f.n)
            a = np.where(pos, a * (1.0 - self.params["dawdle"] * f.sigma * u), a)
        out: F64 = np.maximum(a, -f.emerg)
        return out

    def _refresh_closures(self) -> None:
        topo = self.topo
        closed = np.isfinite(self.closed_pos)
        self._lane_open = ~(closed & (self.closed_pos <= 1.0))
        ec = np.zeros(topo.n_edges, dtype=np.int64)
        ln = np.flatnonzero(closed & topo.lane_normal)
        np.bitwise_or.at(ec, topo.lane_edge[ln], np.left_shift(1, topo.lane_idx[ln]))
        self._edge_closed = ec
        full = np.zeros(topo.n_edges, dtype=np.bool_)
        nl = topo.edge_nlanes
        allbits = np.left_shift(1, nl) - 1
        full[(ec & allbits) == allbits] = True
        full &= ec != 0
        blocked = np.flatnonzero(full)
        if not np.array_equal(blocked, self._edge_blocked):
            self._routers.clear()  # routers around the edges blocked before
        self._edge_blocked = blocked

    def _expire_closures(self, t: float) -> None:
        gone = self.closed_until <= t
        self.closed_pos[gone] = np.inf
        self.closed_until[gone] = -np.inf
        self._refresh_closures()

    def _reroute_closed(self) -> None:
        """Reroute running vehicles whose remaining route needs a fully closed edge."""
        if len(self._edge_blocked) == 0:
            return
        f = self.fleet
        # vehicles whose route after the current edge needs a blocked edge
        for i in np.flatnonzero(self._needs_blocked(f.rpos + 1, f.rend)).tolist():
            path = self._router(int(f.grp[i])).route(int(self.routes[f.rpos[i]]), int(self.routes[f.rend[i] - 1]))
            if path is not None:
                self._replace_route(i, path)

    def _needs_blocked(self, a: I64, b: I64) -> B:
        """(k,) True where route entries ``a[i] .. b[i] - 1`` (of ``self.routes``) hold a blocked
        edge: one prefix sum over all routes, no loop per vehicle."""
        hit = np.concatenate([[0], np.cumsum(np.isin(self.routes, self._edge_blocked))])
        return np.asarray(hit[b] - hit[a] > 0)

    def _replace_route(self, i: int, new: list[int]) -> None:
        f = self.fleet
        start = len(self.routes)
        arr = np.array(new, dtype=np.int64)
        first = np.zeros(len(arr), dtype=np.bool_)
        first[0] = True
        tt, ln = self.graph.position_costs(arr, first)
        # the new route continues the old one's cumulative costs from the current position, so
        # costs counted from rstart (free-flow time, schedule) stay right
        base_tt = self._tt_cum[f.rpos[i]]
        base_ln = self._len_cum[f.rpos[i]]
        self.routes = np.concatenate([self.routes, arr])
        off = np.array([0, len(arr)])
        self.route_want = np.concatenate([self.route_want, self._want_of(arr, off, f.grp[i : i + 1])])
        self.route_pref = np.concatenate(
            [self.route_pref, self._want_of(arr, off, f.grp[i : i + 1], self.params["lc_lookahead"])]
        )
        self._tt_cum = np.concatenate([self._tt_cum[:start], base_tt + np.concatenate([[0.0], np.cumsum(tt)])])
        self._len_cum = np.concatenate([self._len_cum[:start], base_ln + np.concatenate([[0.0], np.cumsum(ln)])])
        f.rpos[i] = start
        f.rend[i] = start + len(arr)
        vid = int(f.vid[i])
        self.rec_ff[vid] = self._tt_cum[start + len(arr)] - self._tt_cum[f.rstart[i]]
        self.rec_len[vid] = self._len_cum[start + len(arr)] - self._len_cum[f.rstart[i]]
        if f.stop_cur[i] < f.stop_end[i]:
            f.stop_cur[i] = remap_stops(
                self.stops, int(f.stop_cur[i]), int(f.stop_end[i]), new, start, self.net.lane_edge
            )

    # ------------------------------------------------------------------ insertion
    def _insert(self, e: Entries, t: float) -> None:
        d = self.demand
        o = self._order
        k = self._next
        while k < len(o) and d.depart[o[k]] <= t + 1e-9:
            k += 1
        if k > self._next:
            self._pending = np.concatenate([self._pending, o[self._next : k]])
            self._next = k
        p = self._pending
        if len(p) == 0:
            return
        ro = d.route_offsets
        e0 = self.routes[ro[p]]
        # one try per first edge: the earliest waiting vehicle
        _, first = np.unique(e0, return_index=True)
        cand = p[np.sort(first)]
        if len(self._edge_blocked):
            self._reroute_pending(cand)
        has2 = ro[cand + 1] - ro[cand] > 1
        r0 = np.stack(
            [self.routes[ro[cand]], np.where(has2, self.routes[np.minimum(ro[cand] + 1, len(self.routes) - 1)], -1)],
            axis=1,
        )
        vt = d.vtypes
        ti = d.vtype[cand]
        col = vt.col
        params = {
            "length": col("length")[ti],
            "min_gap": col("min_gap")[ti],
            "decel": col("decel")[ti],
            "tau": col("tau")[ti] * self.params["time_gap_factor"],
            "vmax": col("max_speed")[ti],
            "sf": d.speed_factor[cand],
        }
        want = self.route_want[ro[cand]]
        ins, _ = try_insert(cand, d, self.topo, e, r0, want, self._type_grp[ti], params, self._lane_open, self.rng)
        if len(ins.vid) == 0:
            return
        self._pending = p[~np.isin(p, ins.vid)]
        self._add_vehicles(ins.vid, ins.lane, ins.s, ins.v, t)

    def _reroute_pending(self, cand: I64) -> None:
        ro = self.demand.route_offsets
        for i in cand[self._needs_blocked(ro[cand] + 1, ro[cand + 1])].tolist():
            r = self.routes[ro[i] : ro[i + 1]].tolist()
            g = int(self._type_grp[self.demand.vtype[i]])
            path = self._router(g).route(r[0], r[-1])
            if path is not None and len(path) == len(r):
                self.routes[ro[i] : ro[i + 1]] = path
                g_ = np.full(len(path), g, dtype=np.int64)
                off = np.array([0, len(path)])
                self.route_want[ro[i] : ro[i + 1]] = self._want_of(np.array(path), off, g_[:1])
                self.route_pref[ro[i] : ro[i + 1]] = self._want_of(
                    np.array(path), off, g_[:1], self.params["lc_lookahead"]
                )

    def _add_vehicles(self, vid: I64, lane: I64, s: F64, v: F64, t: float) -> None:
        d = self.demand
        vt = d.vtypes
        ti = d.vtype[vid]
        col = vt.col
        ro = d.route_offsets
        self.fleet.append(
            {
                "vid": vid,
                "lane": lane,
                "s": s,
                "v": v,
                "rpos": ro[vid],
                "rstart": ro[vid],
                "rend": ro[vid + 1],
                "stop_cur": self._stop_off[vid],
                "stop_end": self._stop_off[vid + 1],
                "accel": col("accel")[ti],
                "decel": col("decel")[ti],
                "emerg": np.maximum(col("emergency_decel")[ti], col("decel")[ti]),
                "length": col("length")[ti],
                "width": col("width")[ti],
                "min_gap": col("min_gap")[ti],
                "tau": col("tau")[ti] * self.params["time_gap_factor"],
                "sigma": col("sigma")[ti],
                "vmax": col("max_speed")[ti],
                "sf": d.speed_factor[vid],
                "grp": self._type_grp[ti],
                "cls": vt.cls[ti],
                "connected": d.connected[vid],
                "arr_pos": d.arrival_pos[vid],
                "moving": v > 1.0,
            },
            len(vid),
        )
        self.rec_status[vid] = RUNNING
        self.rec_depart[vid] = t
        self.stats["inserted"] += len(vid)

    # ------------------------------------------------------------------ after the move
    def _after_move(self, plan: Plan, arrived: B) -> None:
        f = self.fleet
        t = self.t
        dt = self.dt
        halt = self.params["halt_speed"]
        # dwelling at planned stops
        if len(self.stops.ridx):
            self._dwell(plan)
        dwelling = ~np.isnan(f.dwell_end)
        planned = dwelling | ((plan.reason == R_STOP) & (plan.obs < 3.0))
        # stop counting
        f.moving |= f.v > 1.0
        stopped = f.moving & (f.v < halt) & ~planned
        self.rec_stops[f.vid[stopped]] += 1
        f.moving &= ~(f.v < halt)
        # waiting and jams
        standing = (f.v < halt) & ~dwelling
        f.wait = np.where(standing, f.wait + dt, 0.0)
        self.rec_wait[f.vid[standing]] += dt
        # waiting at a lane end for a lane change: give up after stuck_reroute s, and try again
        # every stuck_reroute s while no other route leads on (not every step)
        patience = self.params["stuck_reroute"]
        stuck = (f.blocked == R_LANE_END) & (f.wait > patience)
        stuck &= np.floor(f.wait / patience) > np.floor((f.wait - dt) / patience)
        if stuck.any():
            for i in np.flatnonzero(stuck).tolist():
                self._reroute_stuck(i)
        jam = f.wait > self.params["teleport_time"]
        if jam.any():
            self._teleport(np.flatnonzero(jam), arrived)
        # arrivals
        if arrived.any():
            vid = f.vid[arrived]
            self.rec_status[vid] = ARRIVED
            self.rec_arrival[vid] = t
            self.rec_dist[vid] += f.odo[arrived]
            self.stats["arrived"] += len(vid)
            last_edge = self.routes[f.rend[arrived] - 1]
            self.parking.park(last_edge, f.cls[arrived], t)
            f.keep(~arrived)

    def _dwell(self, plan: Plan) -> None:
        f = self.fleet
        st = self.stops
        t = self.t
        # leaving
        done = ~np.isnan(f.dwell_end) & (f.dwell_end <= t + 1e-9)
        if done.any():
            rows = np.flatnonzero(done)
            q = f.stop_cur[rows]
            vid = f.vid[rows]
            self.rec_dwell_done[vid] += np.nan_to_num(st.dur[q])
            for q_, v_ in zip(q.tolist(), vid.tolist(), strict=True):
                ev = self._open_events.pop(v_, None)
                if ev is not None:
                    self._stop_events.append((*ev, t, float(st.until[q_]), self._sched_dep(v_, q_)))
            f.dwell_end[rows] = np.nan
            f.stop_cur[rows] += 1
        # skipping stops that cannot be reached any more
        has = f.stop_cur < f.stop_end
        q = np.minimum(f.stop_cur, len(st.ridx) - 1)
        gpos = self.topo.lane_goff[f.lane] + f.s
        passed = has & (
            (st.ridx[q] < f.rpos) | ((st.ridx[q] == f.rpos) & self.topo.lane_normal[f.lane] & (gpos > st.pos[q] + 3.0))
        )
        passed |= has & (st.ridx[q] < 0)
        if passed.any():
            f.stop_cur[passed] += 1
        # arriving
        has = (f.stop_cur < f.stop_end) & np.isnan(f.dwell_end)
        q = np.minimum(f.stop_cur, len(st.ridx) - 1)
        at = has & (f.lane == st.lane[q]) & (st.ridx[q] == f.rpos) & (np.abs(f.s - st.pos[q]) < 1.5) & (f.v < 0.2)
        if at.any():
            rows = np.flatnonzero(at)
            qq = q[rows]
            f.dwell_end[rows] = dwell_end(t, np.nan_to_num(st.dur[qq]), st.until[qq])
            f.v[rows] = 0.0
            d = self.demand
            for r_, q_ in zip(rows.tolist(), qq.tolist(), strict=True):
                v_ = int(f.vid[r_])
                self._open_events[v_] = (str(d.ids[v_]), str(d.line[v_]), int(st.bus[q_]), t)

    def _sched_dep(self, vid: int, q: int) -> float:
        """Scheduled departure from stop ``q``: planned departure + free-flow time + dwells."""
        st = self.stops
        start = int(self.demand.route_offsets[vid])
        ff = float(self._tt_cum[st.ridx[q]] - self._tt_cum[start])
        return float(self.demand.depart[vid]) + ff + float(self.rec_dwell_done[vid])

    def _router(self, grp: int) -> Router:
        """The shortest-path router of a class group around the edges blocked now (kept per
        group until the blocked edges change: building one costs more than a route)."""
        r = self._routers.get(grp)
        if r is None:
            r = Router(self.graph, self.topo.perm_bits[grp], blocked=tuple(self._edge_blocked.tolist()))
            self._routers[grp] = r
        return r

    def _reroute_stuck(self, i: int) -> None:
        """A vehicle waiting long at a lane end for a lane change gives up: it takes a connection
        its lane has and a new shortest route from there (as a driver would)."""
        f = self.fleet
        topo = self.topo
        lane = int(f.lane[i])
        g = int(f.grp[i])
        dest = int(self.routes[f.rend[i] - 1])
        here = int(self.routes[f.rpos[i]])
        best: list[int] | None = None
        cost = np.inf
        r = self._router(g)
        for c in np.flatnonzero(topo.conn_from == lane).tolist():
            if not (topo.conn_ok[g, c] and topo.lane_ok[g, topo.conn_to[c]]):
                continue
            path = r.route(int(topo.conn_to_edge[c]), dest)
            if path is None:
                continue
            tt = self.graph.free_flow_time(path)
            if tt < cost:
                best, cost = path, tt
        if best is not None:
            self._replace_route(i, [here, *best])
            f.wait[i] = 0.0
            self.stats["reroutes"] += 1

    def _teleport(self, rows: I64, arrived: B) -> None:
        """Move vehicles stuck too long to the start of a later route edge with room."""
        f = self.fleet
        topo = self.topo
        for i in rows.tolist():
            e = build_entries(f, topo)
            r = int(f.rpos[i]) + 1
            placed = False
            while r < int(f.rend[i]) and not placed:
                edge = int(self.routes[r])
                for ln in range(int(topo.edge_first[edge]), int(topo.edge_first[edge] + topo.edge_nlanes[edge])):
                    if not topo.lane_ok[f.grp[i], ln] or not self._lane_open[ln] or topo.lane_len[ln] < f.length[i]:
                        continue
                    # nobody within 30 m before the lane start up to well past the vehicle
                    j, ok = e.first_at_or_after(np.array([ln]), np.array([-30.0]))
                    if ok[0] and e.pos[j[0]] - e.length[j[0]] < 2.0 * (f.length[i] + f.min_gap[i]) + 5.0:
                        continue
                    f.lane[i] = ln
                    f.s[i] = f.length[i]
                    f.v[i] = 0.0
                    f.rpos[i] = r
                    f.prev_lane[i] = -1
                    f.jconn[i] = -1
                    f.wait[i] = 0.0
                    placed = True
                    break
                if not placed:
                    r += 1
            if placed:
                self.rec_tele[f.vid[i]] += 1
                self.stats["teleports"] += 1
            elif r >= int(f.rend[i]):
                arrived[i] = True
                self.rec_tele[f.vid[i]] += 1
                self.stats["teleports"] += 1

    def _sample_queues(self) -> None:
        f = self.fleet
        if f.n == 0:
            return
        topo = self.topo
        g = topo.lane_group[f.lane]
        p = topo.lane_goff[f.lane] + f.s
        normal = topo.lane_normal[g]
        halting = f.v < 0.5
        moving_front = np.full(topo.n_lanes, -np.inf)
        mv = normal & ~halting
        np.maximum.at(moving_front, g[mv], p[mv])
        inq = normal & halting & (p > moving_front[g])
        back = np.full(topo.n_lanes, np.inf)
        np.minimum.at(back, g[inq], p[inq] - f.length[inq])
        has = np.isfinite(back)
        q = np.zeros(topo.n_lanes)
        q[has] = topo.lane_len[has] - np.maximum(back[has], 0.0)
        np.maximum(self.max_queue, q, out=self.max_queue)
        self.queue_now = q
