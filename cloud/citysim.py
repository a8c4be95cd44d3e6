"""A small real-time traffic model of a map, standing in for ``sim`` until its real-time runner
lands: vehicles drive lanes and connections, stop at red and behind leaders, enter at the fringe
and leave at dead ends; signal controllers run the map's programs and obey operator commands.

Vectorised over all vehicles (structured arrays, one step for everyone). Positions come out as
ground truth in the local frame; :mod:`cloud.fielddevices` turns them into RSU perception,
BSMs and SPaT on MQTT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from proto import pb
from roadnet.model import RoadNetwork
from roadnet.signals import LIGHT_STATE

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

VEHICLE_DTYPE = np.dtype(
    [
        ("vid", "U24"),
        ("lane", np.int64),
        ("conn", np.int64),  # connection chosen at the end of the lane (or being driven), -1 none
        ("s", np.float64),
        ("v", np.float64),
        ("length", np.float32),
        ("cls", np.uint8),
        ("connected", np.bool_),
        ("bus_line", "U16"),
    ]
)

#: Kinds of vehicles entering: (ObjectClass, share, length m, connected)
MIX = (
    (pb.OBJECT_CLASS_CAR, 0.62, 4.5, False),
    (pb.OBJECT_CLASS_CAR, 0.18, 4.5, True),
    (pb.OBJECT_CLASS_ROBOTAXI, 0.12, 4.8, True),
    (pb.OBJECT_CLASS_BUS, 0.08, 12.0, True),
)


@dataclass
class Controller:
    """One signal controller running its active program."""

    tls: int
    phases: list[int]
    phase: int = 0
    elapsed: float = 0.0
    hold_until: float = 0.0
    all_red_until: float = 0.0
    target: int = -1
    program_id: str = ""


class CityModel:
    """Traffic on ``net``.

    Parameters
    ----------
    net
        The road network.
    demand_veh_h
        Vehicles entering per hour over all entry lanes.
    seed
        Random seed (the run is reproducible for a seed).
    """

    def __init__(self, net: RoadNetwork, *, demand_veh_h: float = 1800.0, seed: int = 1) -> None:
        self.net = net
        self.rng = np.random.default_rng(seed)
        self.demand = demand_veh_h
        self.t = 0.0
        self.veh = np.zeros(0, VEHICLE_DTYPE)
        self._next_id = 0
        n_l = len(net.lane_ids)
        order = np.argsort(net.conn_from_lane, kind="stable")
        self._conn_sorted = order
        self._conn_off = np.searchsorted(net.conn_from_lane[order], np.arange(n_l + 1))
        via = np.full(len(net.conn_from_lane), -1, np.int64)
        has = np.diff(net.conn_via_offsets) > 0
        via[has] = net.conn_via_lanes[net.conn_via_offsets[:-1][has]]
        self._conn_via = via
        internal = net.lane_internal
        from_dead = np.array([net.junction_type[j] == "dead_end" if j >= 0 else False for j in net.edge_from], bool)
        self.entries = np.flatnonzero(~internal & from_dead[net.lane_edge] & (np.diff(self._conn_off) > 0))
        # flat polyline lookup: key = lane * 1e6 + geometric distance along the lane
        xy, off = net.lane_shape_xy, net.lane_shape_offsets
        seg = np.hypot(*np.diff(xy, axis=0).T)
        same = np.repeat(np.arange(n_l), np.diff(off))
        seg = np.where(same[1:] == same[:-1], seg, 0.0)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        base = cum[off[:-1]]
        self._geo_len = cum[off[1:] - 1] - base
        self._key = same * 1e6 + (cum - base[same])
        self.controllers = []
        for t in range(len(net.tls_ids)):
            p = int(net.tls_active_program[t])
            self.controllers.append(Controller(t, list(net.phases(p)), program_id=net.program_ids[p]))
        self.link_state = {c.tls: net.phase_state[c.phases[0]] for c in self.controllers}

    # -- signals -------------------------------------------------------------------------
    def command(self, cmd: pb.SignalCommand) -> None:
        """Apply an operator or control command to its controller (clearance kept)."""
        t = self.net.tls_index_of.get(cmd.junction_id)
        if t is None:
            return
        c = self.controllers[t]
        until = self.t + max(float(cmd.duration_s), 1.0)
        if cmd.kind == pb.COMMAND_KIND_HOLD_PHASE:
            c.hold_until = until
        elif cmd.kind == pb.COMMAND_KIND_FORCE_PHASE and 0 <= cmd.phase_index < len(c.phases):
            c.target = int(cmd.phase_index)
            c.hold_until = 0.0
        elif cmd.kind == pb.COMMAND_KIND_ALL_RED:
            c.all_red_until = until
        elif cmd.kind == pb.COMMAND_KIND_RELEASE:
            c.hold_until = c.all_red_until = 0.0
            c.target = -1

    def _green(self, c: Controller, i: int) -> bool:
        return bool(set(self.net.phase_state[c.phases[i]]) & set("gG"))

    def _signals(self, dt: float) -> None:
        net = self.net
        for c in self.controllers:
            c.elapsed += dt
            dur = float(net.phase_duration[c.phases[c.phase]])
            if c.target >= 0 and self._green(c, c.phase) and c.phase != c.target:
                dur = min(dur, max(float(net.phase_min[c.phases[c.phase]]), 0.0), c.elapsed)
            if c.hold_until > self.t and self._green(c, c.phase):
                dur = float("inf")
            if c.elapsed >= dur:
                nxt = (c.phase + 1) % len(c.phases)
                if c.target >= 0 and not self._green(c, c.phase) and not self._green(c, nxt):
                    nxt, c.target = c.target, -1  # clearance done: go to the forced phase
                c.phase, c.elapsed = nxt, 0.0
            state = net.phase_state[c.phases[c.phase]]
            if c.all_red_until > self.t and not self._green(c, c.phase):
                state = "r" * len(state)
                c.elapsed = 0.0
            elif c.all_red_until > self.t:
                c.target = -1
                c.elapsed = max(c.elapsed, dur)  # leave the green through its amber
            self.link_state[c.tls] = state

    def spat(self, now_ns: int) -> list[pb.Spat]:
        """SPaT of every controller at ``now_ns`` (one group state per signal group)."""
        net = self.net
        out = []
        for c in self.controllers:
            state = self.link_state[c.tls]
            groups = net.tls_groups(c.tls)
            remaining = max(float(net.phase_duration[c.phases[c.phase]]) - c.elapsed, 0.0)
            end = now_ns + int(remaining * 1e9)
            seen: dict[int, str] = {}
            for k, g in enumerate(groups.tolist()):
                if k < len(state) and (g not in seen or state[k] in "Gg"):
                    seen[g] = state[k]
            mode = (
                pb.CONTROL_MODE_OVERRIDE
                if (c.hold_until > self.t or c.all_red_until > self.t)
                else pb.CONTROL_MODE_LOCAL_PLAN
            )
            out.append(
                pb.Spat(
                    junction_id=net.tls_ids[c.tls],
                    timestamp_ns=now_ns,
                    program_id=c.program_id,
                    phase_index=c.phase,
                    mode=mode,
                    link_state=state,
                    groups=[
                        pb.SignalGroupState(
                            group_id=g,
                            state=LIGHT_STATE.get(ch, 0),  # type: ignore[arg-type]
                            likely_end_ns=end,
                            min_end_ns=end,
                        )
                        for g, ch in sorted(seen.items())
                    ],
                )
            )
        return out

    # -- traffic -------------------------------------------------------------------------
    def _choose(self, lanes: I64) -> I64:
        """A random outgoing connection of each lane (-1 when none)."""
        n0, n1 = self._conn_off[lanes], self._conn_off[lanes + 1]
        k = n1 - n0
        pick = n0 + (self.rng.random(len(lanes)) * np.maximum(k, 1)).astype(np.int64)
        return np.where(k > 0, self._conn_sorted[np.minimum(pick, len(self._conn_sorted) - 1)], -1)

    def _spawn(self, dt: float) -> None:
        if len(self.entries) == 0:
            return
        n = self.rng.poisson(self.demand / 3600.0 * dt)
        if n == 0:
            return
        lanes = self.rng.choice(self.entries, n)
        # keep the entry clear: no spawn when a vehicle is within 10 m of the lane start
        busy = np.isin(lanes, self.veh["lane"][self.veh["s"] < 10.0])
        lanes = lanes[~busy]
        if len(lanes) == 0:
            return
        kind = self.rng.choice(len(MIX), len(lanes), p=[m[1] for m in MIX])
        new = np.zeros(len(lanes), VEHICLE_DTYPE)
        new["lane"] = lanes
        new["conn"] = self._choose(lanes)
        new["v"] = self.net.lane_speed[lanes] * 0.8
        new["cls"] = [MIX[k][0] for k in kind]
        new["length"] = [MIX[k][2] for k in kind]
        new["connected"] = [MIX[k][3] for k in kind]
        prefix: dict[int, str] = {
            pb.OBJECT_CLASS_BUS: "bus",
            pb.OBJECT_CLASS_ROBOTAXI: "taxi",
            pb.OBJECT_CLASS_CAR: "car",
        }
        ids = np.arange(self._next_id, self._next_id + len(lanes))
        self._next_id += len(lanes)
        new["vid"] = [f"{prefix[int(c)]}-{i}" for c, i in zip(new["cls"].tolist(), ids.tolist(), strict=True)]
        new["bus_line"] = np.where(new["cls"] == pb.OBJECT_CLASS_BUS, "B1", "")
        self.veh = np.concatenate([self.veh, new])

    def step(self, dt: float = 0.1) -> None:
        """Advance signals and traffic by ``dt`` seconds."""
        self.t += dt
        self._signals(dt)
        self._spawn(dt)
        v = self.veh
        if len(v) == 0:
            return
        net = self.net
        length = net.lane_length[v["lane"]]
        to_end = length - v["s"]
        # the leader on the same lane
        order = np.lexsort((v["s"], v["lane"]))
        lo, so = v["lane"][order], v["s"][order]
        gap = np.full(len(v), np.inf)
        same = lo[1:] == lo[:-1]
        g = so[1:] - so[:-1] - v["length"][order][1:]
        gap[order[:-1][same]] = g[same]
        # stop at a red or amber link at the end of the lane
        conn = v["conn"]
        red = np.zeros(len(v), bool)
        ctl = conn >= 0
        tls = np.where(ctl, net.conn_tls[np.maximum(conn, 0)], -1)
        link = np.where(ctl, net.conn_link[np.maximum(conn, 0)], -1)
        sig = np.flatnonzero((tls >= 0) & (link >= 0) & ~net.lane_internal[v["lane"]])
        for i in sig.tolist():
            st = self.link_state.get(int(tls[i]), "")
            red[i] = int(link[i]) < len(st) and st[int(link[i])] not in "gGs"
        stop_gap = np.where(red & (to_end > -1.0), to_end - 1.0, np.inf)
        gap = np.minimum(gap, stop_gap)
        limit = net.lane_speed[v["lane"]]
        want = np.minimum(limit, np.maximum(gap - 2.0, 0.0) / 1.2)
        v["v"] = np.clip(want, v["v"] - 4.5 * dt, v["v"] + 2.0 * dt).clip(min=0.0)
        v["s"] += v["v"] * dt
        self._advance()

    def _advance(self) -> None:
        """Move vehicles past the end of their lane onto the next; drop those leaving the map."""
        net = self.net
        v = self.veh
        for _ in range(3):
            over = np.flatnonzero(v["s"] >= net.lane_length[v["lane"]])
            if len(over) == 0:
                break
            rest = v["s"][over] - net.lane_length[v["lane"][over]]
            conn = v["conn"][over]
            internal = net.lane_internal[v["lane"][over]]
            nxt = np.where(
                conn < 0,
                -1,
                np.where(internal, net.conn_to_lane[np.maximum(conn, 0)], self._conn_via[np.maximum(conn, 0)]),
            )
            nxt = np.where((~internal) & (nxt < 0) & (conn >= 0), net.conn_to_lane[np.maximum(conn, 0)], nxt)
            gone = nxt < 0
            keep = over[~gone]
            v["lane"][keep] = nxt[~gone]
            v["s"][keep] = rest[~gone]
            entered_normal = keep[~net.lane_internal[v["lane"][keep]]]
            v["conn"][entered_normal] = self._choose(v["lane"][entered_normal])
            if gone.any():
                mask = np.ones(len(v), bool)
                mask[over[gone]] = False
                v = v[mask]
        self.veh = v

    def positions(self) -> tuple[F64, F64, F64]:
        """(x, y, heading) of every vehicle, local metres and math radians, each (N,)."""
        v = self.veh
        if len(v) == 0:
            e = np.zeros(0)
            return e, e, e
        net = self.net
        geo = v["s"] * self._geo_len[v["lane"]] / np.maximum(net.lane_length[v["lane"]], 1e-6)
        key = v["lane"] * 1e6 + geo
        lo = net.lane_shape_offsets[v["lane"]]
        hi = net.lane_shape_offsets[v["lane"] + 1] - 2
        i = np.clip(np.searchsorted(self._key, key, side="right") - 1, lo, np.maximum(hi, lo))
        a, b = net.lane_shape_xy[i], net.lane_shape_xy[i + 1]
        seg = np.maximum(self._key[i + 1] - self._key[i], 1e-9)
        f = np.clip((key - self._key[i]) / seg, 0.0, 1.0)
        xy = a + (b - a) * f[:, None]
        heading = np.arctan2(b[:, 1] - a[:, 1], b[:, 0] - a[:, 0])
        return xy[:, 0], xy[:, 1], heading
