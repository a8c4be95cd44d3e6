"""Vehicles sorted along their groups (see :mod:`sim.engine.topology`), for leader and gap search.

Every vehicle has an *entry* at its front's group position. A vehicle whose tail still hangs on
the lane it came from (a different group) gets a second, *shadow* entry there, so a vehicle
behind it on that lane sees its tail even when it drives off through another connection. One
sort per call; the leader of an entry is the next entry of the same group, and a search further
along a route is a ``searchsorted`` on the sorted keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.engine.state import Fleet
from sim.engine.topology import Topology

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass
class Entries:
    """M entries (R vehicles + shadows) sorted by (group, position).

    Attributes
    ----------
    veh
        (M,) vehicle row of each entry.
    group, pos
        (M,) group lane and front position in the group's coordinates, m.
    length, v
        (M,) the vehicle's length m and speed m/s.
    keys
        (M,) the sort keys (group * scale + pos + offset).
    self_pos
        (R,) index of each vehicle's own (non-shadow) entry.
    gpos
        (R,) each vehicle's own group position, m; ``ggroup`` (R,) its group.
    """

    veh: I64
    group: I64
    pos: F64
    length: F64
    v: F64
    keys: F64
    self_pos: I64
    gpos: F64
    ggroup: I64
    scale: float
    offset: float

    @property
    def m(self) -> int:
        """Number of entries, the closing sentinel included."""
        return len(self.veh)

    def key(self, group: I64, pos: F64) -> F64:
        """(n,) sort keys of group positions."""
        out: F64 = group * self.scale + (pos + self.offset)
        return out

    def first_at_or_after(self, group: I64, pos: F64) -> tuple[I64, B]:
        """Index of the first entry of ``group`` at position >= ``pos``, and whether there is one."""
        j = np.searchsorted(self.keys, self.key(group, pos), side="left")
        jj = np.minimum(j, self.m - 1)
        ok: B = self.group[jj] == group
        return jj, ok

    def last_before(self, group: I64, pos: F64) -> tuple[I64, B]:
        """Index of the last entry of ``group`` at position < ``pos``, and whether there is one."""
        j = np.searchsorted(self.keys, self.key(group, pos), side="left") - 1
        jj = np.clip(j, 0, self.m - 1)
        ok: B = (j >= 0) & (self.group[jj] == group)
        return jj, ok


def build_entries(f: Fleet, topo: Topology) -> Entries:
    """Sort the fleet (and the shadows of tails on previous lanes) along the groups."""
    g = topo.lane_group[f.lane]
    p = topo.lane_goff[f.lane] + f.s
    pl = f.prev_lane
    has_prev = pl >= 0
    pg = topo.lane_group[np.maximum(pl, 0)]
    sh = np.flatnonzero(has_prev & (f.s < f.length) & (pg != g))
    sp = topo.lane_goff[pl[sh]] + topo.lane_len[pl[sh]] + f.s[sh]
    n = f.n
    # a sentinel entry (group -1, key +inf) closes the array so every search has a valid index
    veh = np.concatenate([np.arange(n, dtype=np.int64), sh, [-1]])
    group = np.concatenate([g, pg[sh], [-1]])
    pos = np.concatenate([p, sp, [np.inf]])
    keys = group * topo.key_scale + (pos + topo.key_offset)
    keys[-1] = np.inf
    order = np.argsort(keys, kind="stable")
    inv = np.empty(len(order), dtype=np.int64)
    inv[order] = np.arange(len(order))
    veh_s = veh[order]
    return Entries(
        veh=veh_s,
        group=group[order],
        pos=pos[order],
        length=np.append(f.length, 0.0)[veh_s],
        v=np.append(f.v, 0.0)[veh_s],
        keys=keys[order],
        self_pos=inv[:n],
        gpos=p,
        ggroup=g,
        scale=topo.key_scale,
        offset=topo.key_offset,
    )


def same_group_leader(e: Entries) -> tuple[I64, F64, F64]:
    """(R,) leader row (-1 none), gap to its back (m, inf none) and its speed (m/s)."""
    jj = np.minimum(e.self_pos + 1, e.m - 1)
    has = e.group[jj] == e.ggroup
    lead = np.where(has, e.veh[jj], -1)
    gap = np.where(has, e.pos[jj] - e.length[jj] - e.gpos, np.inf)
    vl = np.where(has, e.v[jj], 0.0)
    return lead, gap, vl


def group_rooms(e: Entries, n_lanes: int, halt_speed: float = 1.0, slot: float = 7.0) -> F64:
    """(L,) metres free at the start of each group lane before its standing queue.

    The back of the rearmost standing vehicle of the group, minus ``slot`` metres for every
    vehicle behind it (they will queue too); inf where nothing stands.
    """
    room = np.full(n_lanes, np.inf)
    real = e.veh >= 0
    idx = np.arange(e.m)[real]
    grp = e.group[real]
    halt = e.v[real] < halt_speed
    first_halt = np.full(n_lanes, e.m, dtype=np.int64)
    np.minimum.at(first_halt, grp[halt], idx[halt])
    start = np.full(n_lanes, e.m, dtype=np.int64)
    np.minimum.at(start, grp, idx)
    has = first_halt < e.m
    fh = first_halt[has]
    room[has] = e.pos[fh] - e.length[fh] - slot * (fh - start[has])
    return room
