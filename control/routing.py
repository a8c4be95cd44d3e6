"""Routing on live edge travel times, route advisories and diversion around closed lanes.

The graph's nodes are the map's normal edges; an arc e -> f exists when a connection leads from
a lane of e to a lane of f, and costs f's travel time (so a path's cost is the time to drive
every edge after the first). Live travel times come from the picture: an edge's free-flow time
(length / limit) stretched by the mean speed of its lanes when vehicles are on it, plus the
discharge time of its queue; an edge whose lanes are all closed is impassable, one with some
lanes closed costs ``n / n_open`` times more. Shortest paths for many sources at once use
``scipy.sparse.csgraph.dijkstra``.

Robotaxis register their trips (:meth:`Router.register_trip`, e.g. from the fleet API); every
``period_s`` a robotaxi whose remaining route is impassable or notably slower than the best gets
a ``pb.Advisory(route=RouteAdvice)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from control.advice import advisory
from control.config import RoutingConfig
from proto import pb
from roadnet import MapMatcher, RoadNetwork
from roadnet.model import NORMAL

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

ROBOTAXI = 4
#: slowest speed credited to a lane with vehicles, m/s (a jam still moves)
V_FLOOR = 1.0
#: discharge headway of a queued vehicle, s
HEADWAY_S = 2.0
#: events whose closed lanes are taken out of the graph
CLOSING_EVENTS = (pb.EVENT_KIND_INCIDENT, pb.EVENT_KIND_LANE_CLOSURE, pb.EVENT_KIND_ROADWORKS)


def closed_lanes(net: RoadNetwork, events: list[pb.Event], now: float) -> B:
    """(L,) lanes closed by ongoing incidents, lane closures and roadworks."""
    out = np.zeros(len(net.lane_ids), dtype=np.bool_)
    idx = net.lane_index_of
    for e in events:
        if e.kind not in CLOSING_EVENTS or (e.end_ns and e.end_ns / 1e9 <= now):
            continue
        for lane in e.closed_lanes:
            i = idx.get(lane)
            if i is not None:
                out[i] = True
    return out


@dataclass
class Trip:
    """A registered trip: where the vehicle goes and the route it follows now."""

    destination: int  #: edge index
    route: list[int] = field(default_factory=list)
    last_advice: float = -math.inf


class Router:
    """Shortest paths on live travel times; see the module docstring.

    Parameters
    ----------
    net
        The road network (E edges).
    cfg
        Advisory thresholds and period.
    matcher
        Map-matcher for vehicle positions (built when not given).
    """

    def __init__(self, net: RoadNetwork, cfg: RoutingConfig | None = None, matcher: MapMatcher | None = None) -> None:
        self.net = net
        self.cfg = cfg or RoutingConfig()
        self.matcher = matcher or MapMatcher(net)
        e = len(net.edge_ids)
        self.normal = net.edge_function == NORMAL
        lanes_of = np.diff(net.edge_lane_offsets)
        first = net.edge_lane_offsets[:-1]
        has = lanes_of > 0
        self.length = np.where(has, net.lane_length[np.minimum(first, max(len(net.lane_ids) - 1, 0))], 0.0)
        self.n_lanes = lanes_of
        speed = np.where(has, net.lane_speed[np.minimum(first, max(len(net.lane_ids) - 1, 0))], 1.0)
        self.free = np.where(self.normal, self.length / np.maximum(speed, 0.1), np.inf)
        ef = net.lane_edge[net.conn_from_lane]
        et = net.lane_edge[net.conn_to_lane]
        ok = self.normal[ef] & self.normal[et] & (ef != et)
        pairs = np.unique(np.stack([ef[ok], et[ok]], axis=1), axis=0) if ok.any() else np.zeros((0, 2), np.int64)
        self.arc_from, self.arc_to = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
        self.n_edges = e
        self.trips: dict[str, Trip] = {}
        self._t_last = -math.inf

    # ------------------------------------------------------------------ travel times
    def edge_times(self, lanes: npt.NDArray[Any], closed: B | None = None, edge_tt: F64 | None = None) -> F64:
        """(E,) live travel time per edge, s (inf: impassable or not a road)."""
        net = self.net
        li = net.lane_edge
        e = self.n_edges
        cnt = np.bincount(li, weights=lanes["count"], minlength=e)
        vsum = np.bincount(li, weights=np.nan_to_num(lanes["mean_speed"]) * lanes["count"], minlength=e)
        q = np.bincount(li, weights=lanes["queue_veh"], minlength=e)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(cnt > 0, np.maximum(vsum / cnt, V_FLOOR), np.inf)
            moving = np.where(cnt > 0, self.length / v, self.free)
        tt = np.maximum(moving, self.free) + q * HEADWAY_S / np.maximum(self.n_lanes, 1)
        if edge_tt is not None:
            tt = np.where(np.isfinite(edge_tt), edge_tt, tt)
        if closed is not None and closed.any():
            n_closed = np.bincount(li[closed], minlength=e)
            open_ = self.n_lanes - n_closed
            tt = np.where(open_ <= 0, np.inf, tt * self.n_lanes / np.maximum(open_, 1))
        out: F64 = np.where(self.normal, tt, np.inf)
        return out

    # ------------------------------------------------------------------ paths
    def shortest(self, sources: npt.ArrayLike, tt: F64) -> tuple[F64, I64]:
        """Times and predecessors from each source edge to every edge, each (S, E).

        The time excludes the source edge itself; unreachable edges are inf / -9999.
        """
        w = tt[self.arc_to]
        ok = np.isfinite(w)
        g = csr_matrix(
            (np.maximum(w[ok], 1e-6), (self.arc_from[ok], self.arc_to[ok])), shape=(self.n_edges, self.n_edges)
        )
        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        dist, pred = dijkstra(g, directed=True, indices=src, return_predecessors=True)
        return np.atleast_2d(dist), np.atleast_2d(pred).astype(np.int64)

    @staticmethod
    def path(pred: I64, src: int, dst: int) -> list[int]:
        """Edges from ``src`` to ``dst`` along one row of predecessors (empty when unreachable)."""
        if src == dst:
            return [src]
        out = [dst]
        cur = dst
        for _ in range(len(pred)):
            cur = int(pred[cur])
            if cur < 0:
                return []
            out.append(cur)
            if cur == src:
                return out[::-1]
        return []

    def best_route(self, src_edge: str, dst_edge: str, tt: F64 | None = None) -> tuple[list[str], float]:
        """(edge ids, s) of the fastest route between two edges (free flow when ``tt`` is None)."""
        idx = self.net.edge_index_of
        s, d = idx[src_edge], idx[dst_edge]
        times = self.free if tt is None else tt
        dist, pred = self.shortest([s], times)
        p = self.path(pred[0], s, d)
        return [self.net.edge_ids[i] for i in p], float(dist[0, d])

    # ------------------------------------------------------------------ trips and advisories
    def register_trip(self, vehicle_id: str, destination_edge: str, route: list[str] | None = None) -> None:
        """Register (or update) a robotaxi's destination and current route (edge ids)."""
        idx = self.net.edge_index_of
        if destination_edge not in idx:
            raise ValueError(f"unknown destination edge {destination_edge!r}")
        r = [idx[e] for e in (route or []) if e in idx]
        self.trips[vehicle_id] = Trip(idx[destination_edge], r)

    def advisories(
        self, now: float, vehicles: npt.NDArray[Any], tt: F64, *, reason_closed: str = "incident"
    ) -> list[pb.Advisory]:
        """Route advisories for registered robotaxis whose route is impassable or notably slower."""
        cfg = self.cfg
        if not cfg.enabled or now - self._t_last < cfg.period_s or not self.trips or len(vehicles) == 0:
            return []
        self._t_last = now
        sel = np.flatnonzero(np.isin(vehicles["vehicle_id"], list(self.trips)))
        if len(sel) == 0:
            return []
        mm = self.matcher.match(np.stack([vehicles["x"][sel], vehicles["y"][sel]], axis=1), vehicles["heading"][sel])
        lane = mm.lane
        ok = (lane >= 0) & ~self.net.lane_internal[np.maximum(lane, 0)]
        sel, lane = sel[ok], lane[ok]
        if len(sel) == 0:
            return []
        cur = self.net.lane_edge[lane]
        dist, pred = self.shortest(cur, tt)
        out: list[pb.Advisory] = []
        now_ns = round(now * 1e9)
        for i, v in enumerate(sel.tolist()):
            vid = str(vehicles["vehicle_id"][v])
            trip = self.trips[vid]
            src = int(cur[i])
            best = float(dist[i, trip.destination])
            if not math.isfinite(best):
                continue
            route = trip.route
            rest = route[route.index(src) + 1 :] if src in route else []
            current = float(tt[rest].sum()) if rest else math.inf
            blocked = bool(rest) and not np.isfinite(tt[rest]).all()
            gain = current - best
            if not (blocked or (gain >= cfg.min_gain_s and gain >= cfg.min_gain_frac * current)) or not rest:
                continue
            edges = self.path(pred[i], src, trip.destination)
            if not edges:
                continue
            trip.route, trip.last_advice = edges, now
            why = reason_closed if blocked else "congestion"
            out.append(
                advisory(
                    f"route-{vid}-{now_ns}",
                    vid,
                    now_ns,
                    cfg.expiry_s,
                    route=pb.RouteAdvice(
                        edge_ids=[self.net.edge_ids[e] for e in edges],
                        expected_travel_s=best,
                        current_route_s=current if math.isfinite(current) else 0.0,
                        reason=why,
                        destination_edge=self.net.edge_ids[trip.destination],
                    ),
                )
            )
        return out
