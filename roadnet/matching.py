"""A vectorised map-matcher: for N points at once, the nearest lane and where on it.

The index is a uniform grid over lane segments (long segments are cut into pieces no longer
than a cell). Each piece is registered in every cell its bounding box, grown by the search
radius, touches, so a point finds all pieces within the radius in its own cell: one CSR lookup
per point, then one vectorised distance computation over all (point, candidate) pairs and a
segmented arg-min. Cost is O(N * candidates per cell), independent of the network's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from roadnet import classes
from roadnet.model import RoadNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: radius of the fine grid, m: a point this close to a lane is answered from it
FINE = 3.0


@dataclass(frozen=True)
class Match:
    """Map-matching result for N points; every array has shape (N,).

    Attributes
    ----------
    lane
        Lane index, -1 where no lane is within the radius.
    s
        Distance along the lane from its start, m (in the lane's own length, i.e. SUMO's).
    dist_to_stop
        Metres from the point to the lane's end (its stop line when the lane enters a junction);
        NaN for lanes inside junctions and unmatched points.
    lateral
        Signed offset from the lane centre line, m, positive to the left of the driving direction.
    distance
        Absolute distance to the lane centre line, m (inf when unmatched).
    lane_heading
        Math heading of the lane at the matched point, radians (NaN when unmatched).
    """

    lane: I64
    s: F64
    dist_to_stop: F64
    lateral: F64
    distance: F64
    lane_heading: F64


class _Grid:
    """CSR grid over segment pieces: every piece registered in the cells within ``radius``."""

    def __init__(self, a: F64, d: F64, radius: float, cell: float) -> None:
        self.radius, self.cell = radius, cell
        lo = np.minimum(a, a + d) - radius
        hi = np.maximum(a, a + d) + radius
        self.origin = lo.min(axis=0) if len(lo) else np.zeros(2)
        top = hi.max(axis=0) if len(hi) else np.ones(2)
        self.shape = np.maximum(np.ceil((top - self.origin) / cell).astype(np.int64), 1)
        c0 = np.floor((lo - self.origin) / cell).astype(np.int64)
        c1 = np.floor((hi - self.origin) / cell).astype(np.int64)
        nx = c1[:, 0] - c0[:, 0] + 1
        ny = c1[:, 1] - c0[:, 1] + 1
        cnt = nx * ny
        seg = np.repeat(np.arange(len(cnt)), cnt)
        j = np.arange(len(seg)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        cx = c0[seg, 0] + j % nx[seg]
        cy = c0[seg, 1] + j // nx[seg]
        cid = cy * self.shape[0] + cx
        order = np.argsort(cid, kind="stable")
        self.cell_seg = seg[order]
        n_cells = int(self.shape[0] * self.shape[1])
        self.cell_off = np.searchsorted(cid[order], np.arange(n_cells + 1))

    def candidates(self, xy: F64) -> tuple[I64, I64]:
        c = np.floor((xy - self.origin) / self.cell).astype(np.int64)
        inside = (c >= 0).all(axis=1) & (c < self.shape).all(axis=1)
        cid = np.where(inside, c[:, 1] * self.shape[0] + c[:, 0], 0)
        start = self.cell_off[cid]
        cnt = np.where(inside, self.cell_off[cid + 1] - start, 0)
        pt = np.repeat(np.arange(len(xy)), cnt)
        k = np.arange(len(pt)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        return pt, self.cell_seg[np.repeat(start, cnt) + k]


class MapMatcher:
    """Nearest-lane matching of many points at once.

    Parameters
    ----------
    net
        The road network.
    lanes
        (L,) boolean mask of the lanes to match onto; default: lanes any vehicle may use
        (junction-internal lanes included, pedestrian-only lanes excluded).
    radius
        Search radius, m: points farther from every lane stay unmatched.
    cell
        Coarse grid cell size, m (default: the radius).
    """

    def __init__(
        self,
        net: RoadNetwork,
        *,
        lanes: npt.NDArray[np.bool_] | None = None,
        radius: float = 10.0,
        cell: float | None = None,
    ) -> None:
        self.net = net
        self.radius = float(radius)
        self.cell = float(cell or radius)
        mask = (net.lane_allow & np.uint16(classes.VEHICLES)) != 0 if lanes is None else np.asarray(lanes)
        self._build(mask)

    # ------------------------------------------------------------------ index
    def _build(self, mask: npt.NDArray[np.bool_]) -> None:
        net = self.net
        off = net.lane_shape_offsets
        xy = net.lane_shape_xy
        n_pts = np.diff(off)
        lane_of_pt = np.repeat(np.arange(len(n_pts)), n_pts)
        # segments: consecutive points of the same lane
        same = lane_of_pt[1:] == lane_of_pt[:-1]
        first = np.flatnonzero(same)
        lane = lane_of_pt[first]
        keep = mask[lane]
        first, lane = first[keep], lane[keep]
        a, b = xy[first], xy[first + 1]
        seg_len = np.hypot(*(b - a).T)
        # geometric cumulative length at each segment start, per lane
        geo_len = np.zeros(len(net.lane_ids))
        np.add.at(geo_len, lane, seg_len)
        cum = np.cumsum(seg_len)
        order_first = np.r_[True, lane[1:] != lane[:-1]]
        starts = np.flatnonzero(order_first)
        base = np.repeat(cum[starts] - seg_len[starts], np.diff(np.r_[starts, len(lane)]))
        s0 = cum - seg_len - base
        # cut long segments into pieces no longer than a cell
        pieces = np.maximum(np.ceil(seg_len / self.cell), 1).astype(np.int64)
        rep = np.repeat(np.arange(len(seg_len)), pieces)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        frac0 = k / pieces[rep]
        frac1 = (k + 1) / pieces[rep]
        d = b - a
        self._a = a[rep] + d[rep] * frac0[:, None]
        self._d = d[rep] * (frac1 - frac0)[:, None]
        self._len = seg_len[rep] * (frac1 - frac0)
        self._len2 = np.maximum(self._len**2, 1e-18)
        self._lane = lane[rep]
        self._s0 = s0[rep] + seg_len[rep] * frac0
        with np.errstate(divide="ignore", invalid="ignore"):
            self._scale = np.where(geo_len > 0, net.lane_length / geo_len, 1.0)
        self._heading = np.arctan2(self._d[:, 1], self._d[:, 0])
        # two grids: a fine one answers most points (those within FINE m of a lane) with few
        # candidates; the rest go to the coarse one, which covers the full radius
        self._fine = _Grid(self._a, self._d, min(FINE, self.radius), min(FINE, self.radius) + 1.0)
        self._coarse = _Grid(self._a, self._d, self.radius, self.cell)

    # ------------------------------------------------------------------ query
    def candidates(self, xy: F64) -> tuple[I64, I64]:
        """(point, segment piece) index pairs of every piece within the radius of each point, (2, K)."""
        return self._coarse.candidates(np.asarray(xy, dtype=np.float64).reshape(-1, 2))

    def match(
        self,
        xy: npt.ArrayLike,
        heading: npt.ArrayLike | None = None,
        *,
        heading_weight: float = 10.0,
    ) -> Match:
        """Match N points to lanes.

        Parameters
        ----------
        xy
            (N, 2) positions, local metres.
        heading
            (N,) math headings (radians) or None. When given, a lane whose direction differs by
            an angle d costs an extra ``heading_weight * (1 - cos d) / 2`` metres, so a vehicle
            is matched to its own carriageway rather than the opposite one; NaN = unknown.
        heading_weight
            Metres of penalty for driving against the lane.

        Returns
        -------
        Match
            Arrays of shape (N,).
        """
        p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        n = len(p)
        h = None if heading is None else np.asarray(heading, dtype=np.float64).reshape(-1)
        seg = np.full(n, -1, dtype=np.int64)
        t = np.zeros(n)
        dist = np.full(n, np.inf)
        cross = np.zeros(n)
        # fine pass: exact for points whose best cost is within the fine radius
        fine_r = self._fine.radius
        sel = np.arange(n)
        for grid, radius, last in ((self._fine, fine_r, False), (self._coarse, self.radius, True)):
            if len(sel) == 0:
                break
            b_seg, b_t, b_dist, b_cost, b_cross = self._nearest(
                grid, p[sel], None if h is None else h[sel], radius, heading_weight
            )
            done = b_cost <= radius if not last else np.ones(len(sel), dtype=np.bool_)
            w = sel[done]
            seg[w], t[w], dist[w], cross[w] = b_seg[done], b_t[done], b_dist[done], b_cross[done]
            sel = sel[~done]
        lane = np.where(seg >= 0, self._lane[np.maximum(seg, 0)], -1)
        matched = lane >= 0
        sm = seg[matched]
        out_s = np.full(n, np.nan)
        out_s[matched] = (self._s0[sm] + t[matched] * self._len[sm]) * self._scale[lane[matched]]
        out_lat = np.full(n, np.nan)
        out_lat[matched] = np.sign(cross[matched]) * dist[matched]
        out_h = np.full(n, np.nan)
        out_h[matched] = self._heading[sm]
        stop = np.full(n, np.nan)
        normal = matched.copy()
        normal[matched] = ~self.net.lane_internal[lane[matched]]
        stop[normal] = self.net.lane_length[lane[normal]] - out_s[normal]
        return Match(lane=lane, s=out_s, dist_to_stop=stop, lateral=out_lat, distance=dist, lane_heading=out_h)

    def _nearest(
        self, grid: _Grid, p: F64, h: F64 | None, radius: float, heading_weight: float
    ) -> tuple[I64, F64, F64, F64, F64]:
        """Best piece per point among a grid's candidates: (piece, t, distance, cost, cross), each (n,)."""
        n = len(p)
        pt, sg = grid.candidates(p)
        a, d = self._a[sg], self._d[sg]
        rx = p[pt, 0] - a[:, 0]
        ry = p[pt, 1] - a[:, 1]
        t = np.clip((rx * d[:, 0] + ry * d[:, 1]) / self._len2[sg], 0.0, 1.0)
        ex = rx - d[:, 0] * t
        ey = ry - d[:, 1] * t
        dist = np.sqrt(ex * ex + ey * ey)
        cost = dist
        if h is not None:
            pen = heading_weight * (1.0 - np.cos(h[pt] - self._heading[sg])) / 2.0
            cost = dist + np.where(np.isnan(pen), 0.0, pen)
        cost = np.where(dist <= radius, cost, np.inf)
        b_seg = np.full(n, -1, dtype=np.int64)
        b_t, b_dist, b_cost, b_cross = np.zeros(n), np.full(n, np.inf), np.full(n, np.inf), np.zeros(n)
        if len(pt) == 0:
            return b_seg, b_t, b_dist, b_cost, b_cross
        counts = np.bincount(pt, minlength=n)
        has = counts > 0
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        mins = np.full(n, np.inf)
        mins[has] = np.minimum.reduceat(cost, starts[has])
        idx = np.flatnonzero((cost == mins[pt]) & np.isfinite(cost))
        _, first = np.unique(pt[idx], return_index=True)
        best = idx[first]
        who = pt[best]
        b_seg[who] = sg[best]
        b_t[who] = t[best]
        b_dist[who] = dist[best]
        b_cost[who] = cost[best]
        b_cross[who] = d[best, 0] * ry[best] - d[best, 1] * rx[best]
        return b_seg, b_t, b_dist, b_cost, b_cross
