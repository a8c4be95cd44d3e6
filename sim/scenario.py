"""Scenarios: the project's TOML files (map, demand, devices, OBU share, seed) or a SUMO ``.sumocfg``.

A scenario file looks like this (every key optional except the map; paths are relative to the
file, ``{shared_data}`` stands for ``$XJ_SHARED_DATA`` or ``<repo>/../shared/data``)::

    name = "grid-medium"
    seed = 1
    duration = 1800.0                      # simulated s
    step = 0.1                             # engine step, s
    start = "2026-01-01T08:00:00+08:00"    # simulated time 0 (lock-step; real time uses the clock)

    [map]                                  # one of: generator | file | sumocfg
    generator = "grid"                     # grid (nx, ny, spacing, lanes, speed) or corridor (n, ...)
    nx = 4
    ny = 4
    # file = "city.xjmap" or "city.net.xml", additional = ["tls.add.xml"]
    # sumocfg = "{shared_data}/sumo/bologna-pasubio/run.sumocfg"   (map and demand as SUMO loads them)
    # origin = [28.1946, 112.9680]         # lat, lon of local (0, 0) for generated / unreferenced maps

    [demand]                               # kind: generated | routes | od | sumocfg | none
    kind = "generated"
    vehicles_per_hour = 2000
    bus_lines = 2
    bus_headway = 300.0
    shares = { car = 0.85, truck = 0.05, robotaxi = 0.10 }
    # files = ["trips.rou.xml"] (routes) ; file = "od.json" (od)

    [devices]
    rsu = "default"                        # one per signalised junction; "none"; or junction ids
    lamp_posts = true
    obu_share = 0.1                        # share of other vehicles with an OBU (buses, robotaxis: all)
    compliance = 0.8                       # share of drivers following advice
    rsu_sensor = { range_m = 150, sigma_m = 0.5, miss = 0.05, false_alarms = 0.1, latency_s = 0.05 }
    lamp_sensor = { range_m = 50 }
    # [[devices.sensor]] id, kind, x, y (or lat, lon), heading_deg (math), fov_deg, range_m, polygon, ...

Every mistake is reported with the file, the section and the key, e.g.
``grid.toml: [devices] obu_share must be between 0 and 1``.
"""

from __future__ import annotations

import math
import os
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from roadnet.errors import MapError
from roadnet.model import RoadNetwork
from sim.devices.field import DeviceConfig
from sim.devices.obu import ObuParams
from sim.devices.sensors import LAMP_DEFAULTS, RSU_DEFAULTS, SensorParams, SensorSpec
from sim.interface import LOCKSTEP_EPOCH

if TYPE_CHECKING:
    from sim.demand import Demand

REPO: Final = Path(__file__).resolve().parents[1]
GENERATORS: Final = ("grid", "corridor")
DEMAND_KINDS: Final = ("generated", "routes", "od", "sumocfg", "none")
DEFAULT_DURATION: Final = 3600.0


class ScenarioError(ValueError):
    """A scenario that cannot be used; one line per problem, each naming the file, section and key."""

    def __init__(self, source: str, problems: list[str] | str) -> None:
        self.source = source
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(f"{source}: {p}" for p in self.problems))


def shared_data() -> Path:
    """Where the shared real data lives: ``$XJ_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("XJ_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@dataclass(frozen=True)
class MapSpec:
    """Where the network comes from: a generator with parameters, a file, or a SUMO configuration."""

    generator: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    file: Path | None = None
    additional: tuple[Path, ...] = ()
    sumocfg: Path | None = None
    origin: tuple[float, float] | None = None


@dataclass(frozen=True)
class DemandSpec:
    """Where the vehicles come from (see the module docstring)."""

    kind: str = "generated"
    vehicles_per_hour: float = 1500.0
    shares: dict[str, float] | None = None
    bus_lines: int = 2
    bus_headway: float = 300.0
    files: tuple[Path, ...] = ()
    od_file: Path | None = None


@dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario."""

    name: str
    source: Path
    map: MapSpec
    demand: DemandSpec
    devices: DeviceConfig
    obu_share: float = 0.0
    seed: int = 0
    duration: float = DEFAULT_DURATION
    step: float = 0.1
    start: float = LOCKSTEP_EPOCH  #: Unix time of simulated time 0 (s) in lock-step
    begin: float = 0.0  #: SUMO begin time of a .sumocfg (s)

    @property
    def epoch_ns(self) -> int:
        """:attr:`start` in ns."""
        return round(self.start * 1e9)

    # ------------------------------------------------------------------ building
    def network(self) -> RoadNetwork:
        """Build or load the road network.

        Raises
        ------
        MapError
            When a map file cannot be read.
        """
        m = self.map
        if m.sumocfg is not None:
            from roadnet.sumo import load_sumo, read_sumocfg

            net_file, additional, _ = read_sumocfg(m.sumocfg)
            return load_sumo(net_file, [a for a in additional if a.exists()])
        if m.file is not None:
            if m.origin is not None:
                from roadnet.sumo import load_sumo

                return load_sumo(m.file, list(m.additional), m.origin)
            from roadnet.io import load_any

            return load_any(m.file, [str(a) for a in m.additional])
        from roadnet.generators import corridor, grid

        kw = dict(m.params)
        if m.origin is not None:
            kw["origin"] = m.origin
        return grid(**kw) if m.generator == "grid" else corridor(**kw)

    def build(self, *, seed: int | None = None, until: float | None = None) -> tuple[RoadNetwork, Demand]:
        """The network and the demand (OBU carriers chosen with :attr:`obu_share` and the seed).

        Raises
        ------
        MapError, ValueError
            When a map, route or OD file cannot be used.
        """
        from sim.demand import grid_demand, load_od, load_routes, load_sumocfg
        from sim.demand.model import Demand

        seed = self.seed if seed is None else seed
        end = float(until if until is not None else self.duration)
        d = self.demand
        if d.kind == "sumocfg" or (self.map.sumocfg is not None and d.kind == "generated"):
            cfg = self.map.sumocfg
            if cfg is None:
                raise ScenarioError(str(self.source), "[demand] kind = 'sumocfg' needs [map] sumocfg")
            net, demand = load_sumocfg(cfg, seed=seed, begin=self.begin, end=self.begin + end)
        else:
            net = self.network()
            if d.kind == "generated":
                demand = grid_demand(
                    net,
                    vehicles_per_hour=d.vehicles_per_hour,
                    end=end,
                    shares=d.shares,
                    n_lines=d.bus_lines,
                    headway=d.bus_headway,
                    seed=seed,
                )
            elif d.kind == "routes":
                demand = load_routes(net, list(d.files), seed=seed, end=end)
            elif d.kind == "od":
                assert d.od_file is not None
                demand = load_od(net, d.od_file, seed=seed)
            else:
                demand = Demand()
        demand.set_connected(self.obu_share, seed=seed)
        return net, demand


# ---------------------------------------------------------------------------- parsing


_TYPE_NAMES: Final = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
    datetime: "a date-time",
}


class _Reader:
    """Typed access to one TOML table that records every problem with its section and key."""

    def __init__(self, table: dict[str, Any], section: str, problems: list[str], base: Path) -> None:
        self.t = table
        self.section = section
        self.problems = problems
        self.base = base
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return f"[{self.section}] {key}" if self.section else key

    def bad(self, key: str, what: str) -> None:
        self.problems.append(f"{self.where(key)} {what}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(key)
        if key not in self.t:
            return default
        v = self.t[key]
        if kind is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        ok = isinstance(v, kind) and not (isinstance(v, bool) and kind in (int, float, (int, float)))
        if not ok:
            kinds = (kind,) if isinstance(kind, type) else kind
            names = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            self.bad(key, f"must be {names}, got {v!r}")
            return default
        return v

    def number(
        self, key: str, default: float, *, lo: float | None = None, hi: float | None = None, lo_open: bool = False
    ) -> float:
        v = float(self.get(key, float, default))
        if not math.isfinite(v):
            self.bad(key, "must be a finite number")
        elif lo is not None and hi is not None and not (lo < v <= hi if lo_open else lo <= v <= hi):
            self.bad(key, f"must be between {lo:g} and {hi:g}")
        elif lo is not None and hi is None and not (v > lo if lo_open else v >= lo):
            self.bad(key, f"must be {'>' if lo_open else '>='} {lo:g}")
        return v

    def path(self, key: str) -> Path | None:
        s = self.get(key, str, None)
        if s is None:
            return None
        p = Path(s.replace("{shared_data}", str(shared_data()))).expanduser()
        p = p if p.is_absolute() else (self.base / p)
        if not p.exists():
            self.bad(key, f"names {str(p)!r}, which does not exist")
        return p

    def paths(self, key: str) -> tuple[Path, ...]:
        v = self.get(key, (list, str), [])
        items = [v] if isinstance(v, str) else v
        out = []
        for i, s in enumerate(items):
            if not isinstance(s, str):
                self.bad(f"{key}[{i}]", "must be a path string")
                continue
            p = Path(s.replace("{shared_data}", str(shared_data()))).expanduser()
            p = p if p.is_absolute() else (self.base / p)
            if not p.exists():
                self.bad(key, f"names {str(p)!r}, which does not exist")
            out.append(p)
        return tuple(out)

    def table(self, key: str) -> _Reader:
        v = self.get(key, dict, {})
        return _Reader(v, f"{self.section}.{key}" if self.section else key, self.problems, self.base)

    def done(self, extra_ok: tuple[str, ...] = ()) -> None:
        unknown = sorted(set(self.t) - self.used - set(extra_ok))
        for k in unknown:
            known = ", ".join(sorted(self.used))
            self.bad(k, f"is not a known key (known: {known})")


_GRID_KEYS: Final = {
    "nx": int,
    "ny": int,
    "spacing": float,
    "lanes": int,
    "speed": float,
    "bus_stops": bool,
    "parking": bool,
}
_CORRIDOR_KEYS: Final = {
    "n": int,
    "main_lanes": int,
    "bus_lane": bool,
    "side_lanes": int,
    "side_length": float,
    "speed": float,
    "side_speed": float,
    "spacings": list,
}


def _map(r: _Reader) -> MapSpec:
    origin = None
    o = r.get("origin", list, None)
    if o is not None:
        if len(o) != 2 or not all(isinstance(v, int | float) for v in o):
            r.bad("origin", "must be [lat, lon] in degrees")
        else:
            origin = (float(o[0]), float(o[1]))
    given = [k for k in ("generator", "file", "sumocfg") if k in r.t]
    if len(given) != 1:
        r.problems.append(f"[map] needs exactly one of generator, file, sumocfg (got {', '.join(given) or 'none'})")
        r.used.update(r.t)
        return MapSpec()
    if "sumocfg" in r.t:
        cfg = r.path("sumocfg")
        r.done()
        return MapSpec(sumocfg=cfg, origin=origin)
    if "file" in r.t:
        f = r.path("file")
        add = r.paths("additional")
        r.done()
        return MapSpec(file=f, additional=add, origin=origin)
    gen = r.get("generator", str, "grid")
    if gen not in GENERATORS:
        r.bad("generator", f"must be one of {', '.join(GENERATORS)}, got {gen!r}")
        r.used.update(r.t)
        return MapSpec()
    keys = _GRID_KEYS if gen == "grid" else _CORRIDOR_KEYS
    params: dict[str, Any] = {}
    for k, kind in keys.items():
        if k in r.t:
            v = r.get(k, kind, None)
            if v is None:
                continue
            if kind is int and not v >= 1:
                r.bad(k, "must be >= 1")
            if kind is float and not v > 0:
                r.bad(k, "must be > 0")
            params[k] = v
    r.done()
    return MapSpec(generator=gen, params=params, origin=origin)


def _demand(r: _Reader, has_cfg: bool) -> DemandSpec:
    kind = r.get("kind", str, "sumocfg" if has_cfg else "generated")
    if kind not in DEMAND_KINDS:
        r.bad("kind", f"must be one of {', '.join(DEMAND_KINDS)}, got {kind!r}")
    if kind == "sumocfg" and not has_cfg:
        r.bad("kind", "'sumocfg' needs [map] sumocfg")
    vph = r.number("vehicles_per_hour", DemandSpec.vehicles_per_hour, lo=0.0)
    shares = None
    if "shares" in r.t:
        sr = r.table("shares")
        shares = {}
        for k, v in sr.t.items():
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                sr.bad(k, "must be a share >= 0")
            else:
                shares[k] = float(v)
        sr.used.update(sr.t)
        known = ("car", "truck", "robotaxi", "bus", "DEFAULT_VEHTYPE", "DEFAULT_BUSTYPE", "DEFAULT_TAXITYPE")
        for k in shares:
            if k not in known:
                sr.bad(k, f"is not a vehicle type (known: {', '.join(known[:4])})")
        if shares and sum(shares.values()) <= 0:
            r.bad("shares", "must have a positive total")
    lines = int(r.get("bus_lines", int, DemandSpec.bus_lines))
    if lines < 0:
        r.bad("bus_lines", "must be >= 0")
    headway = r.number("bus_headway", DemandSpec.bus_headway, lo=0.0, lo_open=True)
    files = r.paths("files") if "files" in r.t else ()
    od = r.path("file") if "file" in r.t else None
    if kind == "routes" and not files:
        r.bad("files", "must list the SUMO route files when kind = 'routes'")
    if kind == "od" and od is None:
        r.bad("file", "must name the OD JSON file when kind = 'od'")
    r.done()
    return DemandSpec(kind, vph, shares, lines, headway, files, od)


_SENSOR_KEYS: Final = tuple(f.name for f in fields(SensorParams))


def _sensor_params(r: _Reader, base: SensorParams) -> SensorParams:
    vals = {k: r.number(k, getattr(base, k)) for k in _SENSOR_KEYS if k in r.t}
    r.used.update(_SENSOR_KEYS)
    r.done()
    p = SensorParams(**{**{k: getattr(base, k) for k in _SENSOR_KEYS}, **vals})
    r.problems.extend(p.check(f"[{r.section}]"))
    return p


def _sensors(r: _Reader, base: Path, problems: list[str], rsu: SensorParams) -> tuple[SensorSpec, ...]:
    items = r.get("sensor", list, [])
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            r.bad(f"sensor[{i}]", "must be a table")
            continue
        sr = _Reader(item, f"devices.sensor[{i}]", problems, base)
        ident = sr.get("id", str, f"sensor-{i}")
        kind = sr.get("kind", str, "rsu")
        if kind not in ("rsu", "lamp"):
            sr.bad("kind", f"must be rsu or lamp, got {kind!r}")
        latlon = ("lat" in item) or ("lon" in item)
        x = sr.number("x", 0.0)
        y = sr.number("y", 0.0)
        lat = sr.number("lat", math.nan) if latlon else math.nan
        lon = sr.number("lon", math.nan) if latlon else math.nan
        heading = math.radians(sr.number("heading_deg", 0.0))
        poly = sr.get("polygon", list, None)
        poly_arr = None
        if poly is not None:
            try:
                poly_arr = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
                if len(poly_arr) < 3:
                    raise ValueError
            except (ValueError, TypeError):
                sr.bad("polygon", "must be a list of at least 3 [x, y] points (m)")
                poly_arr = None
        params_keys = {k: item[k] for k in _SENSOR_KEYS if k in item}
        pr = _Reader(params_keys, f"devices.sensor[{i}]", problems, base)
        params = _sensor_params(pr, rsu)
        sr.used.update(_SENSOR_KEYS)
        sr.done(("lat", "lon"))
        out.append(SensorSpec(ident, kind, x, y, heading, params, poly_arr, latlon=(lat, lon) if latlon else None))
    return tuple(out)


def _devices(r: _Reader, base: Path) -> tuple[DeviceConfig, float]:
    rsu_v = r.get("rsu", (str, list), "default")
    rsu: str | tuple[str, ...]
    if isinstance(rsu_v, list):
        if not all(isinstance(v, str) for v in rsu_v):
            r.bad("rsu", "must be a list of junction ids")
        rsu = tuple(str(v) for v in rsu_v)
    else:
        rsu = rsu_v
        if rsu not in ("default", "none"):
            r.bad("rsu", f'must be "default", "none" or a list of junction ids, got {rsu!r}')
    lamp = bool(r.get("lamp_posts", bool, True))
    share = r.number("obu_share", 0.0, lo=0.0, hi=1.0)
    obu = ObuParams(
        rate_hz=r.number("bsm_rate_hz", ObuParams.rate_hz),
        gps_sigma_m=r.number("gps_sigma_m", ObuParams.gps_sigma_m),
        compliance=r.number("compliance", ObuParams.compliance, lo=0.0, hi=1.0),
        priority_requests=bool(r.get("priority_requests", bool, True)),
        priority_range_m=r.number("priority_range_m", ObuParams.priority_range_m),
    )
    r.problems.extend(p for p in obu.check("[devices]") if "compliance" not in p)
    rsu_p = _sensor_params(r.table("rsu_sensor"), RSU_DEFAULTS)
    lamp_p = _sensor_params(r.table("lamp_sensor"), LAMP_DEFAULTS)
    sensors = _sensors(r, base, r.problems, rsu_p)
    spat_hz = r.number("spat_hz", 10.0, lo=0.0, lo_open=True)
    parking = r.number("parking_period", 10.0, lo=0.0, lo_open=True)
    status = r.number("lamp_status_period", 60.0, lo=0.0, lo_open=True)
    max_red = r.number("max_red", 120.0, lo=0.0, lo_open=True)
    r.done()
    cfg = DeviceConfig(
        rsu=rsu,
        rsu_params=rsu_p,
        lamp_posts=lamp,
        lamp_params=lamp_p,
        sensors=sensors,
        obu=obu,
        spat_hz=spat_hz,
        parking_period_s=parking,
        lamp_status_period_s=status,
        max_red_s=max_red,
    )
    return cfg, share


def _start(r: _Reader) -> float:
    v = r.get("start", (str, datetime, int, float), None)
    if v is None:
        return LOCKSTEP_EPOCH
    if isinstance(v, datetime):
        if v.tzinfo is None:
            r.bad("start", "needs a time zone offset, e.g. 2026-01-01T08:00:00+08:00")
            return LOCKSTEP_EPOCH
        return v.timestamp()
    if isinstance(v, int | float):
        return float(v)
    try:
        d = datetime.fromisoformat(v)
    except ValueError:
        r.bad("start", f"must be an ISO time with offset, e.g. 2026-01-01T08:00:00+08:00, got {v!r}")
        return LOCKSTEP_EPOCH
    if d.tzinfo is None:
        r.bad("start", "needs a time zone offset, e.g. 2026-01-01T08:00:00+08:00")
        return LOCKSTEP_EPOCH
    return d.timestamp()


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario: a TOML file, or a SUMO ``.sumocfg`` that runs as is.

    Raises
    ------
    ScenarioError
        Listing every problem with the file, section and key.
    """
    p = Path(path)
    src = str(p)
    if not p.exists():
        raise ScenarioError(str(p), "file not found")
    if p.suffix == ".sumocfg" or p.name.endswith(".sumo.cfg"):
        return _from_sumocfg(p)
    try:
        doc = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(src, f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(src, f"cannot read: {exc}") from None
    problems: list[str] = []
    base = p.resolve().parent
    top = _Reader(doc, "", problems, base)
    name = str(top.get("name", str, p.stem))
    seed = int(top.get("seed", int, 0))
    duration = top.number("duration", DEFAULT_DURATION, lo=0.0, lo_open=True)
    step = top.number("step", 0.1, lo=0.0, hi=1.0, lo_open=True)
    start = _start(top)
    top.get("description", str, "")
    if "map" not in doc:
        problems.append("[map] is missing: give generator, file or sumocfg")
        mspec = MapSpec()
    else:
        mspec = _map(top.table("map"))
    dspec = _demand(top.table("demand"), mspec.sumocfg is not None)
    devices, share = _devices(top.table("devices"), base)
    top.done()
    if problems:
        raise ScenarioError(src, problems)
    return Scenario(name, p, mspec, dspec, devices, share, seed, duration, step, start)


def _from_sumocfg(p: Path) -> Scenario:
    """A ``.sumocfg`` as is: its network, additional files and routes; default devices."""
    try:
        root = ET.parse(p).getroot()
    except ET.ParseError as exc:
        raise ScenarioError(p.name, f"malformed XML: {exc}") from None
    begin, end = 0.0, math.nan
    for el in root.iter():
        if el.tag in ("begin", "end") and el.get("value") is not None:
            try:
                v = float(str(el.get("value")))
            except ValueError:
                raise ScenarioError(
                    p.name, f"<{el.tag} value={el.get('value')!r}> is not a number of seconds"
                ) from None
            if el.tag == "begin":
                begin = v
            else:
                end = v
    duration = end - begin if math.isfinite(end) and end > begin else DEFAULT_DURATION
    try:
        from roadnet.sumo import read_sumocfg

        read_sumocfg(p)
    except MapError as exc:
        raise ScenarioError(p.name, str(exc)) from None
    return Scenario(
        p.stem,
        p,
        MapSpec(sumocfg=p.resolve()),
        DemandSpec(kind="sumocfg"),
        DeviceConfig(),
        0.0,
        0,
        duration,
        0.1,
        LOCKSTEP_EPOCH,
        begin,
    )
