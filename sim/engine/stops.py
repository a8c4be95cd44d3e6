"""Planned stops (bus stops with dwell times and timetables): matching them to routes, dwelling.

A demand stop is matched, in order, to the first later occurrence of its lane's edge on the
vehicle's route (routes may loop, so one edge can carry several stops); a stop whose edge the
route does not reach is dropped and reported. A vehicle dwells when it stands on the stop's lane
within 1.5 m of the stop position; it leaves after ``duration`` or at ``until`` if later.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import numpy.typing as npt

from sim.demand.model import Demand
from sim.engine.lookahead import StopTable

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def build_stop_table(demand: Demand, lane_edge: I64, problems: list[str]) -> tuple[StopTable, I64]:
    """The engine's stop table for every demand vehicle and (N + 1,) offsets into it.

    ``ridx`` refers to positions in ``demand.route_edges`` (the engine starts from a copy).
    """
    ridx: list[int] = []
    keep: list[int] = []
    offsets = np.zeros(len(demand) + 1, dtype=np.int64)
    has = np.flatnonzero(np.diff(demand.stop_offsets) > 0)
    counts = np.zeros(len(demand), dtype=np.int64)
    for i in has.tolist():
        a, z = int(demand.route_offsets[i]), int(demand.route_offsets[i + 1])
        route = demand.route_edges[a:z].tolist()
        k = 0
        for q in range(int(demand.stop_offsets[i]), int(demand.stop_offsets[i + 1])):
            e = int(lane_edge[demand.stop_lane[q]])
            try:
                k = route.index(e, k)
            except ValueError:
                problems.append(f"vehicle {demand.ids[i]!r}: stop on edge not on its route (after the previous stop)")
                continue
            ridx.append(a + k)
            keep.append(q)
            counts[i] += 1
    offsets[1:] = np.cumsum(counts)
    kq = np.array(keep, dtype=np.int64)
    table = StopTable(
        ridx=np.array(ridx, dtype=np.int64),
        lane=demand.stop_lane[kq],
        pos=demand.stop_pos[kq],
        dur=demand.stop_duration[kq],
        until=demand.stop_until[kq],
        bus=demand.stop_bus[kq],
        parking=demand.stop_parking[kq],
        demand_q=kq,
    )
    return table, offsets


def remap_stops(table: StopTable, cur: int, end: int, new_route: list[int], new_start: int, lane_edge: I64) -> int:
    """Re-match stops ``cur..end`` of one vehicle to a new route starting at ``new_start``.

    Stops the new route does not reach are dropped (moved past). Returns the new first stop index.
    """
    k = 0
    first = end
    for q in range(cur, end):
        e = int(lane_edge[table.lane[q]])
        try:
            k = new_route.index(e, k)
        except ValueError:
            continue
        table.ridx[q] = new_start + k
        first = min(first, q)
    if first < end:
        # stops before `first` are skipped; later unmatched stops keep stale indices only if
        # they come after a matched one, so mark them unreachable
        for q in range(first, end):
            if int(lane_edge[table.lane[q]]) not in new_route:
                table.ridx[q] = -1
    return first


def dwell_end(t: float, dur: F64, until: F64) -> F64:
    """(n,) when vehicles starting to dwell now leave: after ``dur`` or at ``until`` if later."""
    out: F64 = np.where(np.isnan(until), t + dur, np.maximum(t + dur, np.nan_to_num(until, nan=-math.inf)))
    return out
