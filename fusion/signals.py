"""Signal states as the traffic picture takes them, and the map's links they refer to.

Signal input shape
    One SUMO state character per signal link, flat over the network's controllers: the links
    of controller ``t`` are elements ``net.tls_link_offsets[t] .. net.tls_link_offsets[t + 1]``
    (K = ``len(net.link_group)`` in all), dtype ``<U1``. Characters as in SUMO: ``r`` red,
    ``u`` red-amber, ``y``/``Y`` amber, ``g`` permissive green, ``G`` protected green, ``s``
    green after stopping, ``o``/``O`` off. :func:`link_states` builds it from one state string
    per controller (a SUMO phase, or ``Spat.link_state``); a missing controller is ``O`` (off).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from fusion.arraytypes import BoolArray, IntArray
from roadnet import RoadNetwork
from roadnet.model import CROSSING

#: State characters that let a movement go.
GREEN = ("g", "G")
#: State characters that forbid crossing the stop line.
RED = ("r", "u")


def link_states(net: RoadNetwork, states: Mapping[str, str]) -> npt.NDArray[np.str_]:
    """The (K,) link-state array from ``{controller id: state string}``.

    Raises
    ------
    ValueError
        When a controller is unknown or its string has the wrong length.
    """
    out = np.full(len(net.link_group), "O", dtype="<U1")
    for tid, state in states.items():
        t = net.tls_index_of.get(tid)
        if t is None:
            raise ValueError(f"signal controller {tid!r} is not in the map")
        a, b = int(net.tls_link_offsets[t]), int(net.tls_link_offsets[t + 1])
        if len(state) != b - a:
            raise ValueError(f"signal controller {tid!r} has {b - a} links, state {state!r} has {len(state)}")
        out[a:b] = list(state)
    return out


@dataclass(frozen=True)
class SignalLinks:
    """Which signal link governs a movement, precomputed from the map.

    Attributes
    ----------
    conn_link
        (C,) global link index of each connection, -1 when unsignalised.
    lane_link
        (L,) link of an internal lane's connection, -1 for other lanes.
    pair_key, pair_link
        Sorted ``from_lane * L + to_lane`` keys of the signalised connections and their links.
    from_off, from_links
        CSR: the links leaving each lane (``from_links[from_off[l]:from_off[l + 1]]``).
    zone_lanes
        (Z,) lanes where a pedestrian conflicts with vehicles: internal lanes of signalised
        connections, and crossing lanes.
    zone_off, zone_links, zone_protected_only
        CSR of the links whose green makes a zone dangerous; for a crossing only protected
        greens count (a permissive green yields to the pedestrian).
    """

    conn_link: IntArray
    lane_link: IntArray
    pair_key: IntArray
    pair_link: IntArray
    from_off: IntArray
    from_links: IntArray
    zone_lanes: IntArray
    zone_off: IntArray
    zone_links: IntArray
    zone_protected_only: BoolArray

    @classmethod
    def of(cls, net: RoadNetwork) -> SignalLinks:
        """Precompute the link tables of ``net``."""
        n_lanes = len(net.lane_ids)
        sig = (net.conn_tls >= 0) & (net.conn_link >= 0)
        conn_link = np.where(sig, net.tls_link_offsets[np.maximum(net.conn_tls, 0)] + net.conn_link, -1)
        lane_link = np.full(n_lanes, -1, dtype=np.int64)
        first_via = net.conn_via_offsets[:-1]
        has_via = np.diff(net.conn_via_offsets) > 0
        via_lane = net.conn_via_lanes[first_via[has_via]]
        lane_link[via_lane] = conn_link[has_via]
        c = np.flatnonzero(sig)
        key = net.conn_from_lane[c] * n_lanes + net.conn_to_lane[c]
        order = np.argsort(key)
        fl = net.conn_from_lane[c]
        by_from = np.argsort(fl, kind="stable")
        from_off = np.zeros(n_lanes + 1, dtype=np.int64)
        np.cumsum(np.bincount(fl, minlength=n_lanes), out=from_off[1:])
        # pedestrian zones: vehicle paths through signalised junctions, then crossings
        internal = np.flatnonzero((lane_link >= 0) & net.lane_internal)
        crossing = np.flatnonzero(net.edge_function[net.lane_edge] == CROSSING)
        zone_lists: list[IntArray] = [lane_link[[i]] for i in internal]
        if len(crossing) and len(internal):
            paths = shapely.linestrings([net.lane_shape(int(i)) for i in internal])
            walks = shapely.linestrings([net.lane_shape(int(i)) for i in crossing])
            cuts = shapely.intersects(walks[:, None], paths[None, :])
            zone_lists += [lane_link[internal[row]] for row in cuts]
        else:
            zone_lists += [np.zeros(0, dtype=np.int64) for _ in crossing]
        zone_off = np.zeros(len(zone_lists) + 1, dtype=np.int64)
        np.cumsum([len(z) for z in zone_lists], out=zone_off[1:])
        zone_links = np.concatenate(zone_lists) if zone_lists else np.zeros(0, dtype=np.int64)
        return cls(
            conn_link=conn_link,
            lane_link=lane_link,
            pair_key=key[order],
            pair_link=conn_link[c][order],
            from_off=from_off,
            from_links=conn_link[c][by_from],
            zone_lanes=np.concatenate([internal, crossing]).astype(np.int64),
            zone_off=zone_off,
            zone_links=zone_links.astype(np.int64),
            zone_protected_only=np.r_[np.zeros(len(internal), bool), np.ones(len(crossing), bool)],
        )

    def movement_link(self, from_lane: IntArray, to_lane: IntArray, n_lanes: int) -> IntArray:
        """Link of the movement from ``from_lane`` into ``to_lane`` (each (k,)), -1 when unknown.

        ``to_lane`` may be the movement's internal lane or its outgoing lane.
        """
        link = self.lane_link[to_lane].copy()
        if len(self.pair_key):
            key = from_lane * n_lanes + to_lane
            pos = np.minimum(np.searchsorted(self.pair_key, key), len(self.pair_key) - 1)
            found = (link < 0) & (self.pair_key[pos] == key)
            link[found] = self.pair_link[pos[found]]
        return link

    def all_red_from(self, red: BoolArray) -> BoolArray:
        """(L,) lanes whose every signalised movement is red, given (K,) red links (False if none)."""
        n_links = np.diff(self.from_off)
        owner = np.repeat(np.arange(len(n_links)), n_links)
        reds = np.bincount(owner, weights=red[self.from_links], minlength=len(n_links))
        return np.asarray((n_links > 0) & (reds == n_links))

    def zone_green(self, green: BoolArray, protected: BoolArray) -> BoolArray:
        """(Z,) zones with a dangerous green, given (K,) green and protected-green links."""
        z = len(self.zone_lanes)
        if len(self.zone_links) == 0:
            return np.zeros(z, dtype=np.bool_)
        owner = np.repeat(np.arange(z), np.diff(self.zone_off))
        hot = np.where(self.zone_protected_only[owner], protected[self.zone_links], green[self.zone_links])
        return np.asarray(np.bincount(owner[hot], minlength=z) > 0)
