"""Look ahead along every vehicle's route: its leader, where it must stop, and what it announces.

For each vehicle without a leader in its own group, the search walks group by group along the
route (a bounded number of steps, vectorised over the vehicles still searching): at each group
end it picks the connection the route needs, takes the junction decision there, announces its
arrival at the first conflict area it will enter, notes a lower speed limit ahead, and looks for
the first vehicle in the next group. It stops at the first blocked decision point, at the route's
end, or past the look-ahead horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.engine.idm import time_to_cover
from sim.engine.junctions import JunctionView, decide
from sim.engine.leaders import Entries, same_group_leader
from sim.engine.state import R_CLOSED, R_LANE_END, R_STOP, Fleet
from sim.engine.topology import Topology

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass
class StopTable:
    """Planned stops of the running and future vehicles, Q rows.

    ``ridx`` is the index into the engine's flat routes of the edge the stop is on; ``pos`` the
    position (m) on ``lane`` where the front stops; ``dur`` s; ``until`` timetable s (NaN none);
    ``bus`` bus-stop index (-1); ``parking`` parking-area index (-1); ``demand_q`` the stop's
    row in the demand.
    """

    ridx: I64
    lane: I64
    pos: F64
    dur: F64
    until: F64
    bus: I64
    parking: I64
    demand_q: I64


@dataclass
class Plan:
    """The look-ahead result, one row per running vehicle (R,).

    Attributes
    ----------
    lead, gap, v_lead
        Leader row (-1 none), gap to its back m (inf none), its speed m/s.
    obs, reason
        Metres the front may still go before a planned stop (inf none) and why (R_* code).
    lim_d, lim_v
        Distance m to a lower speed limit ahead and that speed m/s (inf none).
    conns
        (R, D) connection taken at each group end ahead (-1 unknown).
    reg_conn, reg_eta
        The connection whose conflict area the vehicle announces it will enter, and when (s).
    """

    lead: I64
    gap: F64
    v_lead: F64
    obs: F64
    reason: I64
    lim_d: F64
    lim_v: F64
    conns: I64
    reg_conn: I64
    reg_eta: F64


def _min_obs(plan: Plan, rows: I64, dist: F64, why: int | I64) -> None:
    """Record an obstacle where it is closer than the one already known."""
    if len(rows) == 0:
        return
    closer = dist < plan.obs[rows]
    r = rows[closer]
    plan.obs[r] = dist[closer]
    plan.reason[r] = why if isinstance(why, int) else why[closer]


def look_ahead(
    e: Entries,
    f: Fleet,
    topo: Topology,
    jv: JunctionView,
    routes: I64,
    route_want: I64,
    route_pref: I64,
    stops: StopTable,
    closed_pos: F64,
    lane_open: B,
    v0: F64,
    horizon: F64,
    time_gap: float,
    depth: int,
) -> Plan:
    """Plan every vehicle's next step (see the module docstring).

    Parameters
    ----------
    e
        The sorted entries of this step.
    f
        The fleet (R vehicles).
    routes, route_want, route_pref
        The engine's flat routes (edge indices), the lanes needed and preferred at each position.
    closed_pos
        (L,) position of a lane's closure, m (inf: open).
    lane_open
        (L,) False for lanes closed from their start (connections avoid them).
    v0
        (R,) desired speed on the current lane, m/s.
    horizon
        (R,) look-ahead distance, m.
    time_gap
        Seconds a yielding vehicle keeps from a prioritised foe.
    depth
        Most group ends looked past.
    """
    R = f.n
    lead, gap, vl = same_group_leader(e)
    plan = Plan(
        lead=lead,
        gap=gap,
        v_lead=vl,
        obs=np.full(R, np.inf),
        reason=np.zeros(R, dtype=np.int64),
        lim_d=np.full(R, np.inf),
        lim_v=np.full(R, np.inf),
        conns=np.full((R, depth), -1, dtype=np.int64),
        reg_conn=np.full(R, -1, dtype=np.int64),
        reg_eta=np.full(R, np.inf),
    )
    if R == 0:
        return plan
    gl = e.ggroup
    gpos = e.gpos
    rows = np.arange(R)

    # ---------------------------------------------------------------- the current group
    has_stop = f.stop_cur < f.stop_end
    sc = np.minimum(f.stop_cur, max(len(stops.ridx) - 1, 0))
    if len(stops.ridx):
        here = has_stop & (stops.ridx[sc] == f.rpos) & topo.lane_normal[gl] & (gl == stops.lane[sc])
        d = stops.pos[sc] + 0.5 - gpos
        here &= d > -1.0
        _min_obs(plan, rows[here], np.maximum(d[here], 0.0), R_STOP)
    dwelling = ~np.isnan(f.dwell_end)
    _min_obs(plan, rows[dwelling], np.zeros(int(dwelling.sum())), R_STOP)
    cp = closed_pos[gl]
    closed = np.isfinite(cp) & (gpos < cp + 0.01)
    _min_obs(plan, rows[closed], cp[closed] - 0.5 - gpos[closed], R_CLOSED)

    # the lanes wanted now (the route's, or the lane of a stop on this edge)
    want_here = route_want[f.rpos]
    if len(stops.ridx):
        on = has_stop & (stops.ridx[sc] == f.rpos)
        want_here = np.where(on, np.left_shift(1, topo.lane_idx[stops.lane[sc]]), want_here)

    # ---------------------------------------------------------------- along the route
    cur_g = gl.copy()
    d_end = topo.lane_len[cur_g] - gpos
    r = f.rpos.copy()
    need = lead < 0
    # vehicles behind a leader take the decision at their own stop line too (the light may turn
    # while the leader crosses), but look no further
    act = (d_end < horizon) & ~dwelling
    registered = np.zeros(R, dtype=np.bool_)
    n_routes = len(routes)
    for k in range(depth):
        sel = np.flatnonzero(act)
        if len(sel) == 0:
            break
        gs = cur_g[sel]
        de = d_end[sel]
        rs = r[sel]
        grp = f.grp[sel]
        v = f.v[sel]
        wait = ~topo.lane_normal[gs]
        re = f.rend[sel]
        has_next = rs + 1 < re
        e_next = np.where(has_next, routes[np.minimum(rs + 1, n_routes - 1)], -1)
        w_next = np.where(has_next, route_pref[np.minimum(rs + 1, n_routes - 1)], 0)
        if len(stops.ridx):
            # arrive on the lane of a stop on the next edge
            s_cur = sc[sel]
            st_next = has_stop[sel] & (stops.ridx[s_cur] == rs + 1)
            w_next = np.where(st_next, np.left_shift(1, topo.lane_idx[stops.lane[s_cur]]), w_next)
        cn = topo.choose_conn(gs, e_next, w_next, grp, lane_open)
        if k > 0:
            miss = (cn < 0) & has_next & ~wait
            if miss.any():
                cn[miss] = topo.any_conn(topo.lane_edge[gs[miss]], e_next[miss])
        c = np.where(wait, topo.int_conn[gs], cn)
        end_route = ~wait & ~has_next
        noconn = ~wait & has_next & (c < 0)
        if k == 0:
            # on a lane the route does not want (it cannot go on from where it would arrive):
            # wait at the lane end for a lane change, as SUMO does
            noconn |= ~wait & has_next & ((np.right_shift(want_here[sel], topo.lane_idx[gs]) & 1) == 0)
        _min_obs(plan, sel[noconn], de[noconn], R_LANE_END)
        go = ~end_route & ~noconn
        cc = np.maximum(c, 0)
        vmax = np.minimum(v0[sel], f.vmax[sel])
        why = decide(
            jv,
            topo,
            cc,
            de,
            v,
            f.accel[sel],
            f.decel[sel],
            f.emerg[sel],
            f.length[sel],
            vmax,
            f.blocked[sel],
            wait,
            time_gap,
            ~need[sel],
        )
        why[~go] = 0
        blocked = why > 0
        _min_obs(plan, sel[blocked], de[blocked], why[blocked])
        # announce the arrival at the first conflict area ahead
        zone = go & ~blocked & (wait | ~topo.conn_cont[cc]) & ~registered[sel] & need[sel]
        if zone.any():
            z = sel[zone]
            plan.reg_conn[z] = cc[zone]
            plan.reg_eta[z] = time_to_cover(de[zone], v[zone], f.accel[z], vmax[zone])
            registered[z] = True
        # a lower speed limit on the next lane
        nl = np.where(wait, topo.int_next[gs], topo.conn_first[cc])
        vn = topo.lane_speed[nl] * f.sf[sel]
        slower = go & (vn < v)
        if slower.any():
            req = (v * v - vn * vn) / (2.0 * np.maximum(de, 0.5))
            known = np.isfinite(plan.lim_d[sel])
            lv = np.where(known, plan.lim_v[sel], 0.0)
            ld = np.where(known, plan.lim_d[sel], 1.0)
            cur_req = np.where(known, (v * v - lv * lv) / (2.0 * np.maximum(ld, 0.5)), -np.inf)
            upd = slower & (req > cur_req)
            plan.lim_d[sel[upd]] = de[upd]
            plan.lim_v[sel[upd]] = vn[upd]
        plan.conns[sel, k] = np.where(go, c, -1)
        # the first vehicle in the next group
        cont = topo.conn_cont[cc]
        ng = np.where(wait, topo.conn_to[cc], np.where(cont, topo.conn_via0[cc], topo.conn_to[cc]))
        entry = topo.lane_goff[nl]
        look = need[sel] & go & ~blocked
        if look.any():
            sl = sel[look]
            jj, ok = e.first_at_or_after(ng[look], entry[look])
            ok &= e.veh[jj] != sl
            hit = sl[ok]
            j2 = jj[ok]
            plan.lead[hit] = e.veh[j2]
            plan.gap[hit] = de[look][ok] + (e.pos[j2] - entry[look][ok]) - e.length[j2]
            plan.v_lead[hit] = e.v[j2]
            need[hit] = False
        # planned stops and closures on the next group
        new_r = np.where(wait, rs, rs + 1)
        nd_end = de + topo.lane_len[ng] - entry
        cont_on = go & ~blocked
        if len(stops.ridx):
            s_cur = sc[sel]
            st = cont_on & has_stop[sel] & (stops.ridx[s_cur] == new_r) & (ng == stops.lane[s_cur])
            dist = de + stops.pos[s_cur] + 0.5 - entry
            _min_obs(plan, sel[st], dist[st], R_STOP)
            cont_on &= ~st
        cpn = closed_pos[ng]
        cl = cont_on & np.isfinite(cpn)
        _min_obs(plan, sel[cl], de[cl] + cpn[cl] - 0.5 - entry[cl], R_CLOSED)
        cont_on &= ~cl
        cur_g[sel] = ng
        d_end[sel] = nd_end
        r[sel] = new_r
        act[sel] = cont_on & need[sel] & (nd_end < horizon[sel])
    return plan
