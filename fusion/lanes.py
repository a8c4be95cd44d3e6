"""Per-lane aggregates of map-matched vehicles: counts, speeds, occupancy and stop-line queues.

Everything is a pass of ``np.bincount`` over the lanes, except the queue, which needs the
vehicles of each lane in order from the stop line: one ``lexsort`` by (lane, distance) and a
segmented prefix over the sorted rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion.arraytypes import BoolArray, FloatArray, IntArray, StructArray
from proto.arrays import empty_lane_states

#: Length assumed for a vehicle of each ObjectClass whose size is unknown, m
#: (unknown, car, bus, truck, robotaxi, pedestrian, cyclist, motorcycle, emergency).
CLASS_LENGTH = np.array([4.5, 4.5, 12.0, 8.0, 4.8, 0.5, 1.8, 2.0, 6.0])


@dataclass(frozen=True)
class QueueRule:
    """What makes a queue at a stop line.

    Parameters
    ----------
    halt_speed
        A vehicle slower than this is halting, m/s (the lane-state contract's 0.5).
    head_gap
        The first queued vehicle's front is at most this far from the stop line, m.
    jam_gap
        Gap from one queued vehicle's back to the next one's front at most, m.
    """

    halt_speed: float = 0.5
    head_gap: float = 10.0
    jam_gap: float = 10.0


def lane_aggregates(
    lane: IntArray,
    dist_to_stop: FloatArray,
    speed: FloatArray,
    length: FloatArray,
    lane_length: FloatArray,
    rule: QueueRule,
) -> tuple[StructArray, BoolArray]:
    """Lane states of ``n`` vehicles, each matched to a lane.

    Parameters
    ----------
    lane
        (n,) lane index of each vehicle (all >= 0).
    dist_to_stop
        (n,) metres from the vehicle's centre to its lane's stop line (NaN: lane has none).
    speed
        (n,) m/s.
    length
        (n,) vehicle lengths, m.
    lane_length
        (L,) lengths of all lanes, m.
    rule
        The queue definition.

    Returns
    -------
    states
        ``LANE_STATE_DTYPE`` (L,): count, halting, queue_m, queue_veh, mean_speed, occupancy,
        density filled; flow 0 and gap_s inf (they need history: see :class:`fusion.Picture`).
    queued
        (n,) True for the vehicles in a stop-line queue.
    """
    n_lanes = len(lane_length)
    out = empty_lane_states(n_lanes)
    count = np.bincount(lane, minlength=n_lanes)
    halting = speed < rule.halt_speed
    out["count"] = count
    out["halting"] = np.bincount(lane[halting], minlength=n_lanes)
    total = np.bincount(lane, weights=speed, minlength=n_lanes)
    busy = count > 0
    out["mean_speed"][busy] = total[busy] / count[busy]
    used = np.bincount(lane, weights=length, minlength=n_lanes)
    out["occupancy"] = np.minimum(used / np.maximum(lane_length, 1e-9), 1.0)
    out["density"] = count / np.maximum(lane_length, 1e-9)
    queued = np.zeros(len(lane), dtype=np.bool_)
    at_line = np.flatnonzero(np.isfinite(dist_to_stop))
    if len(at_line) == 0:
        return out, queued
    order = at_line[np.lexsort((dist_to_stop[at_line], lane[at_line]))]
    ln = lane[order]
    front = dist_to_stop[order] - 0.5 * length[order]
    back = dist_to_stop[order] + 0.5 * length[order]
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = ln[1:] != ln[:-1]
    gap = np.empty(len(order))
    gap[0] = 0.0
    gap[1:] = front[1:] - back[:-1]
    ok = halting[order] & np.where(first, front <= rule.head_gap, gap <= rule.jam_gap)
    # a lane's queue is the run of ok rows from its first row: no break before a row
    breaks = np.cumsum(~ok)
    start = np.flatnonzero(first)
    before: IntArray = breaks[start] - (~ok[start]).astype(np.int64)
    in_queue = ok & (breaks - np.repeat(before, np.diff(np.append(start, len(order)))) == 0)
    queued[order[in_queue]] = True
    q_lane = ln[in_queue]
    out["queue_veh"] = np.bincount(q_lane, minlength=n_lanes)
    q_m = np.zeros(n_lanes)
    np.maximum.at(q_m, q_lane, back[in_queue])
    out["queue_m"] = q_m
    return out, queued


def edge_sums(lane_edge: IntArray, n_edges: int, values: FloatArray) -> FloatArray:
    """Sum a per-lane quantity (L,) over each lane's edge, shape (E,)."""
    return np.bincount(lane_edge, weights=values, minlength=n_edges).astype(np.float64)
