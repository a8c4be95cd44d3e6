"""Lane states (``LANE_STATE_DTYPE``) from vehicle positions on lanes, tick by tick.

The oracle picture of closed-loop runs is built from simulator truth with this estimator; it
works on any per-vehicle (id, lane, position along the lane, speed, length) columns, so fused
tracks that carry a lane index can use it too. Everything is vectorised over vehicles and lanes
(``np.bincount``, sorted segments); the only memory between ticks is each vehicle's previous
lane and whether it was in the detector zone, matched by id with ``np.searchsorted``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from proto import empty_lane_states
from roadnet import RoadNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

HALT_MPS = 0.5
#: detector zone before the stop line, m (the contract's gap_s definition)
ZONE_M = 30.0
#: a queue touches the stop line when its first halting vehicle is this close, m
QUEUE_HEAD_M = 15.0
#: flow smoothing time constant, s
FLOW_TAU_S = 60.0


class LaneStateEstimator:
    """Lane counts, halting, queue from the stop line, speed, occupancy, flow and detector gap.

    Parameters
    ----------
    net
        The road network (L lanes).
    """

    def __init__(self, net: RoadNetwork) -> None:
        self.net = net
        self.n = len(net.lane_ids)
        self.length = np.maximum(net.lane_length.astype(np.float64), 1.0)
        self.flow = np.zeros(self.n)
        self.last_entry = np.full(self.n, -math.inf)
        self.departures = np.zeros(self.n)  #: cumulative vehicles that left each lane
        self._ids = np.zeros(0, dtype="U40")
        self._lane = np.zeros(0, dtype=np.int64)
        self._zone = np.zeros(0, dtype=np.bool_)
        self._t: float | None = None

    def update(
        self,
        t: float,
        ids: npt.NDArray[np.str_],
        lane: I64,
        s: F64,
        speed: F64,
        length: npt.ArrayLike,
    ) -> npt.NDArray[np.void]:
        """Lane states at ``t`` from N vehicles.

        Parameters
        ----------
        t
            Time, s.
        ids
            (N,) vehicle ids (stable across ticks).
        lane
            (N,) lane index, -1 off the network.
        s
            (N,) metres along the lane from its start.
        speed
            (N,) m/s.
        length
            (N,) vehicle length, m.

        Returns
        -------
        numpy.ndarray
            ``LANE_STATE_DTYPE``, shape (L,).
        """
        n = self.n
        out = empty_lane_states(n)
        lane = np.asarray(lane, dtype=np.int64)
        ok = (lane >= 0) & (lane < n)
        ids_ok, li = np.asarray(ids)[ok], lane[ok]
        sp = np.asarray(speed, dtype=np.float64)[ok]
        ln = np.asarray(length, dtype=np.float64)[ok]
        dist = self.length[li] - np.asarray(s, dtype=np.float64)[ok]
        halted = sp < HALT_MPS
        cnt = np.bincount(li, minlength=n)
        out["count"] = cnt
        out["halting"] = np.bincount(li, weights=halted, minlength=n).astype(np.int32)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["mean_speed"] = np.where(cnt > 0, np.bincount(li, weights=sp, minlength=n) / cnt, np.nan)
        occ = np.bincount(li, weights=ln, minlength=n) / self.length
        out["occupancy"] = np.clip(occ, 0.0, 1.0)
        out["density"] = cnt / self.length
        self._queues(out, li, dist, halted, ln)
        # memory: departures (flow) and entries into the detector zone (gap)
        in_zone = dist <= ZONE_M
        dt = 0.0 if self._t is None else max(t - self._t, 0.0)
        order = np.argsort(ids_ok)
        sid, slane, szone = ids_ok[order], li[order], in_zone[order]
        left = np.zeros(n)
        was_zone = np.zeros(len(sid), dtype=np.bool_)
        if len(self._ids):
            now_lane = np.full(len(self._ids), -1, dtype=np.int64)
            if len(sid):
                pos = np.clip(np.searchsorted(sid, self._ids), 0, len(sid) - 1)
                found = sid[pos] == self._ids
                now_lane = np.where(found, slane[pos], -1)
                ppos = np.clip(np.searchsorted(self._ids, sid), 0, len(self._ids) - 1)
                was_zone = (self._ids[ppos] == sid) & (self._lane[ppos] == slane) & self._zone[ppos]
            # a departure is leaving the lane's edge (a lane change is not)
            edge = self.net.lane_edge
            gone = (now_lane < 0) | (edge[np.maximum(now_lane, 0)] != edge[self._lane])
            left = np.bincount(self._lane[gone], minlength=n).astype(np.float64)
        entered = szone & ~was_zone
        self.last_entry[np.unique(slane[entered])] = t
        self.departures += left
        if dt > 0:
            a = min(dt / FLOW_TAU_S, 1.0)
            self.flow = (1.0 - a) * self.flow + a * (left / dt)
        out["flow"] = self.flow
        out["gap_s"] = t - self.last_entry
        self._ids, self._lane, self._zone, self._t = sid, slane, szone, t
        return out

    def _queues(self, out: npt.NDArray[np.void], li: I64, dist: F64, halted: npt.NDArray[np.bool_], ln: F64) -> None:
        """Queue from the stop line: the leading run of halting vehicles whose head touches it."""
        n = self.n
        if len(li) == 0:
            return
        order = np.lexsort((dist, li))
        l_s, d_s, h_s, len_s = li[order], dist[order], halted[order], ln[order]
        first = np.r_[True, l_s[1:] != l_s[:-1]]
        starts = np.flatnonzero(first)
        seg = np.cumsum(first) - 1
        rank = np.arange(len(l_s)) - starts[seg]
        big = np.iinfo(np.int64).max
        moving_rank = np.where(~h_s, rank, big)
        first_moving = np.minimum.reduceat(moving_rank, starts)
        touches = h_s[starts] & (d_s[starts] <= QUEUE_HEAD_M)
        inq = (rank < first_moving[seg]) & touches[seg]
        out["queue_veh"] = np.bincount(l_s[inq], minlength=n).astype(np.int32)
        back = np.full(n, 0.0)
        np.maximum.at(back, l_s[inq], d_s[inq] + len_s[inq])
        out["queue_m"] = back
