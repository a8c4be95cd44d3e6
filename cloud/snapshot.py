"""JSON-ready views of the live picture for the API and the dashboard.

Columnar on purpose (one list per attribute, like the contract's hot messages): the dashboard
draws from arrays, and a few thousand vehicles stay a few hundred kB. Positions are given in the
map's local frame (x, y metres, what ``/api/v1/map`` draws in) and in WGS84.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from google.protobuf.json_format import MessageToDict

from cloud.contracts import Picture
from proto import pb, units
from roadnet.model import RoadNetwork

JSON = dict[str, Any]


def message(msg: Any) -> JSON:
    """A protobuf message as a JSON dict with the .proto field names."""
    out: JSON = MessageToDict(msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    return out


def _r(a: np.ndarray, nd: int) -> list[float]:
    return np.round(np.nan_to_num(a.astype(np.float64), nan=-1.0), nd).tolist()  # type: ignore[no-any-return]


def vehicles(net: RoadNetwork, p: Picture) -> JSON:
    """Tracks as columns: id, x, y (m), lat, lon, speed m/s, heading rad (math), cls, vehicle_id, lane."""
    tr = p.tracks
    lat, lon = net.frame.to_wgs84(tr["x"], tr["y"]) if len(tr) else (np.zeros(0), np.zeros(0))
    return {
        "id": tr["track_id"].tolist(),
        "x": _r(tr["x"], 2),
        "y": _r(tr["y"], 2),
        "lat": _r(np.asarray(lat), 7),
        "lon": _r(np.asarray(lon), 7),
        "speed": _r(np.hypot(tr["vx"], tr["vy"]), 2),
        "heading": _r(np.arctan2(tr["vy"], tr["vx"]), 3),
        "cls": tr["cls"].tolist(),
        "length": _r(tr["length"], 1),
        "vehicle_id": tr["vehicle_id"].tolist(),
        "lane": p.lane.tolist(),
    }


def lanes(net: RoadNetwork, p: Picture) -> JSON:
    """Occupied or queued lanes: index, lane id, count, halting, queue_m, mean_speed (-1 empty)."""
    ls = p.lanes
    idx = np.flatnonzero((ls["count"] > 0) | (ls["queue_m"] > 0))
    return {
        "index": idx.tolist(),
        "lane_id": [net.lane_ids[i] for i in idx.tolist()],
        "count": ls["count"][idx].tolist(),
        "halting": ls["halting"][idx].tolist(),
        "queue_m": _r(ls["queue_m"][idx], 1),
        "mean_speed": _r(ls["mean_speed"][idx], 2),
    }


def signals(p: Picture) -> JSON:
    """Per controller: mode, phase, and state (proto LightState value) by signal group."""
    return {
        jid: {
            "mode": pb.ControlMode.Name(s.mode),
            "phase_index": s.phase_index,
            "program_id": s.program_id,
            "time": s.timestamp_ns / 1e9,
            "groups": {str(g.group_id): int(g.state) for g in s.groups},
            "likely_end": {str(g.group_id): g.likely_end_ns / 1e9 for g in s.groups},
        }
        for jid, s in sorted(p.signals.items())
    }


def event(net: RoadNetwork, e: pb.Event) -> JSON:
    """One event with its local position added (x, y m)."""
    d = message(e)
    x, y = net.frame.to_local(units.e7_to_deg(e.lat_e7), units.e7_to_deg(e.lon_e7))
    d["kind"] = pb.EventKind.Name(e.kind)
    d["x"], d["y"] = round(float(x), 2), round(float(y), 2)
    d["lat"], d["lon"] = float(units.e7_to_deg(e.lat_e7)), float(units.e7_to_deg(e.lon_e7))
    return d


def picture(net: RoadNetwork, p: Picture, kpis: JSON) -> JSON:
    """The whole live picture."""
    return {
        "t": p.t,
        "vehicles": vehicles(net, p),
        "lanes": lanes(net, p),
        "signals": signals(p),
        "events": [event(net, e) for e in p.events],
        "kpis": kpis,
    }
