"""Kinematics of one step and the moves from lane to lane it causes.

Speeds and positions follow the ballistic update (constant acceleration over the step, stopping
inside the step when the speed would turn negative). Two hard limits keep the model safe whatever
the acceleration said: the front never passes the leader's back as it was at the start of the
step (the leader only moves forward) nor a planned stopping point (a red stop line, a yielding
link, a stop). A vehicle whose front passes a lane's end moves on: through the connection chosen
by the look-ahead at a stop line, to the next internal lane inside a junction, and arrives at its
arrival position on its route's last edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.engine.lookahead import Plan
from sim.engine.state import Fleet
from sim.engine.topology import Topology

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: lane ends one vehicle can pass in one step (tiny lanes in imported networks)
MAX_HOPS = 8


@dataclass
class Moved:
    """What the step's moves produced.

    Attributes
    ----------
    ds
        (R,) metres driven.
    arrived
        (R,) True for vehicles that reached their arrival position.
    cross_rows, cross_conns
        Vehicles that crossed a stop line this step and the connection they took.
    emergency
        (R,) True where the hard limits braked harder than the emergency deceleration.
    """

    ds: F64
    arrived: B
    cross_rows: I64
    cross_conns: I64
    emergency: B


def kinematics(f: Fleet, a: F64, limit: F64, dt: float) -> tuple[F64, F64, B]:
    """New speeds and distances for accelerations ``a`` within the hard distance ``limit``.

    Returns
    -------
    v_new, ds, emergency
        (R,) m/s, m, and where the limit forced a deceleration beyond ``f.emerg``.
    """
    v = f.v
    v_new = v + a * dt
    stops = v_new < 0.0
    t_stop = np.where(stops, v / np.maximum(-a, 1e-9), dt)
    ds = np.where(stops, 0.5 * v * t_stop, 0.5 * (v + v_new) * dt)
    v_new = np.maximum(v_new, 0.0)
    lim = np.maximum(limit, 0.0)
    over = ds > lim
    ds = np.where(over, lim, ds)
    v_cap = np.where(over, np.maximum(2.0 * lim / dt - v, 0.0), v_new)
    v_new = np.minimum(v_new, v_cap)
    emergency = over & ((v - v_new) / dt > f.emerg + 1e-9)
    return v_new, ds, emergency


def move(f: Fleet, plan: Plan, ds: F64, topo: Topology) -> Moved:
    """Advance the fleet by ``ds`` along its lanes, crossing lane ends (in place)."""
    R = f.n
    s = f.s + ds
    arrived = np.zeros(R, dtype=np.bool_)
    hops = np.zeros(R, dtype=np.int64)
    cross_r: list[I64] = []
    cross_c: list[I64] = []
    depth = plan.conns.shape[1]
    for _ in range(MAX_HOPS):
        lane = f.lane
        L = topo.lane_len[lane]
        last = (f.rpos == f.rend - 1) & topo.lane_normal[lane]
        ap = f.arr_pos
        arr_at = np.where(np.isnan(ap), L, np.where(ap < 0, L + ap, np.minimum(ap, L)))
        arr_now = last & ~arrived & (s >= np.maximum(arr_at - 1e-9, 0.0))
        arrived |= arr_now
        over = (s > L) & ~arrived
        if not over.any():
            break
        rows = np.flatnonzero(over)
        ln = lane[rows]
        head = topo.group_head[ln]
        normal = topo.lane_normal[ln]
        k = hops[rows]
        c = np.where(k < depth, plan.conns[rows, np.minimum(k, depth - 1)], -1)
        stuck = normal & (c < 0)
        if stuck.any():  # no connection known: stay at the lane end (cannot happen with a plan)
            sr = rows[stuck]
            s[sr] = L[stuck] - 0.01
            f.v[sr] = 0.0
        go = ~stuck
        r = rows[go]
        ln = ln[go]
        nrm = normal[go]
        cc = c[go]
        nxt = np.where(nrm, topo.conn_first[np.maximum(cc, 0)], topo.int_next[ln])
        s[r] -= topo.lane_len[ln]
        f.prev_lane[r] = ln
        f.lane[r] = nxt
        cr = r[nrm]
        f.rpos[cr] += 1
        f.jconn[cr] = cc[nrm]
        cross_r.append(cr)
        cross_c.append(cc[nrm])
        hops[r[head[go]]] += 1
    f.s = s
    cat = np.concatenate
    return Moved(
        ds=ds,
        arrived=arrived,
        cross_rows=cat(cross_r) if cross_r else np.zeros(0, np.int64),
        cross_conns=cat(cross_c) if cross_c else np.zeros(0, np.int64),
        emergency=np.zeros(R, dtype=np.bool_),
    )
