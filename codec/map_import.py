"""MAP -> roadnet: configure intersections from what their RSUs broadcast.

Each ``pb.MapData`` (from :mod:`codec.mapdata`) becomes a junction at its reference point. Its
lanes become edges: a CSAE link (upstream node -> junction) is one edge with its lanes, lane
``laneID`` 1 the leftmost; a J2735 lane is an edge of its own. An edge's shape is the left
border of its leftmost lane, extended to the junction centre, so that the builder places the
lanes and trims them back to the junction box. Lanes a connection leads into that no MAP
describes are made as the reverse of the opposite link (a two-way road), else as a straight
road to the remote junction when it is known, else as a 30 m stub in the manoeuvre's direction.
Upstream nodes without their own MAP become dead ends at the far end of the lanes.

Signal groups: the connections of one MAP signal group share one link of the junction's
controller (links numbered in ascending group order), so ``RoadNetwork.tls_groups`` keeps the
grouping; :attr:`ImportedMap.signal_links` maps (junction, MAP group) to the link. A MAP has no
timing, so the controllers have no program: SPaT gives their live state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from codec.errors import CodecError
from codec.mapdata import lane_name
from proto import pb
from roadnet import LaneSpec, NetworkBuilder, RoadNetwork
from roadnet.frames import Frame
from roadnet.geometry import offset_right

F64 = npt.NDArray[np.float64]
STUB_M = 30.0
DEFAULT_WIDTH_M = 3.5
_TURN = {"s": 0.0, "l": math.pi / 2, "r": -math.pi / 2, "t": math.pi}


@dataclass(frozen=True)
class ImportedMap:
    """A network built from MAP messages.

    Attributes
    ----------
    network
        The road network, in a frame centred on the first MAP's reference point (unless given).
    lanes
        MAP lane id (also the ``to_lane`` of a connection into a made-up lane) -> roadnet lane id.
    signal_links
        ``(junction id, MAP signal group)`` -> link index within the controller named like the junction.
    """

    network: RoadNetwork
    lanes: dict[str, str]
    signal_links: dict[tuple[str, int], int]


@dataclass
class _Edge:
    id: str
    from_j: str
    to_j: str
    shape: F64 | None  # local (k, 2) left border; None until made up
    lanes: dict[int, pb.MapLane | None] = field(default_factory=dict)  # laneID -> lane (None: made up)

    def index(self, number: int) -> int:
        """Builder lane index (0 rightmost) of lane ``number`` (1 leftmost)."""
        order = sorted(self.lanes)
        return len(order) - 1 - order.index(number)


class _Plan:
    def __init__(self, maps: Sequence[pb.MapData], frame: Frame) -> None:
        self.frame = frame
        self.xy: dict[str, tuple[float, float]] = {}
        self.dead_ends: dict[str, tuple[float, float]] = {}
        self.edges: dict[str, _Edge] = {}
        self.where: dict[str, tuple[str, int]] = {}  # lane id -> (edge, laneID)
        for m in maps:
            x, y = frame.to_local(m.ref_lat_e7 * 1e-7, m.ref_lon_e7 * 1e-7)
            self.xy[m.junction_id] = (float(x), float(y))
        for m in maps:
            for lane in m.lanes:
                self._add_lane(m.junction_id, lane)

    def local(self, lane: pb.MapLane) -> F64:
        x, y = self.frame.to_local(np.asarray(lane.lat_e7) * 1e-7, np.asarray(lane.lon_e7) * 1e-7)
        return np.stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)], axis=1)

    def _end(self, jid: str, at: F64) -> str:
        if jid not in self.xy:
            self.dead_ends.setdefault(jid, (float(at[0]), float(at[1])))
        return jid

    def _add_lane(self, junction: str, lane: pb.MapLane) -> None:
        if len(lane.lat_e7) < 2 or len(lane.lat_e7) != len(lane.lon_e7):
            return  # a lane without a polyline cannot be placed
        pts = self.local(lane)
        name = lane_name(lane.lane_id)
        if name is not None and name.upstream is not None:  # CSAE: link upstream -> junction
            eid, number = f"{name.upstream}>{name.junction}", name.number
            ends = (self._end(name.upstream, pts[0]), name.junction)
        else:
            number = name.number if name is not None else 1
            kind = "in" if lane.ingress else "out"
            eid = f"{junction}.{kind}{number}" if name is not None else f"{junction}.{kind}:{lane.lane_id}"
            far = f"{eid}.end"
            ends = (self._end(far, pts[0]), junction) if lane.ingress else (junction, self._end(far, pts[-1]))
        edge = self.edges.setdefault(eid, _Edge(eid, ends[0], ends[1], None))
        edge.lanes[number] = lane
        self.where[lane.lane_id] = (eid, number)

    def node_xy(self, jid: str) -> tuple[float, float] | None:
        return self.xy.get(jid) or self.dead_ends.get(jid)

    def shape(self, e: _Edge) -> F64:
        """The edge's left border, from its leftmost described lane, reaching both junction points."""
        if e.shape is not None:
            return e.shape
        leftmost = next(ln for n, ln in sorted(e.lanes.items()) if ln is not None)
        line = offset_right(self.local(leftmost), -leftmost.width_cm / 200.0 if leftmost.width_cm else 0.0)
        a, b = self.node_xy(e.from_j), self.node_xy(e.to_j)
        if a is not None and e.from_j in self.xy and np.hypot(*(line[0] - a)) > 0.5:
            line = np.vstack([a, line])
        if b is not None and e.to_j in self.xy and np.hypot(*(line[-1] - b)) > 0.5:
            line = np.vstack([line, b])
        e.shape = line
        return line

    def target(self, junction: str, conn: pb.MapConnection, from_shape: F64) -> tuple[str, int]:
        """(edge id, laneID) a connection leads into, making the edge or lane when no MAP has it."""
        if conn.to_lane in self.where:
            return self.where[conn.to_lane]
        name = lane_name(conn.to_lane)
        # CSAE "{junction}:{remote}:{n}" and J2735 "{remote}:{n}" both parse to junction = remote
        remote = name.junction if name is not None and name.junction != junction else None
        number = max(name.number, 1) if name is not None else 1
        eid = f"{junction}>{remote}" if remote is not None else f"{junction}>{conn.to_lane}"
        edge = self.edges.get(eid)
        if edge is None:
            to_j = remote or f"{eid}.end"
            shape = self._made_up_shape(junction, to_j, conn, from_shape)
            if to_j not in self.xy:
                self.dead_ends.setdefault(to_j, (float(shape[-1][0]), float(shape[-1][1])))
            edge = self.edges[eid] = _Edge(eid, junction, to_j, shape)
        edge.lanes.setdefault(number, None)
        self.where[conn.to_lane] = (eid, number)
        return eid, number

    def _made_up_shape(self, junction: str, to_j: str, conn: pb.MapConnection, from_shape: F64) -> F64:
        back = self.edges.get(f"{to_j}>{junction}")
        if back is not None and any(ln is not None for ln in back.lanes.values()):
            return self.shape(back)[::-1].copy()  # the other direction of a two-way road
        start = np.asarray(self.xy[junction], dtype=np.float64)
        end_xy = self.node_xy(to_j)
        if end_xy is not None:
            return np.array([start, end_xy], dtype=np.float64)
        d = from_shape[-1] - from_shape[-2]
        ang = math.atan2(d[1], d[0]) + _TURN.get(conn.maneuver, 0.0)
        return np.array([start, start + STUB_M * np.array([math.cos(ang), math.sin(ang)])])


def build_network(maps: Sequence[pb.MapData], *, frame: Frame | None = None, source: str = "v2x MAP") -> ImportedMap:
    """Build a road network from the MAP of one or more intersections.

    Parameters
    ----------
    maps
        Intersections as :func:`codec.mapdata.maps_from` gives them.
    frame
        Local frame; default: centred on the first MAP's reference point.
    source
        Name of the network (in its errors and ``RoadNetwork.source``).

    Raises
    ------
    CodecError
        When ``maps`` is empty or a connection starts from a lane no MAP places.
    """
    if not maps:
        raise CodecError("build_network: no MAP given", reason="wrong_type")
    frame = frame or Frame.around(maps[0].ref_lat_e7 * 1e-7, maps[0].ref_lon_e7 * 1e-7)
    plan = _Plan(maps, frame)
    conns: list[tuple[str, pb.MapConnection, tuple[str, int], tuple[str, int]]] = []
    for m in maps:
        for c in m.connections:
            if c.from_lane not in plan.where:
                raise CodecError(
                    f"MapData {m.junction_id}: connection from {c.from_lane!r}, a lane without a polyline",
                    reason="out_of_range",
                    field="from_lane",
                )
            src = plan.where[c.from_lane]
            conns.append((m.junction_id, c, src, plan.target(m.junction_id, c, plan.shape(plan.edges[src[0]]))))
    groups = {j: sorted({c.group_id for jj, c, _, _ in conns if jj == j and c.group_id}) for j in plan.xy}
    signal_links = {(j, g): k for j, gs in groups.items() for k, g in enumerate(gs)}

    b = NetworkBuilder(frame=frame, source=source)
    for j, (x, y) in plan.xy.items():
        b.add_junction(j, x, y, "traffic_light" if groups[j] else "priority")
    for j, (x, y) in plan.dead_ends.items():
        b.add_junction(j, x, y, "dead_end")
    for j, gs in groups.items():
        if gs:
            b.add_tls(j, [j])
    lanes: dict[str, str] = {}
    for e in plan.edges.values():
        made = [ln for ln in e.lanes.values() if ln is not None]
        back = plan.edges.get(f"{e.to_j}>{e.from_j}")
        like = made or ([ln for ln in back.lanes.values() if ln is not None] if back is not None else [])
        width = float(np.mean([ln.width_cm for ln in like])) / 100.0 if like else DEFAULT_WIDTH_M
        specs = []
        for n in sorted(e.lanes, reverse=True):  # rightmost (highest laneID) first
            ln = e.lanes[n]
            if ln is None:
                specs.append(LaneSpec(width=width or DEFAULT_WIDTH_M))
            else:
                specs.append(
                    LaneSpec(
                        width=ln.width_cm / 100.0 or DEFAULT_WIDTH_M,
                        speed=ln.speed_limit_002 * 0.02 or None,
                        allow=ln.allowed_classes,
                    )
                )
        b.add_edge(e.id, e.from_j, e.to_j, specs, shape=plan.shape(e) if made else e.shape)
    for lane_id, (eid, number) in plan.where.items():
        lanes[lane_id] = f"{eid}_{plan.edges[eid].index(number)}"
    for j, c, (fe, fn), (te, tn) in conns:
        signal = c.group_id != 0 and bool(groups[j])
        b.add_connection(
            fe,
            plan.edges[fe].index(fn),
            te,
            plan.edges[te].index(tn),
            direction=c.maneuver or None,
            tls=j if signal else None,
            link=signal_links[(j, c.group_id)] if signal else -1,
        )
    return ImportedMap(b.build(), lanes, signal_links)
