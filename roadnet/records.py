"""Loader-side records of a network and their assembly into a :class:`RoadNetwork`.

Loaders (SUMO, the builder behind the generators, MAP messages) describe elements by id with
these small records; :func:`assemble` resolves ids to indices once, checks every reference and
builds the flat arrays. Records exist only while loading, never in a hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from roadnet.errors import MapError
from roadnet.model import EDGE_FUNCTIONS, RoadNetwork

F64 = npt.NDArray[np.float64]


@dataclass
class JunctionRec:
    id: str
    type: str
    x: float
    y: float
    shape: F64 = field(default_factory=lambda: np.zeros((0, 2)))
    foes: npt.NDArray[np.bool_] | None = None  # (n, n) request table, None when unknown
    response: npt.NDArray[np.bool_] | None = None


@dataclass
class LaneRec:
    id: str
    index: int
    length: float
    width: float
    speed: float
    allow: int
    shape: F64


@dataclass
class EdgeRec:
    id: str
    from_j: str | None
    to_j: str | None
    function: str = "normal"
    priority: int = 0
    name: str = ""
    lanes: list[LaneRec] = field(default_factory=list)


@dataclass
class ConnRec:
    from_lane: str
    to_lane: str
    via: list[str]
    dir: str
    state: str
    junction: str
    request: int = -1
    tls: str | None = None
    link: int = -1
    where: str = ""  # for error messages: "<connection from=.. to=..>"


@dataclass
class PhaseRec:
    duration: float
    state: str
    min_dur: float
    max_dur: float
    name: str = ""


@dataclass
class ProgramRec:
    tls: str
    id: str
    type: str
    offset: float
    phases: list[PhaseRec]
    where: str = ""


@dataclass
class TlsRec:
    id: str
    junctions: list[str] = field(default_factory=list)
    n_links: int = 0


@dataclass
class DetectorRec:
    id: str
    kind: str
    lane: str
    pos: float
    length: float
    period: float
    where: str = ""


@dataclass
class StopRec:
    id: str
    name: str
    lane: str
    start: float
    end: float
    lines: str
    where: str = ""


@dataclass
class ParkingRec:
    id: str
    name: str
    lane: str
    start: float
    end: float
    capacity: int
    where: str = ""


@dataclass
class Records:
    """Everything a loader found, by id."""

    source: str
    proj: str
    offset: tuple[float, float]
    georeferenced: bool
    junctions: list[JunctionRec] = field(default_factory=list)
    edges: list[EdgeRec] = field(default_factory=list)
    conns: list[ConnRec] = field(default_factory=list)
    tls: dict[str, TlsRec] = field(default_factory=dict)
    programs: list[ProgramRec] = field(default_factory=list)
    detectors: list[DetectorRec] = field(default_factory=list)
    stops: list[StopRec] = field(default_factory=list)
    parkings: list[ParkingRec] = field(default_factory=list)


def _ragged(parts: list[F64], width: int = 2) -> tuple[F64, npt.NDArray[np.int64]]:
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    if parts:
        offsets[1:] = np.cumsum([len(p) for p in parts])
        flat = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, width) for p in parts])
    else:
        flat = np.zeros((0, width), dtype=np.float64)
    return flat, offsets


def signal_groups(states: list[str], n_links: int) -> npt.NDArray[np.int64]:
    """Signal group (1-based) per link: links whose state is the same in every phase share one.

    Parameters
    ----------
    states
        Every phase state of every program of one controller.
    n_links
        K, the controller's number of links.
    """
    if n_links == 0:
        return np.zeros(0, dtype=np.int64)
    rows = [s for s in states if len(s) == n_links]
    if not rows:
        return np.arange(1, n_links + 1, dtype=np.int64)
    mat = np.array([list(s) for s in rows], dtype="<U1").T  # (K, H)
    _, first, inverse = np.unique(mat, axis=0, return_index=True, return_inverse=True)
    # number groups in order of first appearance
    order = np.argsort(np.argsort(first))
    return (order[inverse.ravel()] + 1).astype(np.int64)


def assemble(rec: Records) -> RoadNetwork:
    """Resolve ids to indices and build the flat arrays.

    Raises
    ------
    MapError
        Listing every reference to an unknown element (lane, edge, junction, controller) and every
        duplicate id, each naming the offending element.
    """
    problems: list[str] = []
    net = RoadNetwork(proj=rec.proj, offset=rec.offset, georeferenced=rec.georeferenced, source=rec.source)

    # junctions
    jid = {j.id: i for i, j in enumerate(rec.junctions)}
    if len(jid) != len(rec.junctions):
        problems.append("duplicate junction ids")
    net.junction_ids = [j.id for j in rec.junctions]
    net.junction_type = [j.type for j in rec.junctions]
    net.junction_xy = np.array([[j.x, j.y] for j in rec.junctions], dtype=np.float64).reshape(-1, 2)
    net.junction_shape_xy, net.junction_shape_offsets = _ragged([j.shape for j in rec.junctions])
    n_req = [0 if j.foes is None else j.foes.shape[0] for j in rec.junctions]
    net.junction_n_requests = np.array(n_req, dtype=np.int64)
    net.junction_mat_offsets = np.zeros(len(n_req) + 1, dtype=np.int64)
    net.junction_mat_offsets[1:] = np.cumsum(np.array(n_req, dtype=np.int64) ** 2)
    foes = [j.foes.ravel() for j in rec.junctions if j.foes is not None]
    resp = [j.response.ravel() for j in rec.junctions if j.response is not None]
    net.junction_foes = np.concatenate(foes) if foes else np.zeros(0, dtype=np.bool_)
    net.junction_response = np.concatenate(resp) if resp else np.zeros(0, dtype=np.bool_)

    # edges and lanes (lanes sorted by edge, then index)
    eid: dict[str, int] = {}
    lanes: list[LaneRec] = []
    lane_edge: list[int] = []
    net.edge_lane_offsets = np.zeros(len(rec.edges) + 1, dtype=np.int64)
    e_from, e_to, e_fun, e_prio = [], [], [], []
    for e_i, e in enumerate(rec.edges):
        if e.id in eid:
            problems.append(f"edge {e.id!r} defined twice")
        eid[e.id] = e_i
        for name, ref in (("from", e.from_j), ("to", e.to_j)):
            if ref is not None and ref not in jid and e.function == "normal":
                problems.append(f"edge {e.id!r}: {name} junction {ref!r} does not exist")
        e_from.append(jid.get(e.from_j, -1) if e.from_j is not None else -1)
        e_to.append(jid.get(e.to_j, -1) if e.to_j is not None else -1)
        if e.function not in EDGE_FUNCTIONS:
            problems.append(f"edge {e.id!r}: unknown function {e.function!r}")
        e_fun.append(EDGE_FUNCTIONS.index(e.function) if e.function in EDGE_FUNCTIONS else 0)
        e_prio.append(e.priority)
        for ln in sorted(e.lanes, key=lambda x: x.index):
            lanes.append(ln)
            lane_edge.append(e_i)
        net.edge_lane_offsets[e_i + 1] = len(lanes)
    net.edge_ids = [e.id for e in rec.edges]
    net.edge_from = np.array(e_from, dtype=np.int64)
    net.edge_to = np.array(e_to, dtype=np.int64)
    net.edge_function = np.array(e_fun, dtype=np.uint8)
    net.edge_priority = np.array(e_prio, dtype=np.int64)
    net.edge_name = [e.name for e in rec.edges]

    lid: dict[str, int] = {}
    for i, ln in enumerate(lanes):
        if ln.id in lid:
            problems.append(f"lane {ln.id!r} defined twice")
        lid[ln.id] = i
    net.lane_ids = [ln.id for ln in lanes]
    net.lane_edge = np.array(lane_edge, dtype=np.int64)
    net.lane_index = np.array([ln.index for ln in lanes], dtype=np.int64)
    net.lane_length = np.array([ln.length for ln in lanes], dtype=np.float64)
    net.lane_width = np.array([ln.width for ln in lanes], dtype=np.float64)
    net.lane_speed = np.array([ln.speed for ln in lanes], dtype=np.float64)
    net.lane_allow = np.array([ln.allow for ln in lanes], dtype=np.uint16)
    net.lane_shape_xy, net.lane_shape_offsets = _ragged([ln.shape for ln in lanes])
    for ln in lanes:
        if len(ln.shape) < 2:
            problems.append(f"lane {ln.id!r}: shape has {len(ln.shape)} point(s), needs 2 or more")

    # signal controllers
    tls_list = list(rec.tls.values())
    tid = {t.id: i for i, t in enumerate(tls_list)}
    for t in tls_list:
        for j in t.junctions:
            if j not in jid:
                problems.append(f"signal controller {t.id!r}: junction {j!r} does not exist")

    # connections
    c_from, c_to, c_via, c_dir, c_state, c_j, c_req, c_tls, c_link = [], [], [], [], [], [], [], [], []
    for c in rec.conns:
        where = c.where or f"connection {c.from_lane}->{c.to_lane}"
        bad = False
        for name, ref in (("from lane", c.from_lane), ("to lane", c.to_lane)):
            if ref not in lid:
                problems.append(f"{where}: {name} {ref!r} does not exist")
                bad = True
        vias = []
        for v in c.via:
            if v not in lid:
                problems.append(f"{where}: via lane {v!r} does not exist")
                bad = True
            else:
                vias.append(lid[v])
        if c.tls is not None and c.tls not in tid:
            problems.append(f"{where}: signal controller {c.tls!r} does not exist")
            bad = True
        if c.junction not in jid:
            problems.append(f"{where}: junction {c.junction!r} does not exist")
            bad = True
        if bad:
            continue
        c_from.append(lid[c.from_lane])
        c_to.append(lid[c.to_lane])
        c_via.append(np.array(vias, dtype=np.float64))
        c_dir.append(c.dir)
        c_state.append(c.state)
        c_j.append(jid[c.junction])
        c_req.append(c.request)
        c_tls.append(tid[c.tls] if c.tls is not None else -1)
        c_link.append(c.link if c.tls is not None else -1)
    net.conn_from_lane = np.array(c_from, dtype=np.int64)
    net.conn_to_lane = np.array(c_to, dtype=np.int64)
    via_flat, net.conn_via_offsets = _ragged(c_via, width=1)
    net.conn_via_lanes = via_flat.ravel().astype(np.int64)
    net.conn_dir = c_dir
    net.conn_state = c_state
    net.conn_junction = np.array(c_j, dtype=np.int64)
    net.conn_request = np.array(c_req, dtype=np.int64)
    net.conn_tls = np.array(c_tls, dtype=np.int64)
    net.conn_link = np.array(c_link, dtype=np.int64)

    # controllers' links: the number of links is the largest link index + 1 (or the programs' length)
    n_links = np.zeros(len(tls_list), dtype=np.int64)
    for t_i, t in enumerate(tls_list):
        used = net.conn_link[net.conn_tls == t_i]
        n_links[t_i] = max(t.n_links, int(used.max()) + 1 if len(used) else 0)
    # programs
    progs = [p for p in rec.programs if p.tls in tid]
    for p in rec.programs:
        if p.tls not in tid:
            problems.append(f"{p.where or 'program'} {p.id!r}: signal controller {p.tls!r} does not exist")
    net.tls_ids = [t.id for t in tls_list]
    tj = [np.array([jid[j] for j in t.junctions if j in jid], dtype=np.float64) for t in tls_list]
    tjf, net.tls_junction_offsets = _ragged(tj, width=1)
    net.tls_junctions = tjf.ravel().astype(np.int64)
    net.tls_n_links = n_links
    net.program_tls = np.array([tid[p.tls] for p in progs], dtype=np.int64)
    net.program_ids = [p.id for p in progs]
    net.program_type = [p.type for p in progs]
    net.program_offset = np.array([p.offset for p in progs], dtype=np.float64)
    net.program_phase_offsets = np.zeros(len(progs) + 1, dtype=np.int64)
    net.program_phase_offsets[1:] = np.cumsum([len(p.phases) for p in progs]) if progs else []
    phases = [ph for p in progs for ph in p.phases]
    net.phase_duration = np.array([ph.duration for ph in phases], dtype=np.float64)
    net.phase_min = np.array([ph.min_dur for ph in phases], dtype=np.float64)
    net.phase_max = np.array([ph.max_dur for ph in phases], dtype=np.float64)
    net.phase_state = [ph.state for ph in phases]
    net.phase_name = [ph.name for ph in phases]
    # the last program loaded for a controller is the active one (as in SUMO)
    active = np.full(len(tls_list), -1, dtype=np.int64)
    for p_i, p in enumerate(progs):
        active[tid[p.tls]] = p_i
    net.tls_active_program = active
    groups = []
    for t_i, t in enumerate(tls_list):
        states = [ph.state for p in progs if p.tls == t.id for ph in p.phases]
        groups.append(signal_groups(states, int(n_links[t_i])).astype(np.float64))
    gflat, net.tls_link_offsets = _ragged(groups, width=1)
    net.link_group = gflat.ravel().astype(np.int64)

    # detectors, stops, parking
    def lane_ref(kind: str, item_id: str, lane: str, where: str) -> int:
        if lane not in lid:
            problems.append(f"{where or kind} {item_id!r}: lane {lane!r} does not exist")
            return -1
        return lid[lane]

    net.detector_ids = [d.id for d in rec.detectors]
    net.detector_kind = [d.kind for d in rec.detectors]
    net.detector_lane = np.array([lane_ref("detector", d.id, d.lane, d.where) for d in rec.detectors], dtype=np.int64)
    net.detector_pos = np.array([d.pos for d in rec.detectors], dtype=np.float64)
    net.detector_length = np.array([d.length for d in rec.detectors], dtype=np.float64)
    net.detector_period = np.array([d.period for d in rec.detectors], dtype=np.float64)
    net.stop_ids = [s.id for s in rec.stops]
    net.stop_name = [s.name for s in rec.stops]
    net.stop_lane = np.array([lane_ref("bus stop", s.id, s.lane, s.where) for s in rec.stops], dtype=np.int64)
    net.stop_start = np.array([s.start for s in rec.stops], dtype=np.float64)
    net.stop_end = np.array([s.end for s in rec.stops], dtype=np.float64)
    net.stop_lines = [s.lines for s in rec.stops]
    net.parking_ids = [a.id for a in rec.parkings]
    net.parking_name = [a.name for a in rec.parkings]
    net.parking_lane = np.array([lane_ref("parking area", a.id, a.lane, a.where) for a in rec.parkings], dtype=np.int64)
    net.parking_start = np.array([a.start for a in rec.parkings], dtype=np.float64)
    net.parking_end = np.array([a.end for a in rec.parkings], dtype=np.float64)
    net.parking_capacity = np.array([a.capacity for a in rec.parkings], dtype=np.int64)

    # positions: NaN = the lane end, negative = back from the lane end (as in SUMO)
    for pos, lane in (
        (net.detector_pos, net.detector_lane),
        (net.stop_start, net.stop_lane),
        (net.stop_end, net.stop_lane),
        (net.parking_start, net.parking_lane),
        (net.parking_end, net.parking_lane),
    ):
        ok = lane >= 0
        length = np.where(ok, net.lane_length[np.where(ok, lane, 0)] if len(net.lane_length) else 0.0, 0.0)
        pos[:] = np.where(np.isnan(pos), length, np.where(pos < 0, length + pos, pos))

    if problems:
        raise MapError(rec.source, problems)
    return net
