"""A summary of a network for people and scripts (``xj map info``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from roadnet import classes
from roadnet.model import RoadNetwork

SIGNAL_JUNCTION_TYPES = ("traffic_light", "traffic_light_right_on_red", "traffic_light_unregulated")


def summary(net: RoadNetwork) -> dict[str, Any]:
    """Counts and extent of a network.

    Keys: ``junctions`` (not internal), ``signalised_junctions`` (of a traffic-light type),
    ``signal_controllers``, ``signal_programs``, ``edges`` and ``lanes`` (not internal),
    ``internal_lanes``, ``connections``, ``bus_lanes``, ``bus_stops``, ``parking_areas``,
    ``parking_capacity``, ``detectors``, ``lane_km``, ``bbox_wgs84`` ([min_lon, min_lat, max_lon,
    max_lat]), ``bbox_local`` (m), ``georeferenced``, ``projection``, ``source``.
    """
    internal = net.lane_internal
    normal_edges = int((net.edge_function == 0).sum())
    bus = (net.lane_allow & np.uint16(classes.bit(classes.BUS))) != 0
    car = (net.lane_allow & np.uint16(classes.bit(classes.CAR))) != 0
    return {
        "source": net.source,
        "junctions": int((~net.junction_internal).sum()),
        "signalised_junctions": int(sum(t in SIGNAL_JUNCTION_TYPES for t in net.junction_type)),
        "signal_controllers": len(net.tls_ids),
        "signal_programs": len(net.program_ids),
        "edges": normal_edges,
        "lanes": int((~internal).sum()),
        "internal_lanes": int(internal.sum()),
        "connections": len(net.conn_dir),
        "bus_lanes": int((bus & ~car & ~internal).sum()),
        "bus_stops": len(net.stop_ids),
        "parking_areas": len(net.parking_ids),
        "parking_capacity": int(net.parking_capacity.sum()),
        "detectors": len(net.detector_ids),
        "lane_km": round(float(net.lane_length[~internal].sum()) / 1000.0, 3),
        "bbox_local": [round(v, 2) for v in net.bbox()],
        "bbox_wgs84": [round(v, 7) for v in net.bbox_wgs84()],
        "georeferenced": net.georeferenced,
        "projection": net.proj,
    }
