"""The demand: every vehicle that will enter the simulation, as flat arrays sorted by departure.

Flows are already expanded into vehicles and trips already routed, so the engine reads one table:
N vehicles, their routes as flat edge indices plus offsets (``route_edges[route_offsets[i]:
route_offsets[i + 1]]``, indices into ``net.edge_ids``), their stops as flat arrays plus offsets,
and their types as indices into :class:`~sim.demand.vtypes.VTypes`. Units: s, m, m/s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from roadnet import classes
from sim.demand.vtypes import VTypes, default_vtypes, sample_speed_factors

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
S = npt.NDArray[np.str_]

#: depart_lane codes (a value >= 0 is a lane index within the first edge)
LANE_BEST: Final = -1
LANE_RANDOM: Final = -2
LANE_FREE: Final = -3
LANE_FIRST: Final = -4

#: depart_pos_kind codes
POS_NUMBER: Final = 0  # depart_pos metres (negative: from the lane end)
POS_BASE: Final = 1  # the back at the lane start
POS_RANDOM: Final = 2
POS_FREE: Final = 3
POS_LAST: Final = 4

#: depart_speed_kind codes
SPEED_NUMBER: Final = 0
SPEED_MAX: Final = 1
SPEED_DESIRED: Final = 2
SPEED_RANDOM: Final = 3

#: SUMO attribute values -> codes (several names may share a code; the first is written back)
LANE_CODES: Final[dict[str, int]] = {
    "best": LANE_BEST,
    "random": LANE_RANDOM,
    "free": LANE_FREE,
    "first": LANE_FIRST,
    "allowed": LANE_FREE,
}
POS_CODES: Final[dict[str, int]] = {
    "base": POS_BASE,
    "random": POS_RANDOM,
    "free": POS_FREE,
    "last": POS_LAST,
    "random_free": POS_FREE,
    "first": POS_BASE,
    "stop": POS_BASE,
    "splitFront": POS_BASE,
}
SPEED_CODES: Final[dict[str, int]] = {
    "max": SPEED_MAX,
    "desired": SPEED_DESIRED,
    "random": SPEED_RANDOM,
    "speedLimit": SPEED_MAX,
    "avg": SPEED_MAX,
}


def code_names(codes: dict[str, int]) -> dict[int, str]:
    """code -> the SUMO value written for it (the first name of each code)."""
    out: dict[int, str] = {}
    for name, code in codes.items():
        out.setdefault(code, name)
    return out


#: classes that carry an OBU by default
CONNECTED_CLASSES: Final = frozenset({classes.BUS, classes.ROBOTAXI})


def _f(n: int = 0) -> F64:
    return np.zeros(n, dtype=np.float64)


def _i(n: int = 0) -> I64:
    return np.zeros(n, dtype=np.int64)


def _off() -> I64:
    return np.zeros(1, dtype=np.int64)


@dataclass(eq=False)
class Demand:
    """N vehicles sorted by departure time; arrays have shape (N,) unless said otherwise.

    Attributes
    ----------
    ids
        Vehicle ids (``<U40``).
    depart
        Scheduled departure, s since the simulation start.
    vtype
        Index into ``vtypes``.
    speed_factor
        Per-vehicle multiplier of the speed limit (the desired speed), sampled once.
    route_edges, route_offsets
        Flat edge indices (into ``net.edge_ids``) and (N + 1,) offsets.
    depart_lane, depart_pos, depart_pos_kind, depart_speed, depart_speed_kind
        SUMO's departLane / departPos / departSpeed (codes above); metres, m/s.
    arrival_pos
        Metres along the last edge's lane (negative: from its end; NaN: the end).
    line
        Bus line name ("" for vehicles that are not on a line), ``<U16``.
    connected
        True for vehicles carrying an OBU.
    stop_offsets
        (N + 1,) offsets into the flat stop arrays (Q stops in all).
    stop_bus, stop_parking
        (Q,) bus-stop / parking-area index of each stop (-1 when the stop is not one).
    stop_lane, stop_pos
        (Q,) lane index and the position on it where the front stops, m.
    stop_duration, stop_until
        (Q,) dwell s and the timetable departure s (NaN when none).
    problems
        Input set aside while loading, each naming the element and the reason.
    """

    vtypes: VTypes = field(default_factory=default_vtypes)
    ids: S = field(default_factory=lambda: np.zeros(0, dtype="<U40"))
    depart: F64 = field(default_factory=_f)
    vtype: I64 = field(default_factory=_i)
    speed_factor: F64 = field(default_factory=_f)
    route_edges: I64 = field(default_factory=_i)
    route_offsets: I64 = field(default_factory=_off)
    depart_lane: I64 = field(default_factory=_i)
    depart_pos: F64 = field(default_factory=_f)
    depart_pos_kind: I64 = field(default_factory=_i)
    depart_speed: F64 = field(default_factory=_f)
    depart_speed_kind: I64 = field(default_factory=_i)
    arrival_pos: F64 = field(default_factory=_f)
    line: S = field(default_factory=lambda: np.zeros(0, dtype="<U16"))
    connected: B = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    stop_offsets: I64 = field(default_factory=_off)
    stop_bus: I64 = field(default_factory=_i)
    stop_parking: I64 = field(default_factory=_i)
    stop_lane: I64 = field(default_factory=_i)
    stop_pos: F64 = field(default_factory=_f)
    stop_duration: F64 = field(default_factory=_f)
    stop_until: F64 = field(default_factory=_f)
    problems: list[str] = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def cls(self) -> npt.NDArray[np.uint8]:
        """(N,) ObjectClass of every vehicle."""
        out: npt.NDArray[np.uint8] = self.vtypes.cls[self.vtype]
        return out

    def route(self, i: int) -> I64:
        """Edge indices of vehicle ``i``'s route."""
        return self.route_edges[self.route_offsets[i] : self.route_offsets[i + 1]]

    def set_connected(self, share: float, cls: set[int] | frozenset[int] | None = None, seed: int = 0) -> int:
        """Choose the OBU carriers: buses and robotaxis always, a ``share`` of the other vehicles.

        Parameters
        ----------
        share
            Probability, 0..1, that a vehicle of a class in ``cls`` carries an OBU.
        cls
            The classes the share applies to (default: every class but bus and robotaxi).
        seed
            Seeds the draw; the same demand and seed give the same carriers.

        Returns
        -------
        int
            The number of connected vehicles.
        """
        c = self.cls
        pick = ~np.isin(c, list(CONNECTED_CLASSES)) if cls is None else np.isin(c, list(cls))
        u = np.random.default_rng([seed, 0x0B0]).random(len(self))
        self.connected = np.isin(c, list(CONNECTED_CLASSES)) | (pick & (u < share))
        return int(self.connected.sum())


class DemandBuilder:
    """Collects vehicles one by one (loaders) and builds a sorted :class:`Demand`.

    Parameters
    ----------
    vtypes
        The type table the vehicles refer to.
    seed
        Seeds the speed-factor draw.
    source
        A name for messages.
    """

    def __init__(self, vtypes: VTypes | None = None, *, seed: int = 0, source: str = "") -> None:
        self.vtypes = vtypes or default_vtypes()
        self.seed = seed
        self.source = source
        self.problems: list[str] = []
        self._rows: list[tuple[str, float, int, list[int], int, float, int, float, int, float, str]] = []
        self._stops: list[list[tuple[int, int, int, float, float, float]]] = []
        self._speed_factor: list[float] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(
        self,
        vid: str,
        depart: float,
        vtype: int,
        edges: list[int],
        *,
        depart_lane: int = LANE_BEST,
        depart_pos: float = 0.0,
        depart_pos_kind: int = POS_BASE,
        depart_speed: float = 0.0,
        depart_speed_kind: int = SPEED_NUMBER,
        arrival_pos: float = float("nan"),
        line: str = "",
        stops: list[tuple[int, int, int, float, float, float]] | None = None,
        speed_factor: float = float("nan"),
    ) -> None:
        """Add one vehicle.

        ``stops`` are (bus_stop, parking, lane, pos, duration, until) tuples (-1 / NaN for none);
        ``speed_factor`` NaN draws one from the type's distribution.
        """
        self._rows.append(
            (
                vid,
                float(depart),
                int(vtype),
                list(edges),
                int(depart_lane),
                float(depart_pos),
                int(depart_pos_kind),
                float(depart_speed),
                int(depart_speed_kind),
                float(arrival_pos),
                line,
            )
        )
        self._stops.append(list(stops or []))
        self._speed_factor.append(float(speed_factor))

    def build(self) -> Demand:
        """Sort by departure (ties keep the order added) and make the flat arrays."""
        n = len(self._rows)
        dep = np.array([r[1] for r in self._rows], dtype=np.float64)
        order = np.argsort(dep, kind="stable")
        rows = [self._rows[i] for i in order]
        stops = [self._stops[i] for i in order]
        sf = np.array([self._speed_factor[i] for i in order], dtype=np.float64).reshape(n)
        d = Demand(vtypes=self.vtypes, source=self.source, problems=list(self.problems))
        d.ids = np.array([r[0] for r in rows], dtype="<U40").reshape(n)
        d.depart = dep[order]
        d.vtype = np.array([r[2] for r in rows], dtype=np.int64).reshape(n)
        lens = np.array([len(r[3]) for r in rows], dtype=np.int64).reshape(n)
        d.route_offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        d.route_edges = np.array([e for r in rows for e in r[3]], dtype=np.int64)
        d.depart_lane = np.array([r[4] for r in rows], dtype=np.int64).reshape(n)
        d.depart_pos = np.array([r[5] for r in rows], dtype=np.float64).reshape(n)
        d.depart_pos_kind = np.array([r[6] for r in rows], dtype=np.int64).reshape(n)
        d.depart_speed = np.array([r[7] for r in rows], dtype=np.float64).reshape(n)
        d.depart_speed_kind = np.array([r[8] for r in rows], dtype=np.int64).reshape(n)
        d.arrival_pos = np.array([r[9] for r in rows], dtype=np.float64).reshape(n)
        d.line = np.array([r[10] for r in rows], dtype="<U16").reshape(n)
        drawn = sample_speed_factors(self.vtypes, d.vtype, np.random.default_rng([self.seed, 0x5F]))
        d.speed_factor = np.where(np.isnan(sf), drawn, sf)
        d.connected = np.isin(d.cls, list(CONNECTED_CLASSES))
        slen = np.array([len(s) for s in stops], dtype=np.int64).reshape(n)
        d.stop_offsets = np.concatenate([[0], np.cumsum(slen)]).astype(np.int64)
        flat = [q for s in stops for q in s]
        cols = list(zip(*flat, strict=True)) if flat else [(), (), (), (), (), ()]
        d.stop_bus = np.array(cols[0], dtype=np.int64)
        d.stop_parking = np.array(cols[1], dtype=np.int64)
        d.stop_lane = np.array(cols[2], dtype=np.int64)
        d.stop_pos = np.array(cols[3], dtype=np.float64)
        d.stop_duration = np.array(cols[4], dtype=np.float64)
        d.stop_until = np.array(cols[5], dtype=np.float64)
        return d


def concat(parts: list[Demand]) -> Demand:
    """One demand from several (same type table expected: the first part's is kept), re-sorted."""
    if not parts:
        return Demand()
    vt = parts[0].vtypes
    b = DemandBuilder(vt, source="+".join(p.source for p in parts if p.source))
    for p in parts:
        remap = np.array(
            [vt.index(t) if vt.index(t) >= 0 else vt.add(t, p.vtypes.vclass[i]) for i, t in enumerate(p.vtypes.ids)]
        )
        for i in range(len(p)):
            a, z = p.stop_offsets[i], p.stop_offsets[i + 1]
            stops = [
                (
                    int(p.stop_bus[q]),
                    int(p.stop_parking[q]),
                    int(p.stop_lane[q]),
                    float(p.stop_pos[q]),
                    float(p.stop_duration[q]),
                    float(p.stop_until[q]),
                )
                for q in range(a, z)
            ]
            b.add(
                str(p.ids[i]),
                float(p.depart[i]),
                int(remap[p.vtype[i]]) if len(remap) else 0,
                [int(e) for e in p.route(i)],
                depart_lane=int(p.depart_lane[i]),
                depart_pos=float(p.depart_pos[i]),
                depart_pos_kind=int(p.depart_pos_kind[i]),
                depart_speed=float(p.depart_speed[i]),
                depart_speed_kind=int(p.depart_speed_kind[i]),
                arrival_pos=float(p.arrival_pos[i]),
                line=str(p.line[i]),
                stops=stops,
                speed_factor=float(p.speed_factor[i]),
            )
        b.problems.extend(p.problems)
    d = b.build()
    conn = np.concatenate([p.connected for p in parts])
    ids = np.concatenate([p.ids for p in parts])
    lookup = dict(zip(ids.tolist(), conn.tolist(), strict=True))
    d.connected = np.array([lookup[i] for i in d.ids.tolist()], dtype=np.bool_).reshape(len(d))
    return d
