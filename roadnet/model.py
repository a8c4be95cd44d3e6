"""The road-network model: flat arrays for every element, ragged data as values + offsets.

Indices, not ids, link the tables: ``lane_edge[i]`` is an index into the edge table,
``conn_from_lane[c]`` into the lane table, and so on; ``-1`` means "none". Ragged data (lane
polylines, junction shapes, the internal lanes a connection drives through, the junctions of a
signal controller, the phases of a program) is stored as a flat array plus an ``offsets`` array
of length ``n + 1`` (the items of element ``i`` are ``flat[offsets[i]:offsets[i + 1]]``), as in
shapely's ragged arrays.

Units: metres, seconds, m/s, in the local frame of :mod:`roadnet.frames`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from roadnet.frames import Frame

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U16 = npt.NDArray[np.uint16]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]

#: edge_function codes
NORMAL: Final = 0
INTERNAL: Final = 1
CROSSING: Final = 2
WALKINGAREA: Final = 3
EDGE_FUNCTIONS: Final = ("normal", "internal", "crossing", "walkingarea")

#: detector kinds
DETECTOR_KINDS: Final = ("e1", "e2", "e3")


def _i(n: int = 0) -> I64:
    return np.zeros(n, dtype=np.int64)


def _f(n: int = 0) -> F64:
    return np.zeros(n, dtype=np.float64)


def _xy() -> F64:
    return np.zeros((0, 2), dtype=np.float64)


def _offsets() -> I64:
    return np.zeros(1, dtype=np.int64)


@dataclass(eq=False)
class RoadNetwork:
    """A road network as flat arrays; see the module docstring for the conventions.

    Shapes: J junctions, E edges, L lanes, C connections, T signal controllers with
    ``tls_n_links[t]`` links each (K links in all), P programs with H phases in all,
    D detectors, S bus stops, A parking areas.
    """

    # frame
    proj: str = ""
    offset: tuple[float, float] = (0.0, 0.0)
    georeferenced: bool = True
    source: str = ""

    # junctions (J)
    junction_ids: list[str] = field(default_factory=list)
    junction_type: list[str] = field(default_factory=list)
    junction_xy: F64 = field(default_factory=_xy)  # (J, 2)
    junction_shape_xy: F64 = field(default_factory=_xy)  # (*, 2) polygon vertices
    junction_shape_offsets: I64 = field(default_factory=_offsets)  # (J + 1,)
    #: request tables: junction j has n_j = junction_n_requests[j] links; foes / response are
    #: n_j x n_j boolean matrices stored row-major from junction_mat_offsets[j].
    #: foes[a, b]: links a and b conflict; response[a, b]: link a must yield to link b.
    junction_n_requests: I64 = field(default_factory=_i)  # (J,)
    junction_mat_offsets: I64 = field(default_factory=_offsets)  # (J + 1,)
    junction_foes: B = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    junction_response: B = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    # edges (E)
    edge_ids: list[str] = field(default_factory=list)
    edge_from: I64 = field(default_factory=_i)  # junction index, -1 none
    edge_to: I64 = field(default_factory=_i)
    edge_function: U8 = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    edge_priority: I64 = field(default_factory=_i)
    edge_name: list[str] = field(default_factory=list)
    edge_lane_offsets: I64 = field(default_factory=_offsets)  # (E + 1,): lanes sorted by edge

    # lanes (L)
    lane_ids: list[str] = field(default_factory=list)
    lane_edge: I64 = field(default_factory=_i)
    lane_index: I64 = field(default_factory=_i)  # 0 = rightmost
    lane_length: F64 = field(default_factory=_f)  # m (SUMO's own length where imported)
    lane_width: F64 = field(default_factory=_f)  # m
    lane_speed: F64 = field(default_factory=_f)  # speed limit, m/s
    lane_allow: U16 = field(default_factory=lambda: np.zeros(0, dtype=np.uint16))  # roadnet.classes
    lane_shape_xy: F64 = field(default_factory=_xy)  # (*, 2) polyline vertices, driving direction
    lane_shape_offsets: I64 = field(default_factory=_offsets)  # (L + 1,)

    # connections (C): lane-to-lane movements through a junction
    conn_from_lane: I64 = field(default_factory=_i)
    conn_to_lane: I64 = field(default_factory=_i)
    conn_via_lanes: I64 = field(default_factory=_i)  # flat internal lanes driven through
    conn_via_offsets: I64 = field(default_factory=_offsets)  # (C + 1,)
    conn_dir: list[str] = field(default_factory=list)  # s, l, r, t, L, R (SUMO)
    conn_state: list[str] = field(default_factory=list)  # SUMO default link state (M, m, =, s, w, O, ...)
    conn_junction: I64 = field(default_factory=_i)
    conn_request: I64 = field(default_factory=_i)  # index into its junction's request table, -1
    conn_tls: I64 = field(default_factory=_i)  # signal controller, -1
    conn_link: I64 = field(default_factory=_i)  # link index within the controller, -1

    # signal controllers (T)
    tls_ids: list[str] = field(default_factory=list)
    tls_junctions: I64 = field(default_factory=_i)
    tls_junction_offsets: I64 = field(default_factory=_offsets)  # (T + 1,)
    tls_n_links: I64 = field(default_factory=_i)  # (T,)
    tls_active_program: I64 = field(default_factory=_i)  # (T,) index into programs
    #: signal group (1-based) of each link, flat over controllers: link k of controller t is
    #: element tls_link_offsets[t] + k.
    link_group: I64 = field(default_factory=_i)
    tls_link_offsets: I64 = field(default_factory=_offsets)

    # programs (P) and phases (H)
    program_tls: I64 = field(default_factory=_i)
    program_ids: list[str] = field(default_factory=list)
    program_type: list[str] = field(default_factory=list)
    program_offset: F64 = field(default_factory=_f)  # s
    program_phase_offsets: I64 = field(default_factory=_offsets)  # (P + 1,)
    phase_duration: F64 = field(default_factory=_f)  # s
    phase_min: F64 = field(default_factory=_f)  # s
    phase_max: F64 = field(default_factory=_f)  # s
    phase_state: list[str] = field(default_factory=list)  # one SUMO state char per link
    phase_name: list[str] = field(default_factory=list)

    # detectors (D)
    detector_ids: list[str] = field(default_factory=list)
    detector_kind: list[str] = field(default_factory=list)
    detector_lane: I64 = field(default_factory=_i)
    detector_pos: F64 = field(default_factory=_f)  # m from lane start
    detector_length: F64 = field(default_factory=_f)  # m (0 for e1)
    detector_period: F64 = field(default_factory=_f)  # s

    # bus stops (S)
    stop_ids: list[str] = field(default_factory=list)
    stop_name: list[str] = field(default_factory=list)
    stop_lane: I64 = field(default_factory=_i)
    stop_start: F64 = field(default_factory=_f)
    stop_end: F64 = field(default_factory=_f)
    stop_lines: list[str] = field(default_factory=list)  # space separated line names

    # parking areas (A)
    parking_ids: list[str] = field(default_factory=list)
    parking_name: list[str] = field(default_factory=list)
    parking_lane: I64 = field(default_factory=_i)
    parking_start: F64 = field(default_factory=_f)
    parking_end: F64 = field(default_factory=_f)
    parking_capacity: I64 = field(default_factory=_i)

    # ------------------------------------------------------------------ frame
    @cached_property
    def frame(self) -> Frame:
        """The WGS84 <-> local frame of this map."""
        return Frame(self.proj, self.offset)

    # ------------------------------------------------------------------ lookups
    @cached_property
    def lane_index_of(self) -> dict[str, int]:
        """Lane id -> lane index."""
        return {k: i for i, k in enumerate(self.lane_ids)}

    @cached_property
    def edge_index_of(self) -> dict[str, int]:
        """Edge id -> edge index."""
        return {k: i for i, k in enumerate(self.edge_ids)}

    @cached_property
    def junction_index_of(self) -> dict[str, int]:
        """Junction id -> junction index."""
        return {k: i for i, k in enumerate(self.junction_ids)}

    @cached_property
    def tls_index_of(self) -> dict[str, int]:
        """Signal controller id -> controller index."""
        return {k: i for i, k in enumerate(self.tls_ids)}

    # ------------------------------------------------------------------ derived masks
    @property
    def lane_internal(self) -> B:
        """(L,) True for lanes inside junctions (internal, crossing, walking area)."""
        out: B = self.edge_function[self.lane_edge] != NORMAL
        return out

    @property
    def junction_internal(self) -> B:
        """(J,) True for SUMO internal junctions (kept out of the table on import: all False)."""
        out: B = np.array([t == "internal" for t in self.junction_type], dtype=np.bool_)
        return out

    @cached_property
    def lane_end_junction(self) -> I64:
        """(L,) junction at the end of each lane (-1 for internal lanes or open ends)."""
        j = self.edge_to[self.lane_edge].copy()
        j[self.lane_internal] = -1
        return j

    @cached_property
    def lane_signalised(self) -> B:
        """(L,) True when a connection leaving the lane is controlled by a signal."""
        out = np.zeros(len(self.lane_ids), dtype=np.bool_)
        out[self.conn_from_lane[self.conn_tls >= 0]] = True
        return out

    @cached_property
    def tls_link_conns(self) -> list[I64]:
        """Per controller, (K_t,) the first connection index of each link (-1 when unused)."""
        out = []
        for t in range(len(self.tls_ids)):
            a = np.full(int(self.tls_n_links[t]), -1, dtype=np.int64)
            cs = np.flatnonzero(self.conn_tls == t)
            links = self.conn_link[cs]
            ok = (links >= 0) & (links < len(a))
            # first connection of each link index wins
            for c, k in zip(cs[ok][::-1], links[ok][::-1], strict=True):
                a[k] = c
            out.append(a)
        return out

    # ------------------------------------------------------------------ ragged accessors
    def lane_shape(self, lane: int) -> F64:
        """(k, 2) polyline of one lane, metres."""
        a, b = self.lane_shape_offsets[lane], self.lane_shape_offsets[lane + 1]
        return self.lane_shape_xy[a:b]

    def junction_shape(self, j: int) -> F64:
        """(k, 2) outline polygon of one junction (may be empty)."""
        a, b = self.junction_shape_offsets[j], self.junction_shape_offsets[j + 1]
        return self.junction_shape_xy[a:b]

    def edge_lanes(self, e: int) -> I64:
        """Lane indices of edge ``e``, rightmost first."""
        return np.arange(self.edge_lane_offsets[e], self.edge_lane_offsets[e + 1])

    def conn_via(self, c: int) -> I64:
        """Internal lanes connection ``c`` drives through, in order."""
        return self.conn_via_lanes[self.conn_via_offsets[c] : self.conn_via_offsets[c + 1]]

    def tls_junction_list(self, t: int) -> I64:
        """Junction indices controlled by controller ``t``."""
        return self.tls_junctions[self.tls_junction_offsets[t] : self.tls_junction_offsets[t + 1]]

    def tls_groups(self, t: int) -> I64:
        """(K_t,) signal group (1-based) of each link of controller ``t``."""
        return self.link_group[self.tls_link_offsets[t] : self.tls_link_offsets[t + 1]]

    def programs_of(self, t: int) -> I64:
        """Program indices of controller ``t``."""
        return np.flatnonzero(self.program_tls == t)

    def phases(self, p: int) -> range:
        """Phase indices (into the phase_* arrays) of program ``p``."""
        return range(int(self.program_phase_offsets[p]), int(self.program_phase_offsets[p + 1]))

    def request_tables(self, j: int) -> tuple[B, B]:
        """(foes, response) of junction ``j``, each (n, n) boolean."""
        n = int(self.junction_n_requests[j])
        a = int(self.junction_mat_offsets[j])
        return (
            self.junction_foes[a : a + n * n].reshape(n, n),
            self.junction_response[a : a + n * n].reshape(n, n),
        )

    # ------------------------------------------------------------------ conflicts
    def tls_conflicts(self, t: int) -> tuple[B, B]:
        """Conflict relation between the links of controller ``t``.

        Returns
        -------
        foes
            (K, K) bool: links whose movements cross or merge.
        yields
            (K, K) bool: ``yields[a, b]`` when link a must give way to link b if both are green.
        """
        return self._tls_conflicts[t]

    @cached_property
    def _tls_conflicts(self) -> list[tuple[B, B]]:
        out: list[tuple[B, B]] = []
        for t in range(len(self.tls_ids)):
            k = int(self.tls_n_links[t])
            foes = np.zeros((k, k), dtype=np.bool_)
            yields = np.zeros((k, k), dtype=np.bool_)
            cs = np.flatnonzero((self.conn_tls == t) & (self.conn_link >= 0) & (self.conn_request >= 0))
            for j in np.unique(self.conn_junction[cs]):
                cj = cs[self.conn_junction[cs] == j]
                f, r = self.request_tables(int(j))
                req = self.conn_request[cj]
                lk = self.conn_link[cj]
                ok = (req < f.shape[0]) & (lk < k)
                req, lk = req[ok], lk[ok]
                sub_f = f[np.ix_(req, req)]
                sub_r = r[np.ix_(req, req)]
                ii, jj = np.nonzero(sub_f)
                foes[lk[ii], lk[jj]] = True
                ii, jj = np.nonzero(sub_r)
                yields[lk[ii], lk[jj]] = True
            # a relation between a link and itself (several connections on one link) is no conflict
            np.fill_diagonal(foes, False)
            np.fill_diagonal(yields, False)
            foes |= foes.T
            out.append((foes, yields))
        return out

    # ------------------------------------------------------------------ geometry helpers
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_x, min_y, max_x, max_y) of all lane geometry, metres."""
        xy = self.lane_shape_xy if len(self.lane_shape_xy) else self.junction_xy
        if len(xy) == 0:
            return (0.0, 0.0, 0.0, 0.0)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def bbox_wgs84(self) -> list[float]:
        """[min_lon, min_lat, max_lon, max_lat] of all lane geometry."""
        x0, y0, x1, y1 = self.bbox()
        xs = np.array([x0, x1, x1, x0])
        ys = np.array([y0, y0, y1, y1])
        lat, lon = self.frame.to_wgs84(xs, ys)
        return [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]

    # ------------------------------------------------------------------ equality
    def same_as(self, other: RoadNetwork) -> list[str]:
        """Names of the fields that differ from ``other`` (empty when identical)."""
        diff = []
        for f in fields(self):
            a: Any = getattr(self, f.name)
            b: Any = getattr(other, f.name)
            if isinstance(a, np.ndarray):
                if not (isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)):
                    diff.append(f.name)
            elif a != b:
                diff.append(f.name)
        return diff
