"""Demand from SUMO route files and configurations, read as ``sumo`` reads them.

Understood: ``<vType>`` and ``<vTypeDistribution>`` (nested types or ``vTypes``/``probabilities``),
``<route>`` and ``<routeDistribution>`` definitions, ``<vehicle>`` (nested or referenced route),
``<trip>`` (``from``/``to``/``via``, routed on free-flow times), ``<flow>`` (``period`` incl.
``exp(rate)``, ``vehsPerHour``, ``probability``, ``number``; a route, a route reference or
``from``/``to``), ``<interval>`` blocks, ``<stop>`` at a bus stop, a parking area or a lane
position with ``duration``/``until``, and ``departLane``/``departPos``/``departSpeed``/
``arrivalPos``/``line``/``speedFactor``. Everything else (persons, containers, TAZ trips,
triggered departures) is set aside with its reason in :attr:`Demand.problems`; loading never
stops on a bad vehicle. Random choices (type and route distributions, probability flows) come
from one generator seeded by ``seed``.
"""

from __future__ import annotations

import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from roadnet import classes, load_sumo
from roadnet.errors import MapError
from roadnet.model import RoadNetwork
from roadnet.sumo import read_sumocfg
from sim.demand.model import (
    LANE_BEST,
    LANE_CODES,
    POS_CODES,
    POS_NUMBER,
    SPEED_CODES,
    Demand,
    DemandBuilder,
)
from sim.demand.routing import EdgeGraph, Router
from sim.demand.vtypes import PARAMS, VTypes, default_vtypes

log = logging.getLogger(__name__)

_ATTR_PARAM = {
    "accel": "accel",
    "decel": "decel",
    "emergencyDecel": "emergency_decel",
    "length": "length",
    "width": "width",
    "minGap": "min_gap",
    "tau": "tau",
    "maxSpeed": "max_speed",
    "sigma": "sigma",
    "speedDev": "speed_dev",
}
_DIST = re.compile(r"^\s*(normc|norm)\s*\(([^)]*)\)\s*$")

Stop = tuple[int, int, int, float, float, float]


@dataclass
class _Pending:
    """A trip waiting for its route (routed in one batch per permission class)."""

    vid: str
    depart: float
    vtype: int
    origin: int
    dest: int
    via: list[int]
    kw: dict[str, object] = field(default_factory=dict)


class ParseError(ValueError):
    """One element could not be used; the message says why."""


def _num(el: ET.Element, name: str, default: float) -> float:
    v = el.get(name)
    if v is None or v == "":
        return default
    try:
        return float(v)
    except ValueError:
        raise ParseError(f"attribute {name}={v!r} is not a number") from None


def _time(v: str) -> float:
    """SUMO times: seconds or h:m:s."""
    if ":" in v:
        parts = [float(p) for p in v.split(":")]
        out = 0.0
        for p in parts:
            out = out * 60 + p
        return out
    return float(v)


class RouteReader:
    """Reads SUMO route/additional files into a :class:`DemandBuilder` for one network.

    Parameters
    ----------
    net
        The road network the routes refer to.
    vtypes
        Starting type table (SUMO's built-in types by default).
    seed
        Seeds distributions and probability flows.
    begin, end
        Keep vehicles departing in [begin, end), s.
    """

    def __init__(
        self,
        net: RoadNetwork,
        *,
        vtypes: VTypes | None = None,
        seed: int = 0,
        begin: float = 0.0,
        end: float = math.inf,
        graph: EdgeGraph | None = None,
    ) -> None:
        self.net = net
        self.graph = graph or EdgeGraph(net)
        self.vt = vtypes or default_vtypes()
        self.rng = np.random.default_rng([seed, 0x20])
        self.begin, self.end = begin, end
        self.b = DemandBuilder(self.vt, seed=seed)
        self.type_dists: dict[str, tuple[list[int], np.ndarray]] = {}
        self.routes: dict[str, tuple[list[int], list[Stop]]] = {}
        self.route_dists: dict[str, tuple[list[str], np.ndarray]] = {}
        self.pending: list[_Pending] = []
        self.ignored: dict[str, int] = {}
        self.sources: list[str] = []

    # ------------------------------------------------------------------ entry points
    def read(self, path: str | Path) -> None:
        """Read one file (routes, additional with vehicles, or vehicle types)."""
        p = Path(path)
        self.sources.append(p.name)
        try:
            root = ET.parse(p).getroot()
        except (OSError, ET.ParseError) as exc:
            self._problem(f"{p}: cannot read ({exc})")
            return
        self._children(root, str(p))

    def build(self) -> Demand:
        """Route the pending trips and build the sorted demand."""
        self._route_pending()
        for tag, n in sorted(self.ignored.items()):
            self._problem(f"{n} <{tag}> element(s) ignored: not vehicles this engine simulates")
        self.b.source = "+".join(self.sources)
        return self.b.build()

    # ------------------------------------------------------------------ helpers
    def _problem(self, msg: str) -> None:
        log.warning("demand: %s", msg)
        self.b.problems.append(msg)

    def _children(self, root: ET.Element, src: str) -> None:
        for el in root:
            tag = el.tag
            try:
                if tag == "vType":
                    self._vtype(el)
                elif tag == "vTypeDistribution":
                    self._vtype_dist(el)
                elif tag == "route":
                    rid = el.get("id")
                    if rid:
                        self.routes[rid] = (self._edges(el.get("edges", "")), self._stops(el))
                elif tag == "routeDistribution":
                    self._route_dist(el)
                elif tag in ("vehicle", "trip"):
                    self._vehicle(el, el.get("id", ""), self._depart(el.get("depart", "0")))
                elif tag == "flow":
                    self._flow(el)
                elif tag == "interval":
                    self._children(el, src)
                elif tag in ("person", "personFlow", "container", "containerFlow"):
                    self.ignored[tag] = self.ignored.get(tag, 0) + 1
            except ParseError as exc:
                self._problem(f"{src}: <{tag} id={el.get('id')!r}>: {exc}")

    def _depart(self, v: str) -> float:
        if v in ("triggered", "containerTriggered", "split"):
            raise ParseError(f"depart={v!r} (triggered departures) is not supported")
        if v in ("now", "begin"):
            return self.begin
        try:
            return _time(v)
        except ValueError:
            raise ParseError(f"depart={v!r} is not a time") from None

    def _edges(self, text: str) -> list[int]:
        idx = self.net.edge_index_of
        out = []
        for e in text.split():
            if e not in idx:
                raise ParseError(f"edge {e!r} is not in the network")
            out.append(idx[e])
        return out

    def _vtype(self, el: ET.Element, dist: list[tuple[int, float]] | None = None) -> int:
        tid = el.get("id")
        if not tid:
            raise ParseError("<vType> without id")
        vals: dict[str, float] = {}
        for a, p in _ATTR_PARAM.items():
            if el.get(a) not in (None, ""):
                vals[p] = _num(el, a, 0.0)
        sf = el.get("speedFactor")
        if sf:
            m = _DIST.match(sf)
            if m:
                args = [float(x) for x in m.group(2).split(",")]
                vals["speed_factor"] = args[0]
                if len(args) > 1:
                    vals["speed_dev"] = args[1]
            else:
                vals["speed_factor"] = _num(el, "speedFactor", 1.0)
        assert set(vals) <= set(PARAMS)
        i = self.vt.add(tid, el.get("vClass", "passenger"), **vals)
        if dist is not None:
            dist.append((i, _num(el, "probability", 1.0)))
        return i

    def _vtype_dist(self, el: ET.Element) -> None:
        did = el.get("id", "")
        members: list[tuple[int, float]] = []
        for child in el.iter("vType"):
            self._vtype(child, members)
        if el.get("vTypes"):
            names = el.get("vTypes", "").split()
            probs = [float(x) for x in el.get("probabilities", "").split()] or [1.0] * len(names)
            for n_, p in zip(names, probs, strict=False):
                i = self.vt.index(n_)
                if i < 0:
                    raise ParseError(f"vTypes names unknown type {n_!r}")
                members.append((i, p))
        if not members:
            raise ParseError("empty vTypeDistribution")
        w = np.array([p for _, p in members], dtype=np.float64)
        self.type_dists[did] = ([i for i, _ in members], w / w.sum())

    def _route_dist(self, el: ET.Element) -> None:
        did = el.get("id", "")
        names: list[str] = []
        probs: list[float] = []
        for k, r in enumerate(el.iter("route")):
            rid = r.get("id") or f"{did}#{k}"
            if r.get("refId"):
                rid = r.get("refId", "")
            else:
                self.routes[rid] = (self._edges(r.get("edges", "")), self._stops(r))
            names.append(rid)
            probs.append(_num(r, "probability", 1.0))
        if el.get("routes"):
            names += el.get("routes", "").split()
            probs += [float(x) for x in el.get("probabilities", "").split()] or [1.0] * len(
                el.get("routes", "").split()
            )
        if not names:
            raise ParseError("empty routeDistribution")
        w = np.array(probs, dtype=np.float64)
        self.route_dists[did] = (names, w / w.sum())

    def _type_of(self, name: str) -> int:
        if name in self.type_dists:
            members, w = self.type_dists[name]
            return members[int(self.rng.choice(len(members), p=w))]
        i = self.vt.index(name)
        if i < 0:
            raise ParseError(f"unknown vehicle type {name!r}")
        return i

    def _stops(self, el: ET.Element) -> list[Stop]:
        net = self.net
        out: list[Stop] = []
        for st in el.findall("stop"):
            dur = _num(st, "duration", math.nan)
            until = _time(st.get("until", "nan")) if st.get("until") else math.nan
            if math.isnan(dur):
                dur = 0.0
            if st.get("busStop") or st.get("trainStop"):
                sid = st.get("busStop") or st.get("trainStop") or ""
                if sid not in net.stop_ids:
                    raise ParseError(f"stop at unknown bus stop {sid!r}")
                k = net.stop_ids.index(sid)
                out.append((k, -1, int(net.stop_lane[k]), float(net.stop_end[k]), dur, until))
            elif st.get("parkingArea"):
                pid = st.get("parkingArea", "")
                if pid not in net.parking_ids:
                    raise ParseError(f"stop at unknown parking area {pid!r}")
                k = net.parking_ids.index(pid)
                out.append((-1, k, int(net.parking_lane[k]), float(net.parking_end[k]), dur, until))
            elif st.get("lane"):
                lid = st.get("lane", "")
                if lid not in net.lane_index_of:
                    raise ParseError(f"stop on unknown lane {lid!r}")
                ln = net.lane_index_of[lid]
                length = float(net.lane_length[ln])
                pos = _num(st, "endPos", length)
                pos = length + pos if pos < 0 else min(pos, length)
                out.append((-1, -1, ln, pos, dur, until))
            else:
                raise ParseError("<stop> needs busStop, parkingArea or lane")
        return out

    def _common(self, el: ET.Element) -> dict[str, object]:
        """departLane/Pos/Speed, arrivalPos, line, speedFactor of a vehicle or flow element."""
        kw: dict[str, object] = {}
        dl = el.get("departLane", "first")
        if dl in LANE_CODES:
            kw["depart_lane"] = LANE_CODES[dl]
        elif dl.startswith("best"):
            kw["depart_lane"] = LANE_BEST
        else:
            kw["depart_lane"] = int(_num(el, "departLane", 0))
        dp = el.get("departPos", "base")
        if dp in POS_CODES:
            kw["depart_pos_kind"] = POS_CODES[dp]
        else:
            kw["depart_pos_kind"] = POS_NUMBER
            kw["depart_pos"] = _num(el, "departPos", 0.0)
        ds = el.get("departSpeed", "0")
        if ds in SPEED_CODES:
            kw["depart_speed_kind"] = SPEED_CODES[ds]
        elif ds == "last":
            kw["depart_speed"] = 0.0
        else:
            kw["depart_speed"] = _num(el, "departSpeed", 0.0)
        ap = el.get("arrivalPos", "max")
        if ap not in ("max", "random", "random_free"):
            kw["arrival_pos"] = _num(el, "arrivalPos", math.nan)
        if el.get("line"):
            kw["line"] = el.get("line", "")[:16]
        if el.get("speedFactor"):
            kw["speed_factor"] = _num(el, "speedFactor", math.nan)
        return kw

    def _route_of(self, el: ET.Element) -> tuple[list[int], list[Stop]] | None:
        """The route of a vehicle/flow element, or None when it is a trip (from/to)."""
        nested = el.find("route")
        if nested is not None:
            return self._edges(nested.get("edges", "")), self._stops(nested)
        nd = el.find("routeDistribution")
        if nd is not None:
            self._route_dist(nd)
            return self._pick_route(nd.get("id", ""))
        rid = el.get("route")
        if rid:
            if rid in self.route_dists:
                return self._pick_route(rid)
            if rid not in self.routes:
                raise ParseError(f"unknown route {rid!r}")
            return self.routes[rid]
        return None

    def _pick_route(self, did: str) -> tuple[list[int], list[Stop]]:
        names, w = self.route_dists[did]
        name = names[int(self.rng.choice(len(names), p=w))]
        if name not in self.routes:
            raise ParseError(f"route distribution {did!r} names unknown route {name!r}")
        return self.routes[name]

    def _line(self, vid: str, vtype: int, kw: dict[str, object]) -> None:
        # a bus without a line attribute: its id up to the last '_' or '.' names the line
        if "line" not in kw and self.vt.cls[vtype] == classes.BUS:
            kw["line"] = re.split(r"[_.](?=[^_.]*$)", vid)[0][:16]

    def _vehicle(self, el: ET.Element, vid: str, depart: float, vtype: int | None = None) -> None:
        if not vid:
            raise ParseError("vehicle without id")
        if not self.begin <= depart < self.end:
            return
        vt = self._type_of(el.get("type", "DEFAULT_VEHTYPE")) if vtype is None else vtype
        kw = self._common(el)
        self._line(vid, vt, kw)
        r = self._route_of(el)
        stops = self._stops(el)
        if r is not None:
            edges, rstops = r
            self._add(vid, depart, vt, edges, rstops + stops, kw)
            return
        if el.get("fromTaz") or el.get("fromJunction") or el.get("fromXY") or el.get("fromLonLat"):
            raise ParseError("trips between zones, junctions or coordinates are not supported (give from/to edges)")
        if not el.get("from") or not el.get("to"):
            raise ParseError("no route: needs a route, a route reference or from/to edges")
        o = self._edges(el.get("from", ""))[0]
        d = self._edges(el.get("to", ""))[0]
        via = self._edges(el.get("via", ""))
        kw["stops"] = stops
        self.pending.append(_Pending(vid, depart, vt, o, d, via, kw))

    def _add(
        self, vid: str, depart: float, vt: int, edges: list[int], stops: list[Stop], kw: dict[str, object]
    ) -> None:
        if not edges:
            raise ParseError("empty route")
        bits = int(self.vt.bits[vt])
        if not self.graph.route_valid(edges, bits):
            names = [self.net.edge_ids[e] for e in edges]
            raise ParseError(
                f"route {' '.join(names[:8])}{' ...' if len(names) > 8 else ''} is not connected "
                f"for vClass {self.vt.vclass[vt]}"
            )
        self.b.add(vid, depart, vt, edges, stops=stops, **kw)  # type: ignore[arg-type]

    def _flow(self, el: ET.Element) -> None:
        fid = el.get("id", "")
        begin = _time(el.get("begin", "0"))
        end = _time(el.get("end", "nan")) if el.get("end") else math.nan
        number = int(_num(el, "number", -1))
        period = el.get("period")
        times: list[float]
        if period and period.startswith("exp("):
            rate = float(period[4:-1])
            if math.isnan(end):
                end = begin + 3600.0
            times, t = [], begin
            while True:
                t += float(self.rng.exponential(1.0 / rate))
                if t >= end or (number >= 0 and len(times) >= number):
                    break
                times.append(t)
        elif el.get("probability"):
            p = _num(el, "probability", 0.0)
            if math.isnan(end):
                end = begin + 3600.0
            secs = np.arange(begin, end, 1.0)
            hit = self.rng.random(len(secs)) < p
            times = secs[hit].tolist()
            if number >= 0:
                times = times[:number]
        else:
            if period:
                step = _num(el, "period", 1.0)
            elif el.get("vehsPerHour"):
                step = 3600.0 / max(_num(el, "vehsPerHour", 1.0), 1e-9)
            elif number > 0 and not math.isnan(end):
                step = (end - begin) / number
            else:
                step = 1.0
            if math.isnan(end):
                end = begin + (number * step if number >= 0 else 3600.0)
            k = int(max(math.ceil((end - begin) / step - 1e-9), 0))
            if number >= 0:
                k = min(k, number)
            times = (begin + step * np.arange(k)).tolist()
        for k, t in enumerate(times):
            try:
                self._vehicle(el, f"{fid}.{k}", float(t))
            except ParseError as exc:
                self._problem(f"<flow id={fid!r}>: {exc}")
                return

    def _route_pending(self) -> None:
        groups: dict[int, list[_Pending]] = {}
        for p in self.pending:
            groups.setdefault(int(self.vt.bits[p.vtype]), []).append(p)
        for bits, items in groups.items():
            r = Router(self.graph, bits)
            simple = [p for p in items if not p.via]
            paths = r.routes([p.origin for p in simple], [p.dest for p in simple])
            done = dict(zip([id(p) for p in simple], paths, strict=True))
            for p in items:
                path = done[id(p)] if not p.via else r.route(p.origin, p.dest, p.via)
                if path is None:
                    self._problem(
                        f"<trip id={p.vid!r}>: no route from {self.net.edge_ids[p.origin]!r} "
                        f"to {self.net.edge_ids[p.dest]!r} for vClass {self.vt.vclass[p.vtype]}"
                    )
                    continue
                kw = dict(p.kw)
                stops = kw.pop("stops", [])
                assert isinstance(stops, list)
                try:
                    self._add(p.vid, p.depart, p.vtype, path, stops, kw)
                except ParseError as exc:
                    self._problem(f"<trip id={p.vid!r}>: {exc}")


def load_routes(
    net: RoadNetwork,
    files: str | Path | Sequence[str | Path],
    *,
    seed: int = 0,
    begin: float = 0.0,
    end: float = math.inf,
    vtypes: VTypes | None = None,
) -> Demand:
    """Demand from SUMO route files (and additional files holding types or vehicles), in order.

    Parameters
    ----------
    net
        The network the routes refer to.
    files
        One path or several, read in the given order (types before the vehicles that use them).
    seed
        Seeds type/route distributions, probability flows and speed factors.
    begin, end
        Keep vehicles departing in [begin, end), s.
    """
    paths = [files] if isinstance(files, str | Path) else list(files)
    rr = RouteReader(net, vtypes=vtypes, seed=seed, begin=begin, end=end)
    for p in paths:
        rr.read(p)
    return rr.build()


def _has_vehicles(path: Path) -> bool:
    try:
        for _, el in ET.iterparse(path, events=("start",)):
            if el.tag in ("vType", "vTypeDistribution", "vehicle", "trip", "flow", "route"):
                return True
    except (OSError, ET.ParseError):
        return False
    return False


def load_sumocfg(
    path: str | Path, *, seed: int = 0, begin: float = 0.0, end: float = math.inf
) -> tuple[RoadNetwork, Demand]:
    """The network and demand of a ``.sumocfg``, as ``sumo -c`` loads them.

    Additional files are read first (network elements into the network; types and vehicles into
    the demand), then the route files.

    Raises
    ------
    MapError
        When the configuration or its network cannot be read.
    """
    net_file, additional, routes = read_sumocfg(path)
    net_add = [a for a in additional if a.exists()]
    net = load_sumo(net_file, net_add)
    veh_files = [a for a in net_add if _has_vehicles(a)]
    missing = [str(a) for a in [*additional, *routes] if not a.exists()]
    if missing:
        raise MapError(str(path), f"files named in the configuration do not exist: {', '.join(missing)}")
    dem = load_routes(net, [*veh_files, *routes], seed=seed, begin=begin, end=end)
    return net, dem
