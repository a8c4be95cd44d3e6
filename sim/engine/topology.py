"""Static tables of a road network, derived once, that the engine's vectorised step reads.

Car following runs on *groups*: a group is a normal lane together with the internal lanes that
lead into it (their positions counted negative, back from the lane start), so vehicles merging
into a lane from several internal lanes are ordered by their distance to the merge. The first
internal lane of a connection with an internal junction (two or more internal lanes: a left
turn's waiting position, ``cont`` in SUMO) is a group of its own: vehicles wait at its end,
before the conflict area, without blocking anybody else's path.

The *conflict zone* of a connection is the part of its internal lanes where it meets its foes:
all internal lanes, or all but the first for a connection with an internal junction.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from roadnet.model import NORMAL, RoadNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: connection modes (what a vehicle may do at a link this step)
M_RED: Final = 0  # stop
M_AMBER: Final = 1  # stop if it can do so comfortably
M_PRIORITY: Final = 2  # go; only vehicles already inside the junction matter
M_YIELD: Final = 3  # go when no prioritised foe comes
M_STOP: Final = 4  # stop at the line, then yield

#: SUMO link state characters -> mode (``O``: the connection's unsignalised rule, -1 here)
_CHAR_MODE: Final[dict[str, int]] = {
    "r": M_RED,
    "u": M_RED,
    "y": M_AMBER,
    "Y": M_AMBER,
    "G": M_PRIORITY,
    "g": M_YIELD,
    "s": M_STOP,
    "o": M_YIELD,
    "O": -1,
}
#: unsignalised SUMO connection states -> mode
_CONN_MODE: Final[dict[str, int]] = {
    "M": M_PRIORITY,
    "m": M_YIELD,
    "=": M_YIELD,
    "Z": M_YIELD,
    "s": M_STOP,
    "w": M_STOP,
}

#: code point -> mode lookup for '<U1' link-state arrays
CHAR_MODE_LUT: Final = np.full(128, -1, dtype=np.int64)
for _c, _m in _CHAR_MODE.items():
    CHAR_MODE_LUT[ord(_c)] = _m


def lane_distance(mask: I64, idx: I64) -> I64:
    """(n,) lanes between index ``idx`` and the nearest lane of the bitmask ``mask`` (0 inside; 9 empty)."""
    out = np.full(len(idx), 9, dtype=np.int64)
    for d in range(8, -1, -1):
        lo, hi = idx - d, idx + d
        near = ((lo >= 0) & ((np.right_shift(mask, np.maximum(lo, 0)) & 1) == 1)) | (
            (hi <= 62) & ((np.right_shift(mask, np.minimum(hi, 62)) & 1) == 1)
        )
        out = np.where(near, d, out)
    return out


def _mask_tables(k: int) -> tuple[I64, I64]:
    if k > 12:
        raise ValueError(f"edges with {k} lanes are not supported (at most 12)")
    masks = np.arange(1 << k, dtype=np.int64)
    idx = np.arange(k, dtype=np.int64)
    mm = np.repeat(masks, k)
    ii = np.tile(idx, len(masks))
    dist = lane_distance(mm, ii)
    # direction: towards the nearest wanted lane, to the right on a tie
    bit = np.left_shift(1, ii)
    below = np.where(mm & (bit - 1), np.floor(np.log2(np.maximum(mm & (bit - 1), 1))).astype(np.int64), -1)
    above_m = np.right_shift(mm, ii + 1)
    above = np.where(above_m > 0, ii + 1 + np.log2(np.maximum(above_m & -above_m, 1)).astype(np.int64), -1)
    d_dn = np.where(below >= 0, ii - below, 99)
    d_up = np.where(above >= 0, above - ii, 99)
    direction = np.where(d_dn <= d_up, -1, 1)
    return dist.reshape(len(masks), k), direction.reshape(len(masks), k)


class Topology:
    """Engine tables of ``net`` for vehicles of the given permission classes.

    Parameters
    ----------
    net
        The road network.
    perm_bits
        The distinct lane-permission bit sets of the vehicle types (one *permission group* each).

    Notes
    -----
    Shapes: L lanes, E edges, C connections, G permission groups. All lengths in metres.
    """

    def __init__(self, net: RoadNetwork, perm_bits: list[int]) -> None:
        self.net = net
        L, E, C = len(net.lane_ids), len(net.edge_ids), len(net.conn_from_lane)
        self.n_lanes, self.n_edges, self.n_conns = L, E, C
        self.lane_len: F64 = np.maximum(net.lane_length.astype(np.float64), 0.01)
        self.lane_speed: F64 = np.maximum(net.lane_speed.astype(np.float64), 0.5)
        self.lane_edge: I64 = net.lane_edge
        self.lane_idx: I64 = net.lane_index
        self.lane_normal: B = net.edge_function[net.lane_edge] == NORMAL
        self.edge_first: I64 = net.edge_lane_offsets[:-1].copy()
        self.edge_nlanes: I64 = np.diff(net.edge_lane_offsets)
        self.max_lanes = int(self.edge_nlanes.max()) if E else 1
        #: (2^K, K) lanes between index k and the nearest lane of a bitmask (9: empty mask), and
        #: the direction (-1 right, +1 left) to it; K = the most lanes an edge has
        self.dist_lut, self.dir_lut = _mask_tables(max(self.max_lanes, 1))

        # ------------------------------------------------------------ connections
        self.conn_from: I64 = net.conn_from_lane
        self.conn_to: I64 = net.conn_to_lane
        nvia = np.diff(net.conn_via_offsets)
        self.conn_nvia: I64 = nvia
        self.conn_cont: B = nvia >= 2
        vo = net.conn_via_offsets
        first_via = np.full(C, -1, dtype=np.int64)
        has = nvia > 0
        first_via[has] = net.conn_via_lanes[vo[:-1][has]]
        self.conn_first: I64 = np.where(nvia > 0, first_via, self.conn_to)
        self.conn_via0: I64 = np.where(self.conn_cont, first_via, -1)
        owner = np.repeat(np.arange(C), nvia)
        vl = self.lane_len[net.conn_via_lanes] if len(net.conn_via_lanes) else np.zeros(0)
        self.conn_vialen: F64 = np.zeros(C)
        np.add.at(self.conn_vialen, owner, vl)
        via0_len = np.where(self.conn_cont, self.lane_len[np.maximum(first_via, 0)], 0.0)
        #: length of the conflict zone (internal lanes after the waiting position), m
        self.conn_zone_len: F64 = self.conn_vialen - via0_len
        self.conn_from_edge: I64 = net.lane_edge[self.conn_from] if C else np.zeros(0, np.int64)
        self.conn_to_edge: I64 = net.lane_edge[self.conn_to] if C else np.zeros(0, np.int64)
        bits = net.lane_allow[self.conn_from].astype(np.int64) & net.lane_allow[self.conn_to].astype(np.int64)
        if len(net.conn_via_lanes):
            vb = np.full(C, 0xFFFF, dtype=np.int64)
            np.bitwise_and.at(vb, owner, net.lane_allow[net.conn_via_lanes].astype(np.int64))
            bits &= vb
        self.conn_bits: I64 = bits
        glink = net.tls_link_offsets[np.maximum(net.conn_tls, 0)] + net.conn_link if C else np.zeros(0, np.int64)
        self.conn_glink: I64 = np.where((net.conn_tls >= 0) & (net.conn_link >= 0), glink, -1)
        self.conn_glink[self.conn_glink >= int(net.tls_link_offsets[-1])] = -1

        # ------------------------------------------------------------ internal lanes and groups
        self.int_conn: I64 = np.full(L, -1, dtype=np.int64)
        self.int_k: I64 = np.full(L, -1, dtype=np.int64)
        self.int_next: I64 = np.full(L, -1, dtype=np.int64)
        self.lane_group: I64 = np.arange(L, dtype=np.int64)
        self.lane_goff: F64 = np.zeros(L)
        #: each internal lane's start along its connection's internal lanes, m (0 elsewhere)
        self.lane_chain_off: F64 = np.zeros(L)
        for c in range(C):
            vias = net.conn_via_lanes[vo[c] : vo[c + 1]]
            if len(vias) == 0:
                continue
            rem = np.cumsum(self.lane_len[vias][::-1])[::-1]  # from each via's start to the chain's end
            starts = np.concatenate([[0.0], np.cumsum(self.lane_len[vias])[:-1]])  # ... from the chain's start
            for k, ln in enumerate(vias.tolist()):
                if self.int_conn[ln] >= 0:
                    continue  # an internal lane shared by two connections: the first one owns it
                self.int_conn[ln] = c
                self.int_k[ln] = k
                self.lane_chain_off[ln] = starts[k]
                self.int_next[ln] = vias[k + 1] if k + 1 < len(vias) else self.conn_to[c]
                if self.conn_cont[c] and k == 0:
                    self.lane_group[ln] = ln
                    self.lane_goff[ln] = 0.0
                else:
                    self.lane_group[ln] = self.conn_to[c]
                    self.lane_goff[ln] = -float(rem[k])
        #: sort-key layout of group positions (see sim.engine.leaders)
        self.key_offset = float(self.conn_vialen.max(initial=0.0)) + 100.0
        self.key_scale = float(self.lane_len.max(initial=1.0)) + self.key_offset + 200.0
        #: True for lanes that start a group (normal lanes and waiting lanes)
        self.group_head: B = self.lane_group == np.arange(L)
        #: lanes in a conflict zone: internal lanes that are not a waiting lane
        self.lane_in_zone: B = (self.int_conn >= 0) & ~self.group_head

        # ------------------------------------------------------------ modes of unsignalised links
        resp_any = np.zeros(C, dtype=np.bool_)
        self._pairs(net)
        self._conflict_points(net)
        resp_any[self.yield_a] = True
        st = np.array([_CONN_MODE.get(s, -1) for s in net.conn_state], dtype=np.int64).reshape(C)
        self.conn_default: I64 = np.where(st >= 0, st, np.where(resp_any, M_YIELD, M_PRIORITY))

        # ------------------------------------------------------------ permission groups
        self.perm_bits = list(perm_bits)
        G = len(self.perm_bits)
        pb = np.array(self.perm_bits, dtype=np.int64).reshape(G, 1)
        #: (G, L) lane usable by the group; (G, C) connection usable by the group
        self.lane_ok: B = (net.lane_allow.astype(np.int64)[None, :] & pb) != 0
        self.conn_ok: B = (self.conn_bits[None, :] & pb) != 0
        #: (G, E) bitmask of the edge's usable lane indices
        self.edge_mask: I64 = np.zeros((G, E), dtype=np.int64)
        for g in range(G):
            ok = self.lane_ok[g] & self.lane_normal
            np.bitwise_or.at(self.edge_mask[g], self.lane_edge[ok], np.left_shift(1, self.lane_idx[ok]))

        # ------------------------------------------------------------ (lane, next edge) -> connections
        key = self.conn_from * E + self.conn_to_edge
        order = np.lexsort((self.lane_idx[self.conn_to] if C else np.zeros(0, np.int64), key))
        self.ft_conns: I64 = order
        self.ft_keys: I64 = key[order]
        # (edge, next edge) -> bitmask of the lanes of edge that connect, per group
        pk = self.conn_from_edge * E + self.conn_to_edge
        self.pair_keys: I64 = np.unique(pk)
        self.pair_mask: I64 = np.zeros((G, len(self.pair_keys)), dtype=np.int64)
        self.pair_conn: I64 = np.full(len(self.pair_keys), -1, dtype=np.int64)
        pi = np.searchsorted(self.pair_keys, pk)
        for g in range(G):
            ok = self.conn_ok[g] & self.lane_ok[g][self.conn_from] & self.lane_ok[g][self.conn_to]
            np.bitwise_or.at(self.pair_mask[g], pi[ok], np.left_shift(1, self.lane_idx[self.conn_from[ok]]))
        self.pair_conn[pi[::-1]] = np.arange(C)[::-1]
        #: connections sorted by (edge, next edge) pair: pair p owns pc_conns[pc_start[p]:pc_start[p + 1]]
        self.pc_conns: I64 = np.argsort(pi, kind="stable")
        self.pc_start: I64 = np.searchsorted(pi[self.pc_conns], np.arange(len(self.pair_keys) + 1))
        self.max_pc = int(np.max(np.diff(self.pc_start))) if len(self.pair_keys) else 0
        self.edge_len: F64 = self.lane_len[self.edge_first] if E else np.zeros(0)
        self.max_ft = int(np.max(np.unique(self.ft_keys, return_counts=True)[1])) if C else 0

    # ------------------------------------------------------------------ junction pairs
    def _pairs(self, net: RoadNetwork) -> None:
        """Global (a, b) connection pairs from the junction request tables.

        ``yield_a/b``: a must yield to b (SUMO response) when a is yielding; a mutual response is
        kept one way (the higher index yields). ``tie_a/b``: foes where neither yields: the higher
        index yields to the lower one's announced arrivals whatever the signal (safety against
        simultaneous entries). ``foe_a/b``: all conflicting pairs, both ways (occupancy checks).
        """
        ya: list[I64] = []
        yb: list[I64] = []
        ta: list[I64] = []
        tb: list[I64] = []
        fa: list[I64] = []
        fb: list[I64] = []
        cj = net.conn_junction
        req = net.conn_request
        valid = req >= 0
        for j in np.unique(cj[valid]).tolist():
            cs = np.flatnonzero(valid & (cj == j))
            foes, resp = net.request_tables(j)
            n = foes.shape[0]
            cs = cs[req[cs] < n]
            if len(cs) < 2:
                continue
            r = req[cs]
            f = foes[np.ix_(r, r)] | foes[np.ix_(r, r)].T
            y = resp[np.ix_(r, r)] & f
            same = self.conn_from[cs][:, None] == self.conn_from[cs][None, :]
            f &= ~same
            y &= ~same
            mutual = y & y.T
            idx = np.arange(len(cs))
            y &= ~(mutual & (idx[:, None] < idx[None, :]))
            tie = f & ~y & ~y.T & (idx[:, None] > idx[None, :])
            a, b = np.nonzero(y)
            ya.append(cs[a])
            yb.append(cs[b])
            a, b = np.nonzero(tie)
            ta.append(cs[a])
            tb.append(cs[b])
            a, b = np.nonzero(f)
            fa.append(cs[a])
            fb.append(cs[b])

        def cat(x: list[I64]) -> I64:
            return np.concatenate(x).astype(np.int64) if x else np.zeros(0, dtype=np.int64)

        self.yield_a, self.yield_b = cat(ya), cat(yb)
        self.tie_a, self.tie_b = cat(ta), cat(tb)
        self.foe_a, self.foe_b = cat(fa), cat(fb)

    def _conflict_points(self, net: RoadNetwork) -> None:
        """Where each foe's path meets a connection's path.

        ``foe_cp[k]`` = metres along connection ``foe_b[k]``'s internal lanes (from their start, in
        SUMO lengths) to the first point where they cross connection ``foe_a[k]``'s internal lanes;
        the whole length where the paths do not cross (a merge).
        """
        import shapely

        C = self.n_conns
        vo = net.conn_via_offsets
        chains: list[object] = []
        geo_len = np.zeros(C)
        for c in range(C):
            vias = net.conn_via_lanes[vo[c] : vo[c + 1]]
            pts = np.concatenate([net.lane_shape(int(v)) for v in vias]) if len(vias) else np.zeros((0, 2))
            if len(pts) >= 2:
                line = shapely.LineString(pts)
                chains.append(line)
                geo_len[c] = line.length
            else:
                chains.append(None)
        self.foe_cp: F64 = self.conn_vialen[self.foe_b].copy()
        if len(self.foe_a) == 0:
            return
        la = np.array([chains[a] for a in self.foe_a.tolist()], dtype=object)
        lb = np.array([chains[b] for b in self.foe_b.tolist()], dtype=object)
        ok = np.array([x is not None and y is not None for x, y in zip(la, lb, strict=True)], dtype=np.bool_)
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return
        inter = shapely.intersection(la[idx], lb[idx])
        coords, which = shapely.get_coordinates(inter, return_index=True)
        if len(coords) == 0:
            return
        along = shapely.line_locate_point(lb[idx][which], shapely.points(coords))
        first = np.full(len(idx), np.inf)
        np.minimum.at(first, which, along)
        b = self.foe_b[idx]
        scale = np.where(geo_len[b] > 0, self.conn_vialen[b] / np.maximum(geo_len[b], 1e-9), 1.0)
        cp = np.where(np.isfinite(first), first * scale, self.conn_vialen[b])
        self.foe_cp[idx] = np.minimum(cp, self.conn_vialen[b])

    # ------------------------------------------------------------------ lookups
    def pair_index(self, e_from: I64, e_to: I64) -> I64:
        """(n,) index into the pair tables of each (edge, next edge), -1 when not connected."""
        k = e_from * self.n_edges + e_to
        i = np.searchsorted(self.pair_keys, k)
        i = np.minimum(i, max(len(self.pair_keys) - 1, 0))
        ok = (len(self.pair_keys) > 0) & (self.pair_keys[i] == k) & (e_to >= 0)
        out: I64 = np.where(ok, i, -1)
        return out

    def want_mask(self, edge: I64, next_edge: I64, grp: I64) -> I64:
        """(n,) bitmask of the lane indices of ``edge`` from which ``next_edge`` can be reached.

        Where there is no next edge (the route ends), every lane the group may use.
        """
        pi = self.pair_index(edge, next_edge)
        m = self.pair_mask[grp, np.maximum(pi, 0)]
        out: I64 = np.where(next_edge < 0, self.edge_mask[grp, edge], np.where(pi >= 0, m, 0))
        return out

    def route_want(self, routes: I64, last: B, grp: I64, short: float = 100.0) -> I64:
        """(P,) for every position of flat routes, the lanes (bitmask of lane indices) to be on.

        A lane is wanted when a connection leads from it to the next route edge, arriving on a
        lane wanted there if that edge is shorter than ``short`` m (too short to change lanes on),
        else on any lane of it; where no lane arrives on a wanted one, those arriving nearest.
        On a route's last edge every usable lane is wanted. Computed from the route ends back.

        Parameters
        ----------
        routes
            (P,) flat edge indices.
        last
            (P,) True at the last position of each route.
        grp
            (P,) permission group of each position's vehicle.
        """
        P = len(routes)
        want = np.zeros(P, dtype=np.int64)
        if P == 0:
            return want
        # distance (in positions) to the route's end
        idx = np.arange(P)
        end_idx = np.zeros(P, dtype=np.int64)
        lasts = np.flatnonzero(last)
        end_idx[:] = lasts[np.searchsorted(lasts, idx)]
        dist = end_idx - idx
        order = np.argsort(dist, kind="stable")
        ds = dist[order]
        bounds = np.searchsorted(ds, np.arange(int(ds[-1]) + 2))
        for d in range(int(ds[-1]) + 1):
            p = order[bounds[d] : bounds[d + 1]]
            e = routes[p]
            g = grp[p]
            if d == 0:
                want[p] = self.edge_mask[g, e]
                continue
            e2 = routes[p + 1]
            w2 = np.where(self.edge_len[e2] < short, want[p + 1], self.edge_mask[g, e2])
            pi = self.pair_index(e, e2)
            start = np.where(pi >= 0, self.pc_start[np.maximum(pi, 0)], 0)
            cnt = np.where(pi >= 0, self.pc_start[np.maximum(pi, 0) + 1] - start, 0)
            m = np.zeros(len(p), dtype=np.int64)
            for _widen in range(4):
                todo = m == 0
                if not todo.any():
                    break
                for j in range(self.max_pc):
                    has = todo & (j < cnt)
                    c = self.pc_conns[np.minimum(start + j, max(len(self.pc_conns) - 1, 0))]
                    ok = (
                        has & self.conn_ok[g, c] & self.lane_ok[g, self.conn_from[c]] & self.lane_ok[g, self.conn_to[c]]
                    )
                    ok &= (np.right_shift(w2, self.lane_idx[self.conn_to[c]]) & 1) == 1
                    m |= np.where(ok, np.left_shift(1, self.lane_idx[self.conn_from[c]]), 0)
                # nothing arrives on a wanted lane: accept arriving next to one
                w2 = w2 | np.left_shift(w2, 1) | np.right_shift(w2, 1)
            plain = self.pair_mask[g, np.maximum(pi, 0)] * (pi >= 0)
            want[p] = np.where(m != 0, m, plain)
        return want

    def choose_conn(self, lane: I64, next_edge: I64, want: I64, grp: I64, lane_open: B | None = None) -> I64:
        """(n,) the connection from ``lane`` to ``next_edge`` a vehicle of group ``grp`` takes, -1 none.

        Among several: one arriving on an open lane (``lane_open``, (L,)) in the ``want`` bitmask
        of the next edge's lanes, else an open one, else the first usable one.
        """
        n = len(lane)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0 or len(self.ft_keys) == 0:
            return out
        k = lane * self.n_edges + next_edge
        start = np.searchsorted(self.ft_keys, k)
        best = np.full(n, -1, dtype=np.int64)
        for j in range(self.max_ft):
            pos = np.minimum(start + j, len(self.ft_keys) - 1)
            hit = (self.ft_keys[pos] == k) & (start + j < len(self.ft_keys)) & (next_edge >= 0)
            c = self.ft_conns[pos]
            to = self.conn_to[c]
            usable = hit & self.conn_ok[grp, c] & self.lane_ok[grp, to]
            score = 20 - self.dist_lut[want, self.lane_idx[to]]
            if lane_open is not None:
                score += 40 * lane_open[to]
            score = np.where(usable, score, -1)
            better = score > best
            out = np.where(better, c, out)
            best = np.maximum(best, score)
        return out

    def any_conn(self, edge: I64, next_edge: I64) -> I64:
        """(n,) some connection from ``edge`` to ``next_edge`` (for looking ahead), -1 none."""
        pi = self.pair_index(edge, next_edge)
        out: I64 = np.where(pi >= 0, self.pair_conn[np.maximum(pi, 0)], -1)
        return out
