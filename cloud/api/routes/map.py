"""``/api/v1/map``: the geometry the dashboard draws (no tiles): lanes, junctions, signal heads."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter

from cloud.api.deps import AnyUser, RuntimeDep
from cloud.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["map"])


def map_json(rt: Runtime) -> dict[str, Any]:
    """Lanes as flat local coordinates + offsets (m), junction outlines and centres, signal heads."""
    net = rt.net
    heads = rt.signals.heads
    internal = net.lane_internal
    lat0, lon0 = net.frame.to_wgs84(0.0, 0.0)
    return {
        "source": net.source,
        "origin": {"lat": float(lat0), "lon": float(lon0)},
        "bbox_local": list(net.bbox()),
        "bbox_wgs84": net.bbox_wgs84(),
        "lanes": {
            "id": net.lane_ids,
            "internal": internal.tolist(),
            "width": np.round(net.lane_width, 2).tolist(),
            "xy": np.round(net.lane_shape_xy, 2).ravel().tolist(),
            "offsets": net.lane_shape_offsets.tolist(),
        },
        "junctions": {
            "id": net.junction_ids,
            "x": np.round(net.junction_xy[:, 0], 2).tolist(),
            "y": np.round(net.junction_xy[:, 1], 2).tolist(),
            "shape_xy": np.round(net.junction_shape_xy, 2).ravel().tolist(),
            "shape_offsets": net.junction_shape_offsets.tolist(),
        },
        "signal_heads": {
            "junction_id": [net.tls_ids[t] for t in heads.tls.tolist()],
            "group_id": heads.group.tolist(),
            "lane": heads.lane.tolist(),
            "x": np.round(heads.xy[:, 0], 2).tolist(),
            "y": np.round(heads.xy[:, 1], 2).tolist(),
            "heading": np.round(heads.heading, 3).tolist(),
        },
        "signals": net.tls_ids,
    }


@router.get("/map")
async def map_(rt: RuntimeDep, _: AnyUser) -> dict[str, Any]:
    """The map's geometry in the local frame, with its origin and WGS84 extent."""
    if "map" not in rt.cache:
        rt.cache["map"] = map_json(rt)
    out: dict[str, Any] = rt.cache["map"]
    return out
