"""Occupancy of the roadside parking areas: every bay has a release time.

Two processes fill the bays: vehicles whose trip ends on an edge with a parking area take a free
bay for a drawn dwell (exponential, per class mean), and background curb parkers arrive at each
area as a Poisson process sized so that an area alone settles near ``target`` occupancy (dwell
exponential with mean ``mean_dwell``). Bays start at that steady state. All draws come from the
engine's generator.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from roadnet import classes
from roadnet.model import RoadNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


class Parking:
    """Bay-level parking occupancy of A areas (``net.parking_*``), P bays in all.

    Parameters
    ----------
    net
        The network.
    rng
        The engine's random generator.
    target
        Background occupancy each area tends to, 0..1.
    mean_dwell
        Mean background dwell, s.
    trip_dwell
        Mean dwell of a vehicle parking at its trip's end, per ObjectClass, s.
    background
        Run the background arrivals.
    """

    def __init__(
        self,
        net: RoadNetwork,
        rng: np.random.Generator,
        *,
        target: float = 0.6,
        mean_dwell: float = 1800.0,
        trip_dwell: dict[int, float] | None = None,
        background: bool = True,
    ) -> None:
        self.rng = rng
        self.cap: I64 = np.maximum(net.parking_capacity.astype(np.int64), 0)
        self.offsets: I64 = np.concatenate([[0], np.cumsum(self.cap)]).astype(np.int64)
        self.area_of_bay: I64 = np.repeat(np.arange(len(self.cap)), self.cap)
        n = int(self.offsets[-1])
        self.mean_dwell = mean_dwell
        self.trip_dwell = trip_dwell or {classes.ROBOTAXI: 300.0}
        self.default_trip_dwell = 1800.0
        self.rate: F64 = np.asarray(self.cap * (target / mean_dwell if background else 0.0), dtype=np.float64)
        # steady state: occupied with probability target, residual dwell exponential
        occ = rng.random(n) < (target if background else 0.0)
        dwell = np.asarray(rng.exponential(mean_dwell, n), dtype=np.float64)
        self.release: F64 = np.where(occ, dwell, -np.inf)
        self.by_trips = np.zeros(len(self.cap), dtype=np.int64)
        # edge -> first parking area on it
        self.edge_area: dict[int, int] = {}
        for a, ln in enumerate(net.parking_lane.tolist()):
            self.edge_area.setdefault(int(net.lane_edge[ln]), a)

    def step(self, t: float, dt: float) -> None:
        """Free the bays whose dwell ended; let background parkers arrive."""
        if len(self.cap) == 0:
            return
        arrive = self.rng.random(len(self.cap)) < self.rate * dt
        if arrive.any():
            for a in np.flatnonzero(arrive).tolist():
                self._take(a, t, float(self.rng.exponential(self.mean_dwell)))

    def _take(self, a: int, t: float, dwell: float) -> bool:
        seg = self.release[self.offsets[a] : self.offsets[a + 1]]
        free = np.flatnonzero(seg <= t)
        if len(free) == 0:
            return False
        seg[free[0]] = t + dwell
        return True

    def park(self, edges: I64, cls: npt.NDArray[np.uint8], t: float) -> int:
        """Park the vehicles whose trips end on ``edges`` (one per vehicle) where there is room.

        Returns
        -------
        int
            How many found a bay.
        """
        n = 0
        for e, c in zip(edges.tolist(), cls.tolist(), strict=True):
            a = self.edge_area.get(int(e))
            if a is None:
                continue
            mean = self.trip_dwell.get(int(c), self.default_trip_dwell)
            if self._take(a, t, float(self.rng.exponential(mean))):
                self.by_trips[a] += 1
                n += 1
        return n

    def bays(self, t: float) -> tuple[B, I64]:
        """(P,) occupied flag of every bay and (A + 1,) offsets per area."""
        occ: B = self.release > t
        return occ, self.offsets

    def occupancy(self, t: float) -> I64:
        """(A,) occupied bays per area."""
        out: I64 = np.bincount(self.area_of_bay[self.release > t], minlength=len(self.cap)).astype(np.int64)
        return out
