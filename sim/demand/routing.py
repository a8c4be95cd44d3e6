"""Shortest routes on the edge graph of a road network (free-flow travel time), per vehicle class.

The graph's nodes are edges; an arc ``e -> f`` exists when a connection leads from a lane of ``e``
to a lane of ``f`` and the vehicle's class may use its lanes. An arc costs the free-flow time of
``f`` plus the connection's internal lanes. Many origins are routed at once with
:func:`scipy.sparse.csgraph.dijkstra`; only the path walk-back is per trip.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from roadnet.model import NORMAL, RoadNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: origins routed per Dijkstra batch (bounds memory at batch x E)
BATCH = 256


class EdgeGraph:
    """The routing graph of ``net``: arcs between normal edges with their class permissions.

    Attributes
    ----------
    arc_from, arc_to
        (R,) edge indices of each arc (one per distinct edge pair).
    arc_bits
        (R,) union of the permission bits of the connections realising the arc.
    arc_cost
        (R,) free-flow seconds: the target edge plus the fastest connection's internal lanes.
    edge_tt, edge_len
        (E,) free-flow time (s) and length (m) of each edge (its longest lane; 0 for internal).
    edge_bits
        (E,) union of the edge's lanes' permission bits.
    """

    def __init__(self, net: RoadNetwork) -> None:
        self.net = net
        ne = len(net.edge_ids)
        self.n_edges = ne
        normal = net.edge_function[net.lane_edge] == NORMAL
        lt = np.where(net.lane_speed > 0, net.lane_length / np.maximum(net.lane_speed, 1e-3), 0.0)
        self.edge_len = np.zeros(ne)
        self.edge_tt = np.zeros(ne)
        np.maximum.at(self.edge_len, net.lane_edge[normal], net.lane_length[normal])
        np.maximum.at(self.edge_tt, net.lane_edge[normal], lt[normal])
        self.edge_bits = np.zeros(ne, dtype=np.int64)
        np.bitwise_or.at(self.edge_bits, net.lane_edge, net.lane_allow.astype(np.int64))
        c_from = net.lane_edge[net.conn_from_lane]
        c_to = net.lane_edge[net.conn_to_lane]
        bits = net.lane_allow[net.conn_from_lane].astype(np.int64) & net.lane_allow[net.conn_to_lane]
        via_tt = np.zeros(len(c_from))
        nv = np.diff(net.conn_via_offsets)
        if len(net.conn_via_lanes):
            owner = np.repeat(np.arange(len(c_from)), nv)
            np.add.at(via_tt, owner, lt[net.conn_via_lanes])
            vb = np.full(len(c_from), 0xFFFF, dtype=np.int64)
            np.bitwise_and.at(vb, owner, net.lane_allow[net.conn_via_lanes].astype(np.int64))
            bits &= vb
        self.conn_bits = bits
        self.conn_via_tt = via_tt
        key = c_from * ne + c_to
        order = np.lexsort((via_tt, key))
        key_s = key[order]
        first = np.flatnonzero(np.r_[True, key_s[1:] != key_s[:-1]])
        self.arc_from = c_from[order][first]
        self.arc_to = c_to[order][first]
        self.arc_bits = np.bitwise_or.reduceat(bits[order], first) if len(first) else np.zeros(0, np.int64)
        self.arc_via_tt = via_tt[order][first]
        via_len = np.zeros(len(c_from))
        if len(net.conn_via_lanes):
            np.add.at(via_len, owner, net.lane_length[net.conn_via_lanes])
        self.arc_via_len = via_len[order][first]
        self.arc_cost = np.maximum(self.edge_tt[self.arc_to] + self.arc_via_tt, 1e-3)
        self._arc_key = key_s[first]

    def arcs_exist(self, e_from: I64, e_to: I64, bits: I64 | int) -> npt.NDArray[np.bool_]:
        """(n,) True where an arc e_from -> e_to exists for vehicles with permission ``bits``."""
        k = np.asarray(e_from, dtype=np.int64) * self.n_edges + np.asarray(e_to, dtype=np.int64)
        i = np.searchsorted(self._arc_key, k)
        i = np.minimum(i, max(len(self._arc_key) - 1, 0))
        if len(self._arc_key) == 0:
            return np.zeros(len(k), dtype=np.bool_)
        ok: npt.NDArray[np.bool_] = (self._arc_key[i] == k) & ((self.arc_bits[i] & bits) != 0)
        return ok

    def arc_index(self, e_from: I64, e_to: I64) -> I64:
        """(n,) index of the arc e_from -> e_to (-1 when there is none)."""
        k = np.asarray(e_from, dtype=np.int64) * self.n_edges + np.asarray(e_to, dtype=np.int64)
        if len(self._arc_key) == 0:
            return np.full(len(k), -1, dtype=np.int64)
        i = np.minimum(np.searchsorted(self._arc_key, k), len(self._arc_key) - 1)
        out: I64 = np.where(self._arc_key[i] == k, i, -1)
        return out

    def position_costs(self, edges: I64, first: npt.NDArray[np.bool_]) -> tuple[F64, F64]:
        """Free-flow seconds and metres of each position of flat routes.

        Position i costs its edge plus the internal lanes from the previous position's edge,
        except where ``first[i]`` (the first edge of a route).
        """
        prev = np.roll(edges, 1)
        a = self.arc_index(prev, edges)
        via = ~first & (a >= 0)
        tt = self.edge_tt[edges] + np.where(via, self.arc_via_tt[np.maximum(a, 0)], 0.0)
        ln = self.edge_len[edges] + np.where(via, self.arc_via_len[np.maximum(a, 0)], 0.0)
        return tt, ln

    def route_valid(self, edges: Sequence[int] | I64, bits: int) -> bool:
        """True when consecutive edges of ``edges`` are connected for vehicles with ``bits``."""
        e = np.asarray(edges, dtype=np.int64)
        if len(e) == 0 or np.any((e < 0) | (e >= self.n_edges)):
            return False
        if not (self.edge_bits[e[0]] & bits):
            return False
        return bool(np.all(self.arcs_exist(e[:-1], e[1:], bits)))

    def route_length(self, edges: Sequence[int] | I64) -> float:
        """Metres along a route's edges (the internal lanes between them not counted)."""
        e = np.asarray(edges, dtype=np.int64)
        return float(self.edge_len[e].sum())

    def free_flow_time(self, edges: Sequence[int] | I64) -> float:
        """Free-flow seconds along a route (edges plus the fastest connections between them)."""
        e = np.asarray(edges, dtype=np.int64)
        if len(e) == 0:
            return 0.0
        k = e[:-1] * self.n_edges + e[1:]
        i = np.clip(np.searchsorted(self._arc_key, k), 0, max(len(self._arc_key) - 1, 0))
        via = np.where(self._arc_key[i] == k, self.arc_via_tt[i], 0.0) if len(self._arc_key) else np.zeros(len(k))
        return float(self.edge_tt[e].sum() + via.sum())


class Router:
    """Shortest free-flow routes for one permission class on an :class:`EdgeGraph`.

    Parameters
    ----------
    graph
        The edge graph.
    bits
        Permission bits of the vehicles to route (``VTypes.bits``).
    blocked
        Edge indices that may not be used (closed roads).
    cost
        (E,) optional per-edge travel times replacing the free-flow ones (s).
    """

    def __init__(self, graph: EdgeGraph, bits: int, *, blocked: Iterable[int] = (), cost: F64 | None = None) -> None:
        self.g = graph
        self.bits = bits
        ok = (graph.arc_bits & bits) != 0
        blk = np.zeros(graph.n_edges, dtype=np.bool_)
        blk[np.fromiter(blocked, dtype=np.int64)] = True
        ok &= ~blk[graph.arc_to] & ~blk[graph.arc_from]
        w = graph.arc_cost if cost is None else np.maximum(cost[graph.arc_to] + graph.arc_via_tt, 1e-3)
        n = graph.n_edges
        self.matrix = csr_matrix((w[ok], (graph.arc_from[ok], graph.arc_to[ok])), shape=(n, n))
        self._cache: dict[int, tuple[F64, npt.NDArray[np.int32]]] = {}

    def _trees(self, sources: I64) -> None:
        todo = np.array(sorted(set(sources.tolist()) - set(self._cache)), dtype=np.int64)
        for a in range(0, len(todo), BATCH):
            idx = todo[a : a + BATCH]
            dist, pred = dijkstra(self.matrix, directed=True, indices=idx, return_predecessors=True)
            for k, s in enumerate(idx.tolist()):
                self._cache[s] = (dist[k], pred[k])

    def routes(self, origins: Sequence[int] | I64, dests: Sequence[int] | I64) -> list[list[int] | None]:
        """Shortest routes from each origin edge to the matching destination edge.

        Returns
        -------
        list
            One edge list per pair (origin first, destination last), None when unreachable.
        """
        o = np.asarray(origins, dtype=np.int64)
        d = np.asarray(dests, dtype=np.int64)
        self._trees(o)
        out: list[list[int] | None] = []
        for a, b in zip(o.tolist(), d.tolist(), strict=True):
            if a == b:
                out.append([a])
                continue
            dist, pred = self._cache[a]
            if not np.isfinite(dist[b]):
                out.append(None)
                continue
            path = [b]
            while path[-1] != a:
                path.append(int(pred[path[-1]]))
            out.append(path[::-1])
        return out

    def route(self, origin: int, dest: int, via: Sequence[int] = ()) -> list[int] | None:
        """One route through ``via`` edges in order, None when a leg is unreachable."""
        stops = [origin, *via, dest]
        full: list[int] = [origin]
        for a, b in itertools.pairwise(stops):
            leg = self.routes([a], [b])[0]
            if leg is None:
                return None
            full.extend(leg[1:])
        return full
