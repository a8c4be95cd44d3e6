"""Fusion's traffic picture behind :class:`cloud.contracts.PictureBuilder`.

``fusion.Picture`` raises events once, in the tick they start; operators want the ones still
going. :class:`FusionPictureBuilder` keeps each raised event as a ``pb.Event`` while its track is
in the picture and for at most ``hold_s`` seconds, and feeds fusion the links' signal states from
the SPaT (``link_state``) so red-light and pedestrian events work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from cloud.contracts import Picture, StructArray
from fusion import Picture as FusionPicture
from fusion import link_states
from proto import pb, units
from roadnet.model import RoadNetwork

LOG = logging.getLogger("xiangjiang.cloud.picture")

_DESCRIPTION = {
    pb.EVENT_KIND_STOPPED_VEHICLE: "vehicle stopped outside a queue, stop or parking bay",
    pb.EVENT_KIND_WRONG_WAY: "vehicle driving against the lane",
    pb.EVENT_KIND_SPEEDING: "vehicle over the speed limit",
    pb.EVENT_KIND_RED_LIGHT_VIOLATION: "vehicle crossed the stop line on red",
    pb.EVENT_KIND_PEDESTRIAN_CONFLICT: "pedestrian on a vehicle path",
}


class FusionPictureBuilder:
    """Tracks -> :class:`cloud.contracts.Picture` through ``fusion.Picture``.

    Parameters
    ----------
    net
        The road network.
    hold_s
        Longest time an event stays in the picture after it was raised, s.
    """

    def __init__(self, net: RoadNetwork, hold_s: float = 120.0) -> None:
        self.net = net
        self.fusion = FusionPicture(net)
        self.hold_s = hold_s
        self._events: dict[str, tuple[float, int, pb.Event]] = {}  # id -> (raised t, track id, event)
        self._bad_spat = 0

    def _signals(self, signals: Mapping[str, pb.Spat]) -> np.ndarray | None:
        states = {j: s.link_state for j, s in signals.items() if s.link_state and j in self.net.tls_index_of}
        if not states:
            return None
        try:
            return link_states(self.net, states)
        except ValueError as exc:  # a controller whose link count disagrees with the map
            self._bad_spat += 1
            if self._bad_spat in (1, 100, 10_000):
                LOG.warning("SPaT link states ignored (%d times): %s", self._bad_spat, exc)
            return None

    def build(
        self,
        t: float,
        tracks: StructArray,
        signals: Mapping[str, pb.Spat],
        parking: Mapping[str, pb.ParkingStatus],
    ) -> Picture:
        """The picture at ``t``."""
        ps = self.fusion.update(t, tracks, self._signals(signals))
        self._take_events(t, ps.events)
        present = set(ps.tracks["track_id"].tolist()) if len(ps.tracks) else set()
        self._events = {
            k: v for k, v in self._events.items() if t - v[0] <= self.hold_s and (v[1] == 0 or v[1] in present)
        }
        return Picture(
            t,
            ps.tracks,
            ps.lane,
            ps.dist_to_stop,
            ps.lanes,
            [e for _, _, e in self._events.values()],
            dict(signals),
            dict(parking),
            edge_tt=ps.edges["travel_time"],
        )

    def _take_events(self, t: float, ev: StructArray) -> None:
        if len(ev) == 0:
            return
        lat, lon = self.net.frame.to_wgs84(ev["x"], ev["y"])
        lat7, lon7 = units.deg_to_e7(lat).tolist(), units.deg_to_e7(lon).tolist()
        lane_ids = self.net.lane_ids
        for i, row in enumerate(ev.tolist()):
            kind, te, track, lane, _x, _y, value, severity = row
            eid = f"{pb.EventKind.Name(kind).removeprefix('EVENT_KIND_').lower()}-{track}"
            if eid in self._events:
                continue
            e = pb.Event(
                event_id=eid,
                kind=kind,
                severity=severity,
                start_ns=int(te * 1e9),
                lat_e7=lat7[i],
                lon_e7=lon7[i],
                lane_id=lane_ids[lane] if 0 <= lane < len(lane_ids) else "",
                track_id=max(int(track), 0),
                description=f"{_DESCRIPTION.get(kind, 'event')} ({value:.1f})",
            )
            self._events[eid] = (t, int(track), e)
