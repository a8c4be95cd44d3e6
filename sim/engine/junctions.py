"""Junction decisions, vectorised over every vehicle approaching a decision point.

A vehicle decides at a connection's stop line (signal; for connections without an internal
junction also the conflict check) and, for connections with an internal junction, at the end of
their first internal lane (the conflict check). The conflict check uses SUMO's request tables:

- a *yielding* link (``g``, unsignalised ``m``, after stopping at ``s``) waits while a foe it must
  respect (``response``) has announced an arrival earlier than its own time to clear the conflict
  area plus a time gap; vehicles announce arrivals (:func:`announce`) when they plan to pass;
- any link waits while a vehicle of a conflicting link (``foes``) is inside the junction and has
  not yet cleared the point where the two paths cross;
- a link whose exit lane has a standing queue reaching back to its start waits (keep clear).

Signals: ``r``/``u`` stop; ``y`` stops when the vehicle can brake comfortably (and keeps
stopping once it began), except a vehicle
already waiting at the line to turn across traffic, which may clear on amber; ``G`` has priority.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.engine.idm import time_to_cover
from sim.engine.state import R_AMBER, R_CLEAR, R_RED, R_STOP_SIGN, R_YIELD, Fleet
from sim.engine.topology import CHAR_MODE_LUT, M_AMBER, M_PRIORITY, M_RED, M_STOP, M_YIELD, Topology

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


def link_modes(link_state: npt.NDArray[np.str_]) -> I64:
    """(K,) engine mode of each link from SUMO state characters (-1: the unsignalised rule)."""
    a = np.ascontiguousarray(np.asarray(link_state, dtype="<U1"))
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    cp = a.view(np.uint32).astype(np.int64)
    out: I64 = np.where(cp < 128, CHAR_MODE_LUT[np.minimum(cp, 127)], -1)
    return out


@dataclass
class JunctionView:
    """What decisions need this step, per connection (C,) and per lane (L,).

    Attributes
    ----------
    mode
        (C,) M_* mode of each connection.
    foe_eta, tie_eta
        (C,) earliest announced arrival, s from now, of the foes the connection yields to
        (``response``) and of its tie-break foes (conflicting, neither yields).
    foe_occ
        (C,) a vehicle of a conflicting connection is inside the junction and has not yet cleared
        the point where the paths cross.
    room
        (L,) metres free at the start of each group lane before its standing queue.
    """

    mode: I64
    foe_eta: F64
    tie_eta: F64
    foe_occ: B
    room: F64


def occupancy(f: Fleet, topo: Topology) -> F64:
    """(C,) how far along each connection's internal lanes the rearmost vehicle inside its conflict
    area has its back, m (inf: nobody inside); tails hanging back from the exit lane count."""
    back = np.full(topo.n_conns, np.inf)
    inz = topo.lane_in_zone[f.lane]
    ln = f.lane[inz]
    np.minimum.at(back, topo.int_conn[ln], topo.lane_chain_off[ln] + f.s[inz] - f.length[inz])
    pl = f.prev_lane
    tail = (pl >= 0) & (f.s < f.length)
    tail &= topo.lane_in_zone[np.maximum(pl, 0)]
    c = topo.int_conn[pl[tail]]
    np.minimum.at(back, c, topo.conn_vialen[c] + f.s[tail] - f.length[tail])
    return back


def junction_view(topo: Topology, modes: I64 | None, reg_eta: F64, occ_back: F64, room: F64) -> JunctionView:
    """Combine link modes, the last step's announced arrivals and the occupancy.

    A connection counts as blocked by a foe's vehicle until that vehicle's back has passed the
    point where the two paths cross (plus 1 m).
    """
    mode = topo.conn_default.copy()
    sig = topo.conn_glink >= 0
    if modes is not None and len(modes):
        m = modes[topo.conn_glink[sig]]
        mode[sig] = np.where(m >= 0, m, mode[sig])
    foe_eta = np.full(topo.n_conns, np.inf)
    np.minimum.at(foe_eta, topo.yield_a, reg_eta[topo.yield_b])
    tie_eta = np.full(topo.n_conns, np.inf)
    np.minimum.at(tie_eta, topo.tie_a, reg_eta[topo.tie_b])
    foe_occ = np.zeros(topo.n_conns, dtype=np.bool_)
    foe_occ[topo.foe_a[occ_back[topo.foe_b] < topo.foe_cp + 1.0]] = True
    return JunctionView(mode, foe_eta, tie_eta, foe_occ, room)


def decide(
    jv: JunctionView,
    topo: Topology,
    c: I64,
    dist: F64,
    v: F64,
    accel: F64,
    decel: F64,
    emerg: F64,
    length: F64,
    vmax: F64,
    prev_block: I64,
    at_wait: B,
    time_gap: float,
    signal_only: B,
) -> I64:
    """(n,) why each vehicle must stop at its decision point (R_* code; 0 = it may pass).

    Parameters
    ----------
    c
        (n,) the connection.
    dist
        (n,) metres to the decision point.
    v, accel, decel, emerg, length, vmax
        (n,) the vehicle's speed m/s, acceleration, comfortable and emergency deceleration
        m/s^2, length m, speed it may reach m/s.
    prev_block
        (n,) its R_* reason of the last step (amber clearing of waiting turners).
    at_wait
        (n,) True at a waiting position inside the junction, False at a stop line.
    time_gap
        Seconds a yielding vehicle keeps from a prioritised foe's arrival.
    signal_only
        (n,) True where only the signal matters (no conflict zone or room ahead to check).
    """
    mode = jv.mode[c]
    cont = topo.conn_cont[c]
    line = ~at_wait
    r = np.zeros(len(c), dtype=np.int64)
    red = line & (mode == M_RED)
    amber = line & (mode == M_AMBER)
    can_stop = v * v <= 2.0 * decel * np.maximum(dist - 0.5, 0.05)
    sneak = amber & ~cont & (prev_block == R_YIELD) & (dist < 3.0)
    stop = line & (mode == M_STOP)
    halted = (dist < 3.0) & (v < 0.3)
    r[red] = R_RED
    # a vehicle that began to stop for this amber keeps stopping while it physically can
    committed = (prev_block == R_AMBER) & (v * v <= 2.0 * emerg * np.maximum(dist - 0.3, 0.0))
    r[amber & (can_stop | committed) & ~sneak] = R_AMBER
    r[stop & ~halted & (r == 0)] = R_STOP_SIGN
    yielding = np.where(at_wait, mode != M_PRIORITY, (mode == M_YIELD) | (stop & halted) | sneak)
    # a conflict zone and the room behind it are checked at waiting positions and before
    # non-continuing connections
    here = (at_wait | ~cont) & ~signal_only
    check = (r == 0) & here
    if check.any():
        leave = time_to_cover(dist + topo.conn_zone_len[c] + length, v, accel, vmax)
        eta = np.where(yielding, np.minimum(jv.foe_eta[c], jv.tie_eta[c]), jv.tie_eta[c])
        r[check & ((eta < leave + time_gap) | jv.foe_occ[c])] = R_YIELD
    to = topo.conn_to[c]
    need = np.minimum(length + 1.0, topo.lane_len[to] - 0.1)
    r[(r == 0) & here & (jv.room[to] < need)] = R_CLEAR
    return r


def announce(topo: Topology, conn: I64, eta: F64) -> F64:
    """(C,) the earliest announced arrival per connection from (vehicle) announcements, s."""
    out = np.full(topo.n_conns, np.inf)
    ok = conn >= 0
    np.minimum.at(out, conn[ok], eta[ok])
    return out
