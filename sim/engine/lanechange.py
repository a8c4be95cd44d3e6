"""Lane changes, vectorised: the ones a route needs and discretionary (MOBIL-like) ones.

*Mandatory*: a vehicle on a lane from which its next route edge (or its next stop) cannot be
reached moves one lane towards the nearest lane that can; it accepts tighter gaps and harder
braking of the new follower as it nears the lane end, and when it is urgent the would-be
follower slows to open a gap (cooperation). *Strategic*: a vehicle moves early, when safe,
towards the lanes its route can stay on longest. *Discretionary*: a vehicle moves to a
neighbouring preferred lane (or, to pass a standing vehicle such as a dwelling bus, any lane its
route can continue from) when its IDM acceleration there exceeds the current one by a threshold
and the move is safe (MOBIL with politeness 0). A change is instantaneous, keeps the relative position on the edge,
and two vehicles never move into the same gap in one step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.engine.idm import idm_accel
from sim.engine.leaders import Entries, same_group_leader
from sim.engine.lookahead import StopTable
from sim.engine.state import Fleet
from sim.engine.topology import Topology

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass
class LaneChanges:
    """The result of one step: rows that change, their new lane and position; cooperation.

    ``coop_gap``/``coop_v`` (R,) are a virtual leader (inf / 0 elsewhere): a vehicle waiting to
    merge in front, for the vehicles asked to open a gap, and the standing vehicle beside an urgent
    merger, which it stops behind; ``v_cap`` (R,) a speed an urgent merger slows to so that the
    moving vehicle beside it in the target lane gets ahead (inf elsewhere).
    """

    rows: I64
    lane: I64
    s: F64
    mandatory: B
    coop_gap: F64
    coop_v: F64
    v_cap: F64


def wanted_lanes(f: Fleet, topo: Topology, route_want: I64, stops: StopTable, edge_closed: I64) -> tuple[I64, I64]:
    """(R,) bitmasks over the current edge's lane indices: lanes wanted, lanes allowed.

    Wanted: the route's wanted lanes at the current position (or the lane of a stop on this
    edge), open ones only.
    """
    edge = topo.lane_edge[f.lane]
    allowed = topo.edge_mask[f.grp, edge] & ~edge_closed[edge]
    want = route_want[np.minimum(f.rpos, len(route_want) - 1)] & allowed
    if len(stops.ridx):
        sc = np.minimum(f.stop_cur, len(stops.ridx) - 1)
        on = (f.stop_cur < f.stop_end) & (stops.ridx[sc] == f.rpos)
        want = np.where(on, np.left_shift(1, topo.lane_idx[stops.lane[sc]]), want)
    want = np.where(want == 0, allowed, want)
    return want, allowed


def lane_changes(
    e: Entries,
    f: Fleet,
    topo: Topology,
    route_want: I64,
    route_pref: I64,
    stops: StopTable,
    edge_closed: I64,
    v0: F64,
    *,
    threshold: float = 0.3,
    cooldown: float = 3.0,
    disc_turn: int = 0,
    disc_every: int = 1,
) -> LaneChanges:
    """Decide this step's lane changes (see the module docstring).

    Discretionary changes are weighed for the vehicles with ``vid % disc_every == disc_turn``
    only (each vehicle every ``disc_every`` steps), which spreads their cost.

    ``route_want`` / ``route_pref`` (P,) are the lanes a route needs at each position and the
    lanes it can stay on for longer (strategic changes move there early, when safe).
    """
    R = f.n
    coop_gap = np.full(R, np.inf)
    coop_v = np.zeros(R)
    v_cap = np.full(R, np.inf)
    empty = LaneChanges(
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool), coop_gap, coop_v, v_cap
    )
    if R == 0:
        return empty
    lane = f.lane
    ok = topo.lane_normal[lane] & (f.s >= f.length) & np.isnan(f.dwell_end)
    want, allowed = wanted_lanes(f, topo, route_want, stops, edge_closed)
    idx = topo.lane_idx[lane]
    bit = np.left_shift(1, idx)
    to_end = topo.lane_len[lane] - f.s
    pref = route_pref[np.minimum(f.rpos, len(route_pref) - 1)] & want
    pref = np.where(pref == 0, want, pref)
    must = (want & bit) == 0
    mand = ok & must & (f.lc_time >= 1.0)
    m_dir, n_needed = topo.dir_lut[want, idx], topo.dist_lut[want, idx]
    urgency = np.clip(1.0 - (to_end - 30.0 * (n_needed - 1)) / 150.0, 0.0, 1.0)
    # strategic: on a wanted lane, but not one the route can stay on for long
    strat = ok & ~must & ((pref & bit) == 0) & (f.lc_time >= 1.0)
    s_dir = topo.dir_lut[pref, idx]
    s_tb = np.left_shift(1, np.clip(idx + s_dir, 0, 62))
    strat &= ((allowed & s_tb) != 0) & (((want & s_tb) != 0) | (to_end > 100.0))
    disc = ok & ~must & ~strat & (f.lc_time >= cooldown) & (to_end > 20.0)
    # leaving the preferred lanes is for passing a standing vehicle (a dwelling bus) only
    _, gap_c, v_c = same_group_leader(e)
    blocked_ahead = (gap_c < 30.0) & (v_c < 1.0) & (to_end > 30.0)
    if disc_every > 1:
        disc &= f.vid % disc_every == disc_turn
    rows_l: list[I64] = []
    tgt_l: list[I64] = []
    kind_l: list[I64] = []
    for sel, d, kd in ((mand, m_dir, 2), (strat, s_dir, 1)):
        r = np.flatnonzero(sel)
        rows_l.append(r)
        tgt_l.append(idx[r] + d[r])
        kind_l.append(np.full(len(r), kd, dtype=np.int64))
    for step in (-1, 1):
        t = idx + step
        inside = (t >= 0) & (t < topo.edge_nlanes[topo.lane_edge[lane]])
        tb = np.left_shift(1, np.maximum(t, 0))
        good = disc & inside & ((allowed & tb) != 0) & (((pref & tb) != 0) | (((want & tb) != 0) & blocked_ahead))
        dr = np.flatnonzero(good)
        rows_l.append(dr)
        tgt_l.append(t[dr])
        kind_l.append(np.zeros(len(dr), dtype=np.int64))
    rows = np.concatenate(rows_l)
    tgt_idx = np.concatenate(tgt_l)
    kind = np.concatenate(kind_l)
    is_m = kind == 2
    if len(rows) == 0:
        return empty
    edge = topo.lane_edge[lane[rows]]
    tl = topo.edge_first[edge] + tgt_idx
    s_new = np.minimum(f.s[rows] * topo.lane_len[tl] / topo.lane_len[lane[rows]], topo.lane_len[tl] - 0.1)
    v = f.v[rows]
    # the new leader and follower
    jl, okl = e.first_at_or_after(tl, s_new)
    gap_l = np.where(okl, e.pos[jl] - e.length[jl] - s_new, np.inf)
    v_l = np.where(okl, e.v[jl], 0.0)
    jf, okf = e.last_before(tl, s_new)
    fr = e.veh[jf]
    gap_f = np.where(okf, s_new - f.length[rows] - e.pos[jf], np.inf)
    v_f = np.where(okf, e.v[jf], 0.0)
    frc = np.where(okf, fr, 0)
    a_f = idm_accel(
        v_f,
        v0[frc],
        np.where(okf, gap_f, np.inf),
        v,
        s0=f.min_gap[frc],
        T=f.tau[frc],
        a_max=f.accel[frc],
        b=f.decel[frc],
    )
    s0, T, am, b = f.min_gap[rows], f.tau[rows], f.accel[rows], f.decel[rows]
    a_new = idm_accel(v, v0[rows], gap_l, v_l, s0=s0, T=T, a_max=am, b=b)
    a_cur = idm_accel(v, v0[rows], gap_c[rows], v_c[rows], s0=s0, T=T, a_max=am, b=b)
    urg = urgency[rows]
    b_safe = np.where(is_m, f.decel[rows] * (0.4 + 0.6 * urg), np.where(kind == 1, 1.5, 1.0))
    min_gap_need = np.where(is_m, 0.5 + (1.0 - urg) * 0.5 * f.min_gap[rows], 0.5 * f.min_gap[rows] + 0.5)
    # a standing vehicle needs no braking: its gap is what matters
    f_ok = (a_f >= -b_safe) | (v_f < 0.5)
    me_ok = (a_new >= -b_safe) | (v < 0.5)
    safe = (gap_l >= min_gap_need) & (gap_f >= min_gap_need) & f_ok & me_ok
    gain = a_new - a_cur
    accept = safe & (is_m | ((kind == 1) & (gain > -2.0)) | (gain > threshold))
    # cooperation: an urgent merger asks its would-be follower to open a gap, unless that one
    # must leave its lane itself
    content = np.ones(R, dtype=np.bool_)
    content[ok & must] = False
    coop = is_m & ~safe & (urg > 0.2) & okf & (gap_f > 0.0) & (gap_f < 40.0) & content[frc]
    if coop.any():
        _nearer_leader(coop_gap, coop_v, fr[coop], gap_f[coop], v[coop])
    # an urgent merger blocked by the vehicle beside it falls in behind it: it slows down below a
    # moving one, and does not drive up alongside a standing one (which may need its lane)
    beside = is_m & ~safe & (urg > 0.5) & okl & (gap_l < min_gap_need)
    moving = beside & (v_l >= 0.5)
    if moving.any():
        np.minimum.at(v_cap, rows[moving], np.maximum(v_l[moving] - 2.0, 0.0))
    standing = beside & (v_l < 0.5) & (gap_l >= 0.0)
    if standing.any():
        _nearer_leader(coop_gap, coop_v, rows[standing], gap_l[standing], np.zeros(int(standing.sum())))
    sw_rows, sw_tl, sw_s = _swaps(e, f, rows, tl, is_m & ~accept, okl, jl, gap_l, okf, jf, gap_f)
    # one change per vehicle (the better of two discretionary targets), one per gap
    a_rows, a_tl, a_s, a_m, a_gain = rows[accept], tl[accept], s_new[accept], is_m[accept], gain[accept]
    if len(a_rows) == 0:
        return LaneChanges(sw_rows, sw_tl, sw_s, np.ones(len(sw_rows), dtype=np.bool_), coop_gap, coop_v, v_cap)
    order = np.lexsort((-a_gain, ~a_m, a_rows))
    first = np.r_[True, a_rows[order][1:] != a_rows[order][:-1]]
    pick = order[first]
    a_rows, a_tl, a_s, a_m = a_rows[pick], a_tl[pick], a_s[pick], a_m[pick]
    o2 = np.lexsort((a_s, a_tl))
    a_rows, a_tl, a_s, a_m = a_rows[o2], a_tl[o2], a_s[o2], a_m[o2]
    span = f.length[a_rows] + 2.0 * f.min_gap[a_rows] + 5.0
    close = (a_tl[1:] == a_tl[:-1]) & (a_s[1:] - a_s[:-1] < span[1:])
    bad = np.zeros(len(a_rows), dtype=np.bool_)
    bad[1:] |= close
    bad[:-1] |= close
    keep = ~bad & ~np.isin(a_rows, sw_rows)
    return LaneChanges(
        np.concatenate([a_rows[keep], sw_rows]),
        np.concatenate([a_tl[keep], sw_tl]),
        np.concatenate([a_s[keep], sw_s]),
        np.concatenate([a_m[keep], np.ones(len(sw_rows), dtype=np.bool_)]),
        coop_gap,
        coop_v,
        v_cap,
    )


def _swaps(
    e: Entries,
    f: Fleet,
    rows: I64,
    tl: I64,
    failed: B,
    okl: B,
    jl: I64,
    gap_l: F64,
    okf: B,
    jf: I64,
    gap_f: F64,
) -> tuple[I64, I64, F64]:
    """Two slow vehicles side by side that each need the other's lane exchange places (as SUMO)."""
    R = f.n
    want_tl = np.full(R, -1, dtype=np.int64)
    want_tl[rows[failed]] = tl[failed]
    side_l = failed & okl & (gap_l < 0)
    side_f = failed & okf & (gap_f < 0)
    partner = np.where(side_l, e.veh[jl], np.where(side_f, e.veh[jf], -1))
    i = rows[partner >= 0]
    p = partner[partner >= 0]
    if len(i) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    ok = (i < p) & (want_tl[p] == f.lane[i]) & (want_tl[i] == f.lane[p])
    ok &= (f.v[i] < 1.0) & (f.v[p] < 1.0) & (np.abs(f.s[i] - f.s[p]) < 3.0)
    # the longer one must fit behind the shorter one's place: the follower there keeps its gap
    for a, b in ((i, p), (p, i)):
        jb, okb = e.last_before(f.lane[b], f.s[b] - 1e-6)
        behind = np.where(okb & (e.veh[jb] != a), f.s[b] - f.length[b] - e.pos[jb], np.inf)
        ok &= behind >= np.maximum(f.length[a] - f.length[b], 0.0) + 0.1
    i, p = i[ok], p[ok]
    i, first = np.unique(i, return_index=True)
    p = p[first]
    p_first = ~np.isin(p, i)
    i, p = i[p_first], p[p_first]
    lanes = np.concatenate([f.lane[p], f.lane[i]])
    pos = np.concatenate([f.s[p], f.s[i]])
    return np.concatenate([i, p]), lanes, pos


def _nearer_leader(coop_gap: F64, coop_v: F64, rows: I64, gap: F64, v: F64) -> None:
    """Give vehicles ``rows`` a virtual leader ``gap`` m ahead driving ``v`` m/s (all (k,)) where
    it is nearer than the one ``coop_gap`` / ``coop_v`` already hold for them, in place."""
    closer = gap < coop_gap[rows]
    coop_gap[rows[closer]] = gap[closer]
    coop_v[rows[closer]] = v[closer]
