"""Generated demand for any network (grids, corridors, imported maps): random trips with class
shares, bus lines along straight roads with the network's bus stops, robotaxi trips to parking.

Everything is drawn from one generator seeded by ``seed``: the same network, arguments and seed
give the same demand.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from roadnet.model import NORMAL, RoadNetwork
from sim.demand.model import LANE_BEST, LANE_CODES, POS_BASE, POS_CODES, Demand, DemandBuilder, concat
from sim.demand.routing import EdgeGraph, Router
from sim.demand.vtypes import VTypes, default_vtypes

I64 = npt.NDArray[np.int64]

DEFAULT_SHARES: dict[str, float] = {"car": 0.85, "truck": 0.05, "robotaxi": 0.10}


def _edges_for(net: RoadNetwork, g: EdgeGraph, bits: int) -> tuple[I64, I64, I64]:
    """(all, fringe-in, fringe-out) normal edges usable with permission ``bits``."""
    e = np.flatnonzero((net.edge_function == NORMAL) & ((g.edge_bits & bits) != 0))
    dead = np.array([t == "dead_end" for t in net.junction_type] + [False], dtype=np.bool_)
    has_out = np.zeros(g.n_edges, dtype=np.bool_)
    has_in = np.zeros(g.n_edges, dtype=np.bool_)
    has_out[g.arc_from] = True
    has_in[g.arc_to] = True
    fr_in = e[dead[net.edge_from[e]] | ~has_in[e]]
    fr_out = e[dead[net.edge_to[e]] | ~has_out[e]]
    return e, fr_in, fr_out


def _times(
    rng: np.random.Generator, count: int | None, vehicles_per_hour: float | None, begin: float, end: float
) -> npt.NDArray[np.float64]:
    if count is None:
        if vehicles_per_hour is None:
            raise ValueError("give count or vehicles_per_hour")
        count = int(rng.poisson(vehicles_per_hour * (end - begin) / 3600.0))
    out: npt.NDArray[np.float64] = np.sort(rng.uniform(begin, end, count))
    return out


def random_trips(
    net: RoadNetwork,
    *,
    count: int | None = None,
    vehicles_per_hour: float | None = None,
    begin: float = 0.0,
    end: float = 3600.0,
    shares: Mapping[str, float] | None = None,
    fringe_share: float = 0.5,
    min_length: float = 300.0,
    depart_pos: str = "base",
    depart_lane: str = "best",
    seed: int = 0,
    prefix: str = "veh",
    vtypes: VTypes | None = None,
    graph: EdgeGraph | None = None,
) -> Demand:
    """Random routed trips between edges, by class shares.

    Parameters
    ----------
    count, vehicles_per_hour
        How many trips: exactly ``count``, or Poisson with this rate over [begin, end).
    shares
        Type id -> share (types of ``vtypes``; default 85% car, 5% truck, 10% robotaxi).
    fringe_share
        Probability that a trip starts (and, independently, ends) on the network's fringe.
    min_length
        Shortest route kept, m (shorter draws are redrawn).
    depart_pos, depart_lane
        SUMO's departPos (base, random, free) and departLane (best, random, free).
    """
    g = graph or EdgeGraph(net)
    vt = vtypes or default_vtypes()
    shares = dict(shares or DEFAULT_SHARES)
    rng = np.random.default_rng([seed, 0x7219])
    times = _times(rng, count, vehicles_per_hour, begin, end)
    names = list(shares)
    p = np.array([shares[k] for k in names], dtype=np.float64)
    kinds = rng.choice(len(names), size=len(times), p=p / p.sum())
    park_edges = np.unique(net.lane_edge[net.parking_lane]) if len(net.parking_lane) else np.zeros(0, np.int64)
    b = DemandBuilder(vt, seed=seed, source=f"random_trips(seed={seed})")
    for k, name in enumerate(names):
        ti = vt.index(name)
        if ti < 0:
            raise ValueError(f"unknown vehicle type {name!r} in shares")
        sel = np.flatnonzero(kinds == k)
        if len(sel) == 0:
            continue
        bits = int(vt.bits[ti])
        alle, fin, fout = _edges_for(net, g, bits)
        router = Router(g, bits)
        todo = sel
        for _attempt in range(8):
            if len(todo) == 0:
                break
            n = len(todo)
            o = np.where(
                (rng.random(n) < fringe_share) & (len(fin) > 0),
                rng.choice(fin if len(fin) else alle, n),
                rng.choice(alle, n),
            )
            if name == "robotaxi" and len(park_edges):
                d = rng.choice(park_edges, n)
            else:
                d = np.where(
                    (rng.random(n) < fringe_share) & (len(fout) > 0),
                    rng.choice(fout if len(fout) else alle, n),
                    rng.choice(alle, n),
                )
            paths = router.routes(o, d)
            left = []
            for j, path in zip(todo.tolist(), paths, strict=True):
                if path is None or g.edge_len[path].sum() < min_length or len(path) < 2:
                    left.append(j)
                    continue
                b.add(
                    f"{prefix}{j}",
                    float(times[j]),
                    ti,
                    path,
                    depart_lane=LANE_CODES.get(depart_lane, LANE_BEST),
                    depart_pos_kind=POS_CODES.get(depart_pos, POS_BASE),
                )
            todo = np.array(left, dtype=np.int64)
        if len(todo):
            b.problems.append(f"{len(todo)} {name} trip(s) found no route of {min_length:.0f} m or more")
    return b.build()


def straight_paths(net: RoadNetwork, graph: EdgeGraph | None = None, bits: int = 1 << 2) -> list[list[int]]:
    """Routes that enter at the fringe and go straight on (``dir == 's'``) until they leave.

    Sorted by the number of bus stops on them, then by length (longest first).
    """
    g = graph or EdgeGraph(net)
    _, fin, _ = _edges_for(net, g, bits)
    c_from = net.lane_edge[net.conn_from_lane]
    c_to = net.lane_edge[net.conn_to_lane]
    straight: dict[int, int] = {}
    for c in np.flatnonzero(np.array([d == "s" for d in net.conn_dir], dtype=np.bool_)):
        if g.conn_bits[c] & bits:
            straight.setdefault(int(c_from[c]), int(c_to[c]))
    stops_on = np.zeros(g.n_edges, dtype=np.int64)
    if len(net.stop_lane):
        np.add.at(stops_on, net.lane_edge[net.stop_lane], 1)
    out = []
    for e0 in fin.tolist():
        path = [e0]
        while path[-1] in straight and straight[path[-1]] not in path and len(path) < 10_000:
            path.append(straight[path[-1]])
        if len(path) >= 3:
            out.append(path)
    out.sort(key=lambda p: (-int(stops_on[p].sum()), -float(g.edge_len[p].sum()), p[0]))
    return out


def bus_lines(
    net: RoadNetwork,
    *,
    n_lines: int = 2,
    headway: float = 300.0,
    begin: float = 0.0,
    end: float = 3600.0,
    dwell: float = 20.0,
    vtype: str = "bus",
    vtypes: VTypes | None = None,
    graph: EdgeGraph | None = None,
) -> Demand:
    """Bus lines ``L0..`` along straight roads, stopping at the network's bus stops on them.

    Each bus gets a timetable: ``stop_until`` = its departure + free-flow time to the stop + the
    dwells before + its dwell, so punctuality can be measured.
    """
    g = graph or EdgeGraph(net)
    vt = vtypes or default_vtypes()
    ti = vt.index(vtype)
    if ti < 0:
        raise ValueError(f"unknown vehicle type {vtype!r}")
    bits = int(vt.bits[ti])
    paths = straight_paths(net, g, bits)[:n_lines]
    b = DemandBuilder(vt, source="bus_lines")
    if len(paths) < n_lines:
        b.problems.append(f"only {len(paths)} straight road(s) for {n_lines} bus line(s)")
    lane_ok = (net.lane_allow[net.stop_lane].astype(np.int64) & bits) != 0 if len(net.stop_lane) else np.zeros(0, bool)
    for k, path in enumerate(paths):
        pos_of = {e: i for i, e in enumerate(path)}
        cand = [q for q in range(len(net.stop_ids)) if lane_ok[q] and int(net.lane_edge[net.stop_lane[q]]) in pos_of]
        cand.sort(key=lambda q: (pos_of[int(net.lane_edge[net.stop_lane[q]])], float(net.stop_end[q])))
        cum = np.concatenate([[0.0], np.cumsum(g.edge_tt[path])])
        spd = net.lane_speed[net.stop_lane[cand]] if cand else np.zeros(0)
        t_ff = [
            float(cum[pos_of[int(net.lane_edge[net.stop_lane[q]])]]) + float(net.stop_end[q]) / max(float(v), 1.0)
            for q, v in zip(cand, spd, strict=True)
        ]
        for j, t0 in enumerate(np.arange(begin, end, headway).tolist()):
            stops = [
                (q, -1, int(net.stop_lane[q]), float(net.stop_end[q]), dwell, t0 + tf + dwell * (m + 1))
                for m, (q, tf) in enumerate(zip(cand, t_ff, strict=True))
            ]
            b.add(f"L{k}.{j}", t0, ti, path, line=f"L{k}", stops=stops, depart_lane=LANE_BEST)
    return b.build()


def grid_demand(
    net: RoadNetwork,
    *,
    vehicles_per_hour: float = 2000.0,
    begin: float = 0.0,
    end: float = 3600.0,
    shares: Mapping[str, float] | None = None,
    n_lines: int = 2,
    headway: float = 300.0,
    seed: int = 0,
) -> Demand:
    """Random trips plus bus lines: the default demand of a generated grid or corridor."""
    g = EdgeGraph(net)
    vt = default_vtypes()
    parts = [
        random_trips(
            net, vehicles_per_hour=vehicles_per_hour, begin=begin, end=end, shares=shares, seed=seed, vtypes=vt, graph=g
        )
    ]
    if n_lines > 0:
        parts.append(bus_lines(net, n_lines=n_lines, headway=headway, begin=begin, end=end, vtypes=vt, graph=g))
    return concat(parts)
