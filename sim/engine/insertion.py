"""Insertion of departing vehicles: where there is room, never overlapping anybody.

Each step, every edge with vehicles waiting to depart tries its first waiting vehicle (in
departure order; SUMO tries the rest of an edge's queue only after the first got in). The lane
follows ``departLane`` (``best``: among the lanes that lead on along the route, the one with the
most room at the insertion point), the position ``departPos`` and the speed ``departSpeed``;
the speed is lowered to what is safe behind the leader, and the insertion waits while the gap to
the leader or to a vehicle approaching from behind is too short.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.demand import model as dm
from sim.engine.leaders import Entries
from sim.engine.topology import Topology

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass
class Inserted:
    """Vehicles that got in this step: demand index, lane, position m, speed m/s."""

    vid: I64
    lane: I64
    s: F64
    v: F64


def try_insert(
    cand: I64,
    demand: dm.Demand,
    topo: Topology,
    e: Entries,
    routes0: I64,
    want: I64,
    vgrp: I64,
    params: dict[str, F64],
    lane_open: B,
    rng: np.random.Generator,
) -> tuple[Inserted, B]:
    """Try to insert the demand vehicles ``cand`` (one per first edge).

    Parameters
    ----------
    cand
        (n,) demand indices, at most one per first edge.
    routes0
        (n, 2) first and second route edge of each candidate (-1 when the route has one edge).
    want
        (n,) bitmask of the first edge's lanes the route wants.
    vgrp
        (n,) permission group of each candidate.
    params
        (n,) columns ``length``, ``min_gap``, ``decel``, ``tau``, ``vmax``, ``sf`` of the candidates.
    lane_open
        (L,) False for closed lanes.

    Returns
    -------
    Inserted, and (n,) True for the candidates that got in.
    """
    n = len(cand)
    e0 = routes0[:, 0]
    length = params["length"]
    min_gap = params["min_gap"]
    first = topo.edge_first[e0]
    nl = topo.edge_nlanes[e0]
    dl = demand.depart_lane[cand]
    pk = demand.depart_pos_kind[cand]
    # position of the front on a lane of the first edge (per lane, lanes may differ in length)
    u = rng.random(n)
    lane_ok = np.zeros((n, topo.max_lanes), dtype=np.bool_)
    lane_room = np.full((n, topo.max_lanes), -np.inf)
    lane_pos = np.zeros((n, topo.max_lanes))
    allowed_mask = topo.edge_mask[vgrp, e0]
    for k in range(topo.max_lanes):
        has = k < nl
        ln = np.where(has, first + k, 0)
        L = topo.lane_len[ln]
        pos = np.where(
            pk == dm.POS_NUMBER,
            np.where(demand.depart_pos[cand] < 0, L + demand.depart_pos[cand], demand.depart_pos[cand]),
            np.where((pk == dm.POS_RANDOM) | (pk == dm.POS_FREE), length + u * np.maximum(L - length, 0.0), length),
        )
        pos = np.where((pk == dm.POS_BASE) | (pk == dm.POS_LAST), np.minimum(length, L), np.minimum(pos, L))
        lane_pos[:, k] = pos
        usable = has & ((allowed_mask >> k) & 1 == 1) & lane_open[ln]
        jl, okl = e.first_at_or_after(ln, pos - 1e-6)
        room = np.where(okl, e.pos[jl] - e.length[jl] - pos, np.inf)
        lane_ok[:, k] = usable
        lane_room[:, k] = np.where(usable, room, -np.inf)
    k_idx = np.arange(topo.max_lanes)[None, :]
    in_want = ((want[:, None] >> k_idx) & 1) == 1
    best_room = np.where(in_want & lane_ok, lane_room, -np.inf)
    choose = np.argmax(best_room, axis=1)
    no_want = ~np.any(in_want & lane_ok, axis=1)
    free_choice = np.argmax(lane_room, axis=1)
    first_ok = np.argmax(lane_ok, axis=1)
    cnt = lane_ok.sum(axis=1)
    rank = np.cumsum(lane_ok, axis=1) - 1
    rnd = np.argmax(lane_ok & (rank == np.floor(u * cnt).astype(np.int64)[:, None]), axis=1)
    kk = np.where(dl == dm.LANE_BEST, np.where(no_want, free_choice, choose), 0)
    kk = np.where(dl == dm.LANE_FREE, free_choice, kk)
    kk = np.where(dl == dm.LANE_FIRST, first_ok, kk)
    kk = np.where(dl == dm.LANE_RANDOM, rnd, kk)
    kk = np.where(dl >= 0, dl, kk)
    valid = (kk < nl) & lane_ok[np.arange(n), np.minimum(kk, topo.max_lanes - 1)]
    kk = np.minimum(kk, topo.max_lanes - 1)
    lane = first + kk
    pos = lane_pos[np.arange(n), kk]
    # speed
    L = topo.lane_len[lane]
    vdes = np.minimum(params["vmax"], params["sf"] * topo.lane_speed[lane])
    sk = demand.depart_speed_kind[cand]
    v = np.where(sk == dm.SPEED_NUMBER, demand.depart_speed[cand], vdes)
    v = np.where(sk == dm.SPEED_RANDOM, u * vdes, v)
    v = np.where((sk == dm.SPEED_MAX) | (sk == dm.SPEED_DESIRED), vdes, v)
    v = np.clip(v, 0.0, vdes)
    # the leader: enough room at the chosen speed
    jl, okl = e.first_at_or_after(lane, pos - 1e-6)
    gap = np.where(okl, e.pos[jl] - e.length[jl] - pos, np.inf)
    vl = np.where(okl, e.v[jl], 0.0)
    b = params["decel"]
    tau = params["tau"]
    # largest safe speed: gap >= min_gap + v*tau + (v^2 - vl^2) / (2b)
    room = np.maximum(gap - min_gap + vl * vl / (2 * b), 0.0)
    v_safe = -b * tau + np.sqrt((b * tau) ** 2 + 2 * b * room)
    v = np.minimum(v, v_safe)
    ok = valid & (gap >= min_gap) & (pos <= L + 1e-9)
    # the follower (a vehicle behind the insertion point, e.g. coming out of the junction)
    jf, okf = e.last_before(lane, pos)
    gap_f = np.where(okf, pos - length - e.pos[jf], np.inf)
    vf = np.where(okf, e.v[jf], 0.0)
    need_f = 2.5 + np.maximum(vf * 1.0 + (vf * vf - v * v) / (2 * 4.5), 0.0)
    ok &= gap_f >= np.where(okf, need_f, 0.0)
    ins = Inserted(cand[ok], lane[ok], pos[ok], v[ok])
    return ins, ok
