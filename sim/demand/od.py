"""Demand from an origin-destination matrix: zones are sets of edges, trips are routed.

A JSON file for :func:`load_od`::

    {"zones": {"north": ["e1", "e2"], "south": {"sources": ["e7"], "sinks": ["e8"]}},
     "begin": 0, "end": 3600, "vtype": "car",
     "trips": [["north", "south", 120], ["south", "north", 80.5]]}

or ``"order": ["north", "south"], "matrix": [[0, 120], [80.5, 0]]`` instead of ``trips``.
A zone is a list of edges (trips start and end on them) or ``sources`` and ``sinks`` edge lists.
A fractional count keeps its fraction as a probability of one more trip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from roadnet.model import RoadNetwork
from sim.demand.model import LANE_BEST, POS_BASE, Demand, DemandBuilder
from sim.demand.routing import EdgeGraph, Router
from sim.demand.vtypes import VTypes, default_vtypes


class ODError(ValueError):
    """An OD description that cannot be used; the message says what to fix."""


def od_trips(
    net: RoadNetwork,
    zones: Mapping[str, Sequence[str] | Mapping[str, Sequence[str]]],
    counts: Mapping[tuple[str, str], float],
    *,
    begin: float = 0.0,
    end: float = 3600.0,
    vtype: str = "car",
    seed: int = 0,
    vtypes: VTypes | None = None,
    graph: EdgeGraph | None = None,
) -> Demand:
    """Trips from an OD table: ``counts[(origin zone, destination zone)]`` vehicles in [begin, end).

    Each trip starts on a uniformly drawn edge of its origin zone at a uniform time and ends on
    a uniformly drawn edge of its destination zone, on the shortest free-flow route.

    Raises
    ------
    ODError
        On unknown zones, unknown edges or an unknown vehicle type.
    """
    vt = vtypes or default_vtypes()
    ti = vt.index(vtype)
    if ti < 0:
        raise ODError(f"unknown vehicle type {vtype!r}")
    g = graph or EdgeGraph(net)
    idx = net.edge_index_of
    sources: dict[str, np.ndarray] = {}
    sinks: dict[str, np.ndarray] = {}
    for z, spec in zones.items():
        src, snk = (spec.get("sources", []), spec.get("sinks", [])) if isinstance(spec, Mapping) else (spec, spec)
        for edges in (src, snk):
            bad = [e for e in edges if e not in idx]
            if bad:
                raise ODError(f"zone {z!r}: edges not in the network: {', '.join(bad[:5])}")
        if not src and not snk:
            raise ODError(f"zone {z!r} has no edges")
        sources[z] = np.array([idx[e] for e in src], dtype=np.int64)
        sinks[z] = np.array([idx[e] for e in snk], dtype=np.int64)
    rng = np.random.default_rng([seed, 0x0D])
    b = DemandBuilder(vt, seed=seed, source="od")
    router = Router(g, int(vt.bits[ti]))
    o_all: list[int] = []
    d_all: list[int] = []
    t_all: list[float] = []
    tag: list[str] = []
    for (zo, zd), c in counts.items():
        for z in (zo, zd):
            if z not in sources:
                raise ODError(f"OD pair ({zo!r}, {zd!r}): unknown zone {z!r}")
        if c > 0 and (len(sources[zo]) == 0 or len(sinks[zd]) == 0):
            raise ODError(f"OD pair ({zo!r}, {zd!r}): zone {zo!r} has no sources or {zd!r} no sinks")
        if c < 0:
            raise ODError(f"OD pair ({zo!r}, {zd!r}): negative count {c}")
        n = int(np.floor(c)) + int(rng.random() < c - np.floor(c))
        o_all += rng.choice(sources[zo], n).tolist() if n else []
        d_all += rng.choice(sinks[zd], n).tolist() if n else []
        t_all += rng.uniform(begin, end, n).tolist()
        tag += [f"{zo}-{zd}"] * n
    paths = router.routes(o_all, d_all)
    for k, path in enumerate(paths):
        if path is None:
            b.problems.append(
                f"OD trip {tag[k]} #{k}: no route from {net.edge_ids[o_all[k]]!r} to {net.edge_ids[d_all[k]]!r}"
            )
            continue
        b.add(f"od_{tag[k]}.{k}", t_all[k], ti, path, depart_lane=LANE_BEST, depart_pos_kind=POS_BASE)
    return b.build()


def load_od(net: RoadNetwork, path: str | Path, *, seed: int = 0) -> Demand:
    """Demand from an OD JSON file (format in the module docstring).

    Raises
    ------
    ODError
        When the file is unreadable or malformed, naming what to fix.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ODError(f"{p}: cannot read OD JSON ({exc})") from None
    if not isinstance(doc, dict) or "zones" not in doc:
        raise ODError(f"{p}: expected an object with 'zones' and 'trips' or 'matrix'")
    counts: dict[tuple[str, str], float] = {}
    if "trips" in doc:
        for row in doc["trips"]:
            if len(row) != 3:
                raise ODError(f"{p}: a trip row must be [origin, destination, count], got {row!r}")
            counts[(str(row[0]), str(row[1]))] = counts.get((str(row[0]), str(row[1])), 0.0) + float(row[2])
    elif "matrix" in doc:
        order = doc.get("order") or list(doc["zones"])
        m = np.asarray(doc["matrix"], dtype=np.float64)
        if m.shape != (len(order), len(order)):
            raise ODError(f"{p}: matrix is {m.shape}, expected {len(order)} x {len(order)} for 'order'")
        for i, zo in enumerate(order):
            for j, zd in enumerate(order):
                if m[i, j] > 0:
                    counts[(zo, zd)] = float(m[i, j])
    else:
        raise ODError(f"{p}: give 'trips' or 'matrix'")
    return od_trips(
        net,
        doc["zones"],
        counts,
        begin=float(doc.get("begin", 0.0)),
        end=float(doc.get("end", 3600.0)),
        vtype=str(doc.get("vtype", "car")),
        seed=seed,
    )
