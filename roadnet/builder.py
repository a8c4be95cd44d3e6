"""Build a :class:`RoadNetwork` from junctions, edges and movements, with geometry derived.

Used by the generators (grid, corridor) and by importers of other formats (a V2X MAP message).
What SUMO computes when it writes a network, :meth:`NetworkBuilder.build` derives here:

- lane polylines offset to the right of the edge's centre line (lane 0 rightmost) and trimmed
  back from each junction by its radius, so the junction area holds the internal lanes;
- one internal lane per movement (a cubic curve from the incoming lane's end to the outgoing
  lane's start), with a turn speed from a lateral-acceleration limit;
- the conflict relation between movements from geometry: two movements conflict when their
  paths cross or they merge into one lane; the one with the lower rank gives way
  (through > right > left > U-turn; a lower-priority road gives way to a higher one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely

from roadnet import classes, geometry
from roadnet.errors import MapError
from roadnet.frames import DEFAULT_ORIGIN, Frame, tmerc_proj
from roadnet.model import RoadNetwork
from roadnet.records import (
    ConnRec,
    DetectorRec,
    EdgeRec,
    JunctionRec,
    LaneRec,
    ParkingRec,
    PhaseRec,
    ProgramRec,
    Records,
    StopRec,
    TlsRec,
    assemble,
)

F64 = npt.NDArray[np.float64]

#: lateral acceleration limit for turn speeds (SUMO's limitTurnSpeed), m/s^2
TURN_ACCEL = 5.5
DIR_RANK = {"s": 3, "r": 2, "R": 2, "l": 1, "L": 1, "t": 0}


@dataclass
class LaneSpec:
    """One lane of an edge being built (index = position in the list, 0 rightmost)."""

    width: float = 3.2
    speed: float | None = None  # m/s; None: the edge's speed
    allow: int = classes.VEHICLES


@dataclass
class _Edge:
    id: str
    from_j: str
    to_j: str
    lanes: list[LaneSpec]
    speed: float
    priority: int
    name: str
    centre: F64
    function: str = "normal"


@dataclass
class _Move:
    from_edge: str
    from_lane: int
    to_edge: str
    to_lane: int
    dir: str | None
    tls: str | None
    link: int


@dataclass
class _Tls:
    id: str
    junctions: list[str]
    programs: list[ProgramRec] = field(default_factory=list)


class NetworkBuilder:
    """Collects junctions, edges, movements and signals; :meth:`build` makes the network.

    Parameters
    ----------
    frame
        The frame to place the network in; default: centred on ``origin``.
    origin
        (lat, lon) of local (0, 0) when no frame is given.
    source
        A name for error messages and the network's ``source``.
    """

    def __init__(
        self,
        *,
        frame: Frame | None = None,
        origin: tuple[float, float] = DEFAULT_ORIGIN,
        source: str = "generated",
    ) -> None:
        self.frame = frame or Frame(tmerc_proj(*origin))
        self.source = source
        self._junctions: dict[str, JunctionRec] = {}
        self._edges: dict[str, _Edge] = {}
        self._moves: list[_Move] = []
        self._tls: dict[str, _Tls] = {}
        self._stops: list[StopRec] = []
        self._parkings: list[ParkingRec] = []
        self._detectors: list[DetectorRec] = []

    # ------------------------------------------------------------------ elements
    def add_junction(self, jid: str, x: float, y: float, kind: str = "priority") -> str:
        """Add a junction at (x, y) metres; kind as in SUMO (traffic_light, priority, dead_end)."""
        if jid in self._junctions:
            raise MapError(self.source, f"junction {jid!r} added twice")
        self._junctions[jid] = JunctionRec(id=jid, type=kind, x=float(x), y=float(y))
        return jid

    def add_edge(
        self,
        eid: str,
        from_j: str,
        to_j: str,
        lanes: int | list[LaneSpec] = 1,
        *,
        speed: float = 13.89,
        priority: int = 1,
        name: str = "",
        shape: F64 | None = None,
    ) -> str:
        """Add a one-way edge from junction to junction.

        Parameters
        ----------
        lanes
            A number of default lanes or one :class:`LaneSpec` per lane (rightmost first).
        shape
            (k, 2) centre line including both end points; default the straight line.
        """
        for j in (from_j, to_j):
            if j not in self._junctions:
                raise MapError(self.source, f"edge {eid!r}: junction {j!r} does not exist")
        if eid in self._edges:
            raise MapError(self.source, f"edge {eid!r} added twice")
        specs = [LaneSpec() for _ in range(lanes)] if isinstance(lanes, int) else list(lanes)
        a, b = self._junctions[from_j], self._junctions[to_j]
        centre = np.array([[a.x, a.y], [b.x, b.y]]) if shape is None else np.asarray(shape, dtype=np.float64)
        self._edges[eid] = _Edge(eid, from_j, to_j, specs, speed, priority, name, centre)
        return eid

    def add_connection(
        self,
        from_edge: str,
        from_lane: int,
        to_edge: str,
        to_lane: int,
        *,
        direction: str | None = None,
        tls: str | None = None,
        link: int = -1,
    ) -> int:
        """Add a lane-to-lane movement; returns its index among all movements.

        ``direction`` (s, l, r, t) is derived from the geometry when not given; ``tls`` and
        ``link`` put it under a signal controller (link index within that controller).
        """
        for e, ln in ((from_edge, from_lane), (to_edge, to_lane)):
            if e not in self._edges:
                raise MapError(
                    self.source,
                    f"connection {from_edge}_{from_lane}->{to_edge}_{to_lane}: edge {e!r} does not exist",
                )
            if not 0 <= ln < len(self._edges[e].lanes):
                raise MapError(
                    self.source,
                    f"connection {from_edge}_{from_lane}->{to_edge}_{to_lane}: lane {e}_{ln} does not exist",
                )
        if self._edges[from_edge].to_j != self._edges[to_edge].from_j:
            raise MapError(self.source, f"connection {from_edge}->{to_edge}: the edges do not meet at a junction")
        self._moves.append(_Move(from_edge, from_lane, to_edge, to_lane, direction, tls, link))
        return len(self._moves) - 1

    def add_tls(self, tid: str, junctions: list[str]) -> str:
        """Add a signal controller for one or more junctions (programs via :meth:`add_program`)."""
        for j in junctions:
            if j not in self._junctions:
                raise MapError(self.source, f"signal controller {tid!r}: junction {j!r} does not exist")
        self._tls[tid] = _Tls(tid, list(junctions))
        return tid

    def add_program(
        self,
        tls: str,
        program_id: str,
        phases: list[tuple[float, str] | tuple[float, str, float, float]],
        *,
        kind: str = "static",
        offset: float = 0.0,
    ) -> None:
        """Add a signal program: phases as (duration, state) or (duration, state, min, max)."""
        if tls not in self._tls:
            raise MapError(self.source, f"program {program_id!r}: signal controller {tls!r} does not exist")
        recs = []
        for ph in phases:
            dur, state = float(ph[0]), str(ph[1])
            mn = float(ph[2]) if len(ph) > 2 else dur
            mx = float(ph[3]) if len(ph) > 3 else dur
            recs.append(PhaseRec(dur, state, mn, mx))
        self._tls[tls].programs.append(ProgramRec(tls, program_id, kind, offset, recs))

    def add_bus_stop(self, sid: str, lane: str, start: float, end: float, *, name: str = "", lines: str = "") -> None:
        """A bus stop on ``lane`` from ``start`` to ``end`` metres (negative: back from the lane end)."""
        self._stops.append(StopRec(sid, name, lane, start, end, lines))

    def add_parking(self, pid: str, lane: str, start: float, end: float, capacity: int, *, name: str = "") -> None:
        """A roadside parking area on ``lane`` with ``capacity`` spaces."""
        self._parkings.append(ParkingRec(pid, name, lane, start, end, capacity))

    def add_detector(
        self, did: str, lane: str, pos: float, *, kind: str = "e1", length: float = 0.0, period: float = 60.0
    ) -> None:
        """A detector on ``lane`` at ``pos`` metres (negative: back from the lane end)."""
        self._detectors.append(DetectorRec(did, kind, lane, pos, length, period))

    def junction_xy(self, jid: str) -> tuple[float, float]:
        """(x, y) of a junction added before."""
        j = self._junctions[jid]
        return (j.x, j.y)

    def moves_at(self, junction: str) -> list[int]:
        """Indices of the movements through ``junction``, in the order added."""
        return [i for i, m in enumerate(self._moves) if self._edges[m.from_edge].to_j == junction]

    def move_dir(self, i: int) -> str:
        """Direction of movement ``i`` (given, or from the centre lines' angle)."""
        m = self._moves[i]
        return m.dir if m.dir is not None else self.direction(m.from_edge, m.to_edge)

    def direction(self, from_edge: str, to_edge: str) -> str:
        """s, l, r or t for driving from one edge onto the next, from the centre lines' angle."""
        a = self._edges[from_edge].centre
        b = self._edges[to_edge].centre
        d0 = (a[-1] - a[-2]) / max(float(np.hypot(*(a[-1] - a[-2]))), 1e-9)
        d1 = (b[1] - b[0]) / max(float(np.hypot(*(b[1] - b[0]))), 1e-9)
        ang = np.degrees(geometry.turn_angle(d0, d1))
        if abs(ang) < 30:
            return "s"
        if abs(ang) > 150:
            return "t"
        return "l" if ang > 0 else "r"

    # ------------------------------------------------------------------ build
    def _radius(self) -> dict[str, float]:
        r: dict[str, float] = {}
        deg: dict[str, int] = {}
        for e in self._edges.values():
            w = sum(ln.width for ln in e.lanes)
            for j in (e.from_j, e.to_j):
                r[j] = max(r.get(j, 0.0), w)
                deg[j] = deg.get(j, 0) + 1
        # a junction where roads meet keeps a box for its internal lanes; an open end none
        return {j: (r[j] + 1.5 if deg[j] > 2 or self._junctions[j].type != "dead_end" else 0.0) for j in r}

    def build(self) -> RoadNetwork:
        """Derive geometry, internal lanes and conflicts and assemble the network.

        Raises
        ------
        MapError
            On inconsistent input (a program whose state length differs from its links, ...).
        """
        radius = self._radius()
        rec = Records(source=self.source, proj=self.frame.proj, offset=self.frame.offset, georeferenced=True)
        lane_shape: dict[str, F64] = {}
        for e in self._edges.values():
            er = EdgeRec(e.id, e.from_j, e.to_j, "normal", e.priority, e.name)
            k = len(e.lanes)
            offs = np.cumsum([0.0] + [ln.width for ln in e.lanes[::-1]])  # from the left border
            for i, spec in enumerate(e.lanes):
                left = k - 1 - i
                d = float(offs[left] + spec.width / 2)
                shp = geometry.trim(
                    geometry.offset_right(e.centre, d), radius.get(e.from_j, 0.0), radius.get(e.to_j, 0.0)
                )
                lid = f"{e.id}_{i}"
                lane_shape[lid] = shp
                er.lanes.append(
                    LaneRec(lid, i, geometry.length(shp), spec.width, spec.speed or e.speed, spec.allow, shp)
                )
            rec.edges.append(er)

        # internal lanes, one per movement
        paths: list[F64] = []
        internal_edges: list[EdgeRec] = []
        for i, m in enumerate(self._moves):
            fe, te = self._edges[m.from_edge], self._edges[m.to_edge]
            a = lane_shape[f"{fe.id}_{m.from_lane}"]
            b = lane_shape[f"{te.id}_{m.to_lane}"]
            d0 = (a[-1] - a[-2]) / max(float(np.hypot(*(a[-1] - a[-2]))), 1e-9)
            d1 = (b[1] - b[0]) / max(float(np.hypot(*(b[1] - b[0]))), 1e-9)
            path = geometry.bezier(a[-1], d0, b[0], d1)
            paths.append(path)
            ang = abs(geometry.turn_angle(d0, d1))
            plen = max(geometry.length(path), 0.1)
            v = min(fe.speed, te.speed)
            if ang > np.radians(15):
                r_turn = plen / ang
                v = min(v, float(np.sqrt(TURN_ACCEL * r_turn)))
            iid = f":{fe.to_j}_{i}"
            spec = fe.lanes[m.from_lane]
            allow = spec.allow & te.lanes[m.to_lane].allow
            internal_edges.append(
                EdgeRec(
                    iid,
                    None,
                    None,
                    "internal",
                    0,
                    "",
                    [LaneRec(f"{iid}_0", 0, plen, spec.width, v, allow, path)],
                )
            )
        rec.edges.extend(internal_edges)

        # request tables per junction from geometry
        dirs = [self.move_dir(i) for i in range(len(self._moves))]
        request = [-1] * len(self._moves)
        for jid, jr in self._junctions.items():
            idx = self.moves_at(jid)
            n = len(idx)
            foes = np.zeros((n, n), dtype=np.bool_)
            resp = np.zeros((n, n), dtype=np.bool_)
            lines = [shapely.LineString(paths[i]) for i in idx]
            for ia in range(n):
                request[idx[ia]] = ia
                ma = self._moves[idx[ia]]
                for ib in range(ia + 1, n):
                    mb = self._moves[idx[ib]]
                    if ma.from_edge == mb.from_edge and ma.from_lane == mb.from_lane:
                        continue
                    merge = ma.to_edge == mb.to_edge and ma.to_lane == mb.to_lane
                    if ma.from_edge == mb.from_edge and not merge:
                        continue
                    cross = bool(shapely.intersects(lines[ia], lines[ib]))
                    if not (merge or cross):
                        continue
                    foes[ia, ib] = foes[ib, ia] = True
                    pa = self._edges[ma.from_edge].priority
                    pb = self._edges[mb.from_edge].priority
                    ra, rb = DIR_RANK.get(dirs[idx[ia]], 1), DIR_RANK.get(dirs[idx[ib]], 1)
                    if jr.type != "traffic_light" and pa != pb:
                        resp[ia, ib], resp[ib, ia] = pa < pb, pb < pa
                    elif ra != rb:
                        resp[ia, ib], resp[ib, ia] = ra < rb, rb < ra
            jr.foes, jr.response = foes, resp
            jr.shape = self._junction_shape(jr, radius.get(jid, 0.0))
        rec.junctions = list(self._junctions.values())

        for i, m in enumerate(self._moves):
            fe = self._edges[m.from_edge]
            jr = self._junctions[fe.to_j]
            req = request[i]
            assert jr.response is not None
            state = "O" if m.tls else ("m" if jr.response[req].any() else "M")
            rec.conns.append(
                ConnRec(
                    from_lane=f"{m.from_edge}_{m.from_lane}",
                    to_lane=f"{m.to_edge}_{m.to_lane}",
                    via=[f":{fe.to_j}_{i}_0"],
                    dir=dirs[i],
                    state=state,
                    junction=fe.to_j,
                    request=req,
                    tls=m.tls,
                    link=m.link,
                )
            )
        for t in self._tls.values():
            n_links = max([m.link + 1 for m in self._moves if m.tls == t.id] or [0])
            rec.tls[t.id] = TlsRec(t.id, t.junctions, n_links)
            for p in t.programs:
                for h, ph in enumerate(p.phases):
                    if len(ph.state) != n_links:
                        raise MapError(
                            self.source,
                            f"signal controller {t.id!r} program {p.id!r} phase {h}: state has {len(ph.state)} "
                            f"characters, the controller has {n_links} links",
                        )
                rec.programs.append(p)
        rec.stops, rec.parkings, rec.detectors = self._stops, self._parkings, self._detectors
        return assemble(rec)

    @staticmethod
    def _junction_shape(jr: JunctionRec, r: float) -> F64:
        if r <= 0:
            return np.zeros((0, 2))
        ang = np.linspace(0, 2 * np.pi, 13)[:-1]
        return np.stack([jr.x + r * np.cos(ang), jr.y + r * np.sin(ang)], axis=1)
