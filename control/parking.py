"""Parking guidance: availability from lamp posts and parking feeds, the nearest free areas.

Every parking area of the map has a position (the middle of its stretch of lane) and a
capacity; ``pb.ParkingStatus`` messages (a lamp post watching a curb, a car park's feed) update
its occupancy (per bay when given). :meth:`ParkingGuide.nearest_free` answers "where are the
nearest areas with free spaces" from a WGS84 position (straight-line metres in the local frame),
the function the API serves; :meth:`ParkingGuide.guidance` sends robotaxis that asked to park a
``pb.Advisory(parking=ParkingGuidance)`` to the nearest free area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from control.advice import advisory
from proto import pb, units
from roadnet import RoadNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ParkingOption:
    """One area with free spaces, as the API returns it."""

    area_id: str
    name: str
    free: int
    capacity: int
    distance_m: float
    lat: float
    lon: float
    edge_id: str
    age_s: float  #: how old the availability is, s


def _point_on_lane(net: RoadNetwork, lane: int, s: float) -> tuple[float, float]:
    shape = net.lane_shape(lane)
    if len(shape) == 0:
        return (math.nan, math.nan)
    seg = np.hypot(*np.diff(shape, axis=0).T) if len(shape) > 1 else np.zeros(0)
    geo = float(seg.sum())
    if geo <= 0:
        return (float(shape[0, 0]), float(shape[0, 1]))
    target = min(max(s * geo / max(float(net.lane_length[lane]), 1e-9), 0.0), geo)
    cum = np.r_[0.0, np.cumsum(seg)]
    i = min(int(np.searchsorted(cum, target, side="right")) - 1, len(seg) - 1)
    f = (target - cum[i]) / seg[i] if seg[i] > 0 else 0.0
    p = shape[i] + f * (shape[i + 1] - shape[i])
    return (float(p[0]), float(p[1]))


class ParkingGuide:
    """Parking availability and guidance; see the module docstring.

    Parameters
    ----------
    net
        The road network (A parking areas).
    max_age_s
        Availability older than this is not trusted (the area counts as unknown).
    """

    def __init__(self, net: RoadNetwork, *, max_age_s: float = 900.0) -> None:
        self.net = net
        self.max_age_s = max_age_s
        n = len(net.parking_ids)
        self.ids = list(net.parking_ids)
        self.index = {a: i for i, a in enumerate(self.ids)}
        xy = [
            _point_on_lane(net, int(net.parking_lane[i]), 0.5 * float(net.parking_start[i] + net.parking_end[i]))
            for i in range(n)
        ]
        self.xy = np.array(xy, dtype=np.float64).reshape(n, 2)
        self.capacity = net.parking_capacity.astype(np.int64).copy()
        self.occupied = np.full(n, -1, dtype=np.int64)  # -1 unknown
        self.measured = np.full(n, -math.inf)
        self.unknown_areas = 0
        self.wanting: dict[str, float] = {}  #: robotaxis that asked to park -> when
        self._guided: dict[str, str] = {}

    # ------------------------------------------------------------------ availability
    def update(self, statuses: list[pb.ParkingStatus]) -> None:
        """Take parking statuses (newer than what is known; unknown area ids are counted)."""
        for s in statuses:
            i = self.index.get(s.area_id)
            if i is None:
                self.unknown_areas += 1
                continue
            t = s.measured_ns / 1e9
            if t < self.measured[i]:
                continue
            cap = int(s.capacity) or int(self.capacity[i])
            occ = int(sum(s.bay_occupied)) if len(s.bay_occupied) else int(s.occupied)
            self.capacity[i] = cap
            self.occupied[i] = min(occ, cap)
            self.measured[i] = t

    def free(self, now: float) -> I64:
        """(A,) free spaces per area (-1 where unknown or stale)."""
        fresh = (self.occupied >= 0) & (now - self.measured <= self.max_age_s)
        return np.where(fresh, self.capacity - self.occupied, -1)

    # ------------------------------------------------------------------ queries
    def nearest_free_xy(self, xy: npt.ArrayLike, k: int, now: float) -> tuple[I64, F64]:
        """For N local positions, the k nearest areas with free spaces: indices and metres, each (N, k).

        Missing entries are -1 / inf.
        """
        p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        ok = np.flatnonzero(self.free(now) > 0)
        n = len(p)
        idx = np.full((n, k), -1, dtype=np.int64)
        dist = np.full((n, k), np.inf)
        if len(ok) == 0 or k <= 0:
            return idx, dist
        d = np.hypot(p[:, None, 0] - self.xy[None, ok, 0], p[:, None, 1] - self.xy[None, ok, 1])
        kk = min(k, len(ok))
        part = np.argpartition(d, kk - 1, axis=1)[:, :kk] if kk < len(ok) else np.tile(np.arange(len(ok)), (n, 1))
        dp = np.take_along_axis(d, part, axis=1)
        order = np.argsort(dp, axis=1, kind="stable")
        idx[:, :kk] = ok[np.take_along_axis(part, order, axis=1)]
        dist[:, :kk] = np.take_along_axis(dp, order, axis=1)
        return idx, dist

    def nearest_free(self, lat: float, lon: float, k: int = 3, *, now: float | None = None) -> list[ParkingOption]:
        """The ``k`` nearest areas with free spaces from a WGS84 position (degrees), nearest first."""
        import time

        t = time.time() if now is None else now
        x, y = self.net.frame.to_local(np.array([lat]), np.array([lon]))
        idx, dist = self.nearest_free_xy(np.c_[x, y], k, t)
        out: list[ParkingOption] = []
        free = self.free(t)
        for i, d in zip(idx[0].tolist(), dist[0].tolist(), strict=True):
            if i < 0:
                continue
            la, lo = self.net.frame.to_wgs84(self.xy[i : i + 1, 0], self.xy[i : i + 1, 1])
            lane = int(self.net.parking_lane[i])
            out.append(
                ParkingOption(
                    area_id=self.ids[i],
                    name=self.net.parking_name[i] if i < len(self.net.parking_name) else "",
                    free=int(free[i]),
                    capacity=int(self.capacity[i]),
                    distance_m=float(d),
                    lat=float(la[0]),
                    lon=float(lo[0]),
                    edge_id=self.net.edge_ids[int(self.net.lane_edge[lane])],
                    age_s=float(t - self.measured[i]),
                )
            )
        return out

    # ------------------------------------------------------------------ guidance
    def request(self, vehicle_id: str, now: float) -> None:
        """A robotaxi asks to be guided to parking."""
        self.wanting[vehicle_id] = now

    def guidance(self, now: float, vehicles: npt.NDArray[Any], *, expiry_s: float = 60.0) -> list[pb.Advisory]:
        """A parking advisory for each robotaxi that asked, when its nearest free area changes."""
        if not self.wanting or len(vehicles) == 0:
            return []
        sel = np.flatnonzero(np.isin(vehicles["vehicle_id"], list(self.wanting)))
        if len(sel) == 0:
            return []
        idx, dist = self.nearest_free_xy(np.stack([vehicles["x"][sel], vehicles["y"][sel]], axis=1), 1, now)
        free = self.free(now)
        out: list[pb.Advisory] = []
        now_ns = round(now * 1e9)
        for j, v in enumerate(sel.tolist()):
            i = int(idx[j, 0])
            vid = str(vehicles["vehicle_id"][v])
            if i < 0 or self._guided.get(vid) == self.ids[i]:
                continue
            self._guided[vid] = self.ids[i]
            la, lo = self.net.frame.to_wgs84(self.xy[i : i + 1, 0], self.xy[i : i + 1, 1])
            lane = int(self.net.parking_lane[i])
            out.append(
                advisory(
                    f"park-{vid}-{now_ns}",
                    vid,
                    now_ns,
                    expiry_s,
                    parking=pb.ParkingGuidance(
                        area_id=self.ids[i],
                        lat_e7=int(units.deg_to_e7(la[0])),
                        lon_e7=int(units.deg_to_e7(lo[0])),
                        free_spaces=int(free[i]),
                        distance_m=float(dist[j, 0]),
                        edge_id=self.net.edge_ids[int(self.net.lane_edge[lane])],
                    ),
                )
            )
        return out
