"""SUMO network and additional-file import.

Reads ``.net.xml`` (edges, lanes, junctions with their request/foes tables, connections,
traffic-light programs, location) and additional files (``tlLogic`` programs, bus stops,
parking areas, e1/e2/e3 detectors). Programs loaded later replace the active program of their
controller, as in SUMO. Other elements (vehicle types, routes) are ignored.

Every problem raises :class:`~roadnet.errors.MapError` naming the file and the element.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from roadnet import classes
from roadnet.errors import MapError
from roadnet.frames import DEFAULT_ORIGIN, tmerc_proj
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

DEFAULT_LANE_WIDTH = 3.2


def _parse(path: Path, expected: Iterable[str]) -> ET.Element:
    if not path.exists():
        raise MapError(str(path), "file not found")
    if path.is_dir():
        raise MapError(str(path), "is a directory, expected a SUMO XML file")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        raise MapError(str(path), f"malformed XML at line {line}, column {col}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise MapError(str(path), f"not a text XML file ({exc.reason})") from None
    exp = list(expected)
    if root.tag not in exp:
        want = " or ".join(f"<{e}>" for e in exp)
        raise MapError(str(path), f"not a SUMO file: root element is <{root.tag}>, expected {want}")
    return root


def _shape(text: str | None, where: str, src: str) -> F64:
    if not text:
        return np.zeros((0, 2))
    try:
        pts = [tuple(float(v) for v in p.split(",")[:2]) for p in text.split()]
        return np.array(pts, dtype=np.float64).reshape(-1, 2)
    except ValueError:
        raise MapError(src, f"{where}: shape {text[:40]!r} is not a list of x,y points") from None


def _float(el: ET.Element, name: str, src: str, default: float | None = None) -> float:
    v = el.get(name)
    if v is None:
        if default is None:
            raise MapError(src, f"<{el.tag} id={el.get('id')!r}>: missing attribute {name!r}")
        return default
    try:
        return float(v)
    except ValueError:
        raise MapError(src, f"<{el.tag} id={el.get('id')!r}>: attribute {name}={v!r} is not a number") from None


def _bits(s: str) -> npt.NDArray[np.bool_]:
    # SUMO request bit strings: the rightmost character refers to link 0
    return np.array([c == "1" for c in reversed(s)], dtype=np.bool_)


def _program(el: ET.Element, src: str) -> ProgramRec:
    tid = el.get("id", "")
    phases = []
    for ph in el.iter("phase"):
        dur = _float(ph, "duration", src)
        phases.append(
            PhaseRec(
                duration=dur,
                state=ph.get("state", ""),
                min_dur=_float(ph, "minDur", src, dur),
                max_dur=_float(ph, "maxDur", src, dur),
                name=ph.get("name", ""),
            )
        )
    return ProgramRec(
        tls=tid,
        id=el.get("programID", "0"),
        type=el.get("type", "static"),
        offset=_float(el, "offset", src, 0.0),
        phases=phases,
        where=f"{src}: <tlLogic id={tid!r} programID={el.get('programID')!r}>",
    )


def read_net(path: str | Path, origin: tuple[float, float] | None = None) -> Records:
    """Read a SUMO ``.net.xml`` into loader records.

    Parameters
    ----------
    path
        The network file.
    origin
        (lat, lon) to place a network that has no geo-reference (``projParameter="!"``); by
        default :data:`roadnet.frames.DEFAULT_ORIGIN`.
    """
    p = Path(path)
    src = str(p)
    root = _parse(p, ["net"])

    loc = root.find("location")
    proj, offset, georef = "", (0.0, 0.0), False
    if loc is not None:
        try:
            ox, oy = (float(v) for v in loc.get("netOffset", "0,0").split(","))
        except ValueError:
            raise MapError(src, f"<location netOffset={loc.get('netOffset')!r}> is not x,y") from None
        offset = (ox, oy)
        pp = loc.get("projParameter", "!")
        if pp and pp != "!":
            proj, georef = pp, True
    if not georef:
        lat, lon = origin or DEFAULT_ORIGIN
        proj, offset = tmerc_proj(lat, lon), (0.0, 0.0)

    rec = Records(source=src, proj=proj, offset=offset, georeferenced=georef)

    # edges and lanes
    edge_to: dict[str, str | None] = {}
    for e in root.iter("edge"):
        eid = e.get("id")
        if eid is None:
            raise MapError(src, "<edge> without id")
        fn = e.get("function", "normal")
        er = EdgeRec(
            id=eid,
            from_j=e.get("from"),
            to_j=e.get("to"),
            function=fn,
            priority=int(e.get("priority", "0") or 0),
            name=e.get("name", ""),
        )
        for ln in e.iter("lane"):
            lid = ln.get("id", "")
            where = f"<lane id={lid!r}>"
            er.lanes.append(
                LaneRec(
                    id=lid,
                    index=int(ln.get("index", "0")),
                    length=_float(ln, "length", src),
                    width=_float(ln, "width", src, DEFAULT_LANE_WIDTH),
                    speed=_float(ln, "speed", src),
                    allow=classes.from_sumo(ln.get("allow"), ln.get("disallow")),
                    shape=_shape(ln.get("shape"), where, src),
                )
            )
        rec.edges.append(er)
        edge_to[eid] = er.to_j

    # junctions (internal junctions are SUMO artefacts: kept out)
    int_pos: dict[str, dict[str, int]] = {}
    inc_lanes: dict[str, list[str]] = {}
    for j in root.iter("junction"):
        jid = j.get("id", "")
        jt = j.get("type", "")
        if jt == "internal":
            continue
        reqs = list(j.iter("request"))
        foes = resp = None
        if reqs:
            n = len(reqs)
            foes = np.zeros((n, n), dtype=np.bool_)
            resp = np.zeros((n, n), dtype=np.bool_)
            for r in reqs:
                i = int(r.get("index", "-1"))
                fb, rb = _bits(r.get("foes", "")), _bits(r.get("response", ""))
                if not 0 <= i < n or len(fb) != n or len(rb) != n:
                    raise MapError(
                        src, f"<junction id={jid!r}> <request index={i}>: bit strings do not match {n} links"
                    )
                foes[i], resp[i] = fb, rb
        rec.junctions.append(
            JunctionRec(
                id=jid,
                type=jt,
                x=_float(j, "x", src),
                y=_float(j, "y", src),
                shape=_shape(j.get("shape"), f"<junction id={jid!r}>", src),
                foes=foes,
                response=resp,
            )
        )
        int_pos[jid] = {v: k for k, v in enumerate(j.get("intLanes", "").split())}
        inc_lanes[jid] = j.get("incLanes", "").split()

    # connections: normal ones become movements; internal ones only chain via lanes
    nxt: dict[str, str] = {}  # internal lane -> the next internal lane of its chain
    normal: list[ET.Element] = []
    for c in root.iter("connection"):
        frm = c.get("from", "")
        if frm.startswith(":"):
            via = c.get("via")
            if via:
                nxt[f"{frm}_{c.get('fromLane', '0')}"] = via
        else:
            normal.append(c)
    order_in_junction: dict[str, list[int]] = {}
    for c in normal:
        frm, to = c.get("from", ""), c.get("to", "")
        fl, tl_ = c.get("fromLane", "0"), c.get("toLane", "0")
        junction = edge_to.get(frm) or ""
        via0 = c.get("via")
        chain: list[str] = []
        v = via0
        while v is not None and v not in chain:
            chain.append(v)
            v = nxt.get(v)
        request = -1
        pos = int_pos.get(junction, {})
        for v in chain:
            if v in pos:
                request = pos[v]
                break
        tl = c.get("tl")
        where = f"{src}: <connection from={frm!r} to={to!r} fromLane={fl} toLane={tl_}>"
        link = int(c.get("linkIndex", "-1")) if tl else -1
        rec.conns.append(
            ConnRec(
                from_lane=f"{frm}_{fl}",
                to_lane=f"{to}_{tl_}",
                via=chain,
                dir=c.get("dir", "s"),
                state=c.get("state", "M"),
                junction=junction,
                request=request,
                tls=tl,
                link=link,
                where=where,
            )
        )
        if not chain:
            order_in_junction.setdefault(junction, []).append(len(rec.conns) - 1)
        if tl:
            t = rec.tls.setdefault(tl, TlsRec(id=tl))
            if junction and junction not in t.junctions:
                t.junctions.append(junction)
    # networks without internal lanes: request index by incoming lane order, then file order
    for junction, idxs in order_in_junction.items():
        inc = {ln: k for k, ln in enumerate(inc_lanes.get(junction, []))}
        ranked = sorted(idxs, key=lambda i: (inc.get(rec.conns[i].from_lane, 10**9), i))
        jrec = next((j for j in rec.junctions if j.id == junction), None)
        n = 0 if jrec is None or jrec.foes is None else jrec.foes.shape[0]
        for k, i in enumerate(ranked):
            rec.conns[i].request = k if k < n else -1

    for tl_el in root.iter("tlLogic"):
        prog = _program(tl_el, src)
        rec.programs.append(prog)
        rec.tls.setdefault(prog.tls, TlsRec(id=prog.tls))
    for t in rec.tls.values():
        lens = [len(ph.state) for p in rec.programs if p.tls == t.id for ph in p.phases]
        t.n_links = max(lens) if lens else 0
    return rec


def read_additional(rec: Records, path: str | Path) -> None:
    """Add the network elements of one additional file to ``rec`` (in place)."""
    p = Path(path)
    src = str(p)
    root = _parse(p, ["additional", "add", "routes", "a"])
    for el in root:
        tag = el.tag
        eid = el.get("id", "")
        where = f"{src}: <{tag} id={eid!r}>"
        if tag == "tlLogic":
            prog = _program(el, src)
            rec.programs.append(prog)
            if prog.tls not in rec.tls:
                raise MapError(src, f"<tlLogic id={prog.tls!r}>: no signal controller with this id in the network")
        elif tag in ("busStop", "trainStop"):
            rec.stops.append(
                StopRec(
                    id=eid,
                    name=el.get("name", ""),
                    lane=el.get("lane", ""),
                    start=_float(el, "startPos", src, 0.0),
                    end=_float(el, "endPos", src, float("nan")),
                    lines=el.get("lines", ""),
                    where=where,
                )
            )
        elif tag == "parkingArea":
            cap = int(el.get("roadsideCapacity", "0") or 0) + len(list(el.iter("space")))
            rec.parkings.append(
                ParkingRec(
                    id=eid,
                    name=el.get("name", ""),
                    lane=el.get("lane", ""),
                    start=_float(el, "startPos", src, 0.0),
                    end=_float(el, "endPos", src, float("nan")),
                    capacity=cap,
                    where=where,
                )
            )
        elif tag in ("e1Detector", "inductionLoop"):
            rec.detectors.append(
                DetectorRec(
                    id=eid,
                    kind="e1",
                    lane=el.get("lane", ""),
                    pos=_float(el, "pos", src),
                    length=0.0,
                    period=_float(el, "period", src, _float(el, "freq", src, 60.0)),
                    where=where,
                )
            )
        elif tag in ("e2Detector", "laneAreaDetector"):
            lane = el.get("lane") or (el.get("lanes") or "").split(" ")[0]
            pos = _float(el, "pos", src, 0.0)
            length = _float(el, "length", src, _float(el, "endPos", src, pos) - pos)
            rec.detectors.append(
                DetectorRec(
                    id=eid,
                    kind="e2",
                    lane=lane,
                    pos=pos,
                    length=length,
                    period=_float(el, "period", src, _float(el, "freq", src, 60.0)),
                    where=where,
                )
            )
        elif tag in ("e3Detector", "entryExitDetector"):
            entry = el.find("detEntry")
            if entry is not None:
                rec.detectors.append(
                    DetectorRec(
                        id=eid,
                        kind="e3",
                        lane=entry.get("lane", ""),
                        pos=_float(entry, "pos", src, 0.0),
                        length=0.0,
                        period=_float(el, "period", src, _float(el, "freq", src, 60.0)),
                        where=where,
                    )
                )


def read_sumocfg(path: str | Path) -> tuple[Path, list[Path], list[Path]]:
    """The network, additional and route files named by a ``.sumocfg`` (paths resolved).

    Raises
    ------
    MapError
        When the configuration names no network file.
    """
    p = Path(path)
    root = _parse(p, ["sumoConfiguration", "configuration"])
    inp = root.find("input")

    def values(tag: str) -> list[Path]:
        el = inp.find(tag) if inp is not None else None
        if el is None:
            return []
        return [p.parent / v.strip() for v in el.get("value", "").split(",") if v.strip()]

    nets = values("net-file")
    if not nets:
        raise MapError(str(p), "<input> has no <net-file value=...>")
    return nets[0], values("additional-files"), values("route-files")


def load_sumo(
    net_file: str | Path,
    additional: Iterable[str | Path] = (),
    origin: tuple[float, float] | None = None,
) -> RoadNetwork:
    """Load a SUMO network and its additional files into a :class:`RoadNetwork`.

    Parameters
    ----------
    net_file
        The ``.net.xml``, or a ``.sumocfg`` whose network and additional files are read.
    additional
        Additional files: signal programs, bus stops, parking areas, detectors (route files
        are accepted and their network elements read).
    origin
        (lat, lon) for a network without a geo-reference.

    Raises
    ------
    MapError
        Naming the file and element of every problem found.
    """
    extra: list[str | Path] = []
    if str(net_file).endswith(".sumocfg"):
        net_file, cfg_add, _ = read_sumocfg(net_file)
        extra = list(cfg_add)
    rec = read_net(net_file, origin)
    for a in [*extra, *additional]:
        read_additional(rec, a)
    return assemble(rec)
