"""Where signals meet lanes: per lane the controller and signal group governing its stop line.

Computed once per map, vectorised; used by the map endpoint (signal heads for the dashboard),
the stand-in control and the picture snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from proto import pb
from roadnet.model import RoadNetwork

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: proto LightState values that mean "may go"
GO_STATES = frozenset({pb.LIGHT_STATE_PERMISSIVE_GREEN, pb.LIGHT_STATE_PROTECTED_GREEN})


@dataclass(frozen=True)
class SignalHeads:
    """One signal head per (incoming lane, signal group) at a signalised stop line.

    Attributes
    ----------
    lane
        (H,) lane index.
    tls
        (H,) controller index.
    group
        (H,) signal group id (1-based).
    xy
        (H, 2) stop-line position, m (the lane's last point).
    heading
        (H,) lane heading at the stop line, radians.
    """

    lane: I64
    tls: I64
    group: I64
    xy: F64
    heading: F64


class SignalMap:
    """Lane and signal relations of one map.

    Parameters
    ----------
    net
        The road network.
    """

    def __init__(self, net: RoadNetwork) -> None:
        self.net = net

    @cached_property
    def heads(self) -> SignalHeads:
        """Signal heads of every signalised approach lane."""
        net = self.net
        c = np.flatnonzero((net.conn_tls >= 0) & (net.conn_link >= 0))
        tls = net.conn_tls[c]
        group = net.link_group[net.tls_link_offsets[tls] + net.conn_link[c]]
        pairs = np.unique(np.stack([net.conn_from_lane[c], tls, group], axis=1), axis=0)
        lane = pairs[:, 0] if len(pairs) else np.zeros(0, np.int64)
        end = net.lane_shape_offsets[lane + 1] - 1
        xy = net.lane_shape_xy[end] if len(lane) else np.zeros((0, 2))
        prev = net.lane_shape_xy[np.maximum(end - 1, 0)] if len(lane) else np.zeros((0, 2))
        heading = np.arctan2(xy[:, 1] - prev[:, 1], xy[:, 0] - prev[:, 0])
        return SignalHeads(lane, pairs[:, 1] if len(pairs) else lane, pairs[:, 2] if len(pairs) else lane, xy, heading)

    @cached_property
    def lane_tls(self) -> I64:
        """(L,) controller index governing each lane's stop line, -1 none."""
        out = np.full(len(self.net.lane_ids), -1, np.int64)
        h = self.heads
        out[h.lane] = h.tls
        return out

    @cached_property
    def lane_group(self) -> I64:
        """(L,) signal group of the lane's straight-on (or first) movement, 0 none."""
        net = self.net
        out = np.zeros(len(net.lane_ids), np.int64)
        c = np.flatnonzero((net.conn_tls >= 0) & (net.conn_link >= 0))
        # straight movements last so that they win the assignment
        order = sorted(c.tolist(), key=lambda k: net.conn_dir[k] == "s")
        c = np.asarray(order, dtype=np.int64)
        if len(c):
            tls = net.conn_tls[c]
            out[net.conn_from_lane[c]] = net.link_group[net.tls_link_offsets[tls] + net.conn_link[c]]
        return out

    def group_states(self, spat: dict[str, pb.Spat]) -> dict[int, dict[int, tuple[int, int]]]:
        """controller index -> group id -> (LightState, likely_end_ns) from the SPaT messages."""
        idx = self.net.tls_index_of
        out: dict[int, dict[int, tuple[int, int]]] = {}
        for jid, s in spat.items():
            t = idx.get(jid)
            if t is not None:
                out[t] = {g.group_id: (int(g.state), int(g.likely_end_ns)) for g in s.groups}
        return out

    def lane_light(self, spat: dict[str, pb.Spat]) -> tuple[I64, I64]:
        """(L,) LightState of each lane's group (0 unknown) and (L,) its likely end, ns (0 unknown)."""
        n = len(self.net.lane_ids)
        state = np.zeros(n, np.int64)
        end = np.zeros(n, np.int64)
        states = self.group_states(spat)
        lt, lg = self.lane_tls, self.lane_group
        for t, groups in states.items():
            lanes = np.flatnonzero(lt == t)
            for k in lanes.tolist():
                se = groups.get(int(lg[k]))
                if se is not None:
                    state[k], end[k] = se
        return state, end
