"""``/api/v1/spat/near`` and ``/api/v1/parking/near``: what is around a WGS84 position."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query

from cloud.api.deps import ParkingReader, RuntimeDep, SpatReader
from cloud.snapshot import message

router = APIRouter(prefix="/api/v1", tags=["near"])

Lat = Annotated[float, Query(ge=-90.0, le=90.0, description="latitude, degrees WGS84")]
Lon = Annotated[float, Query(ge=-180.0, le=180.0, description="longitude, degrees WGS84")]


@router.get("/spat/near")
async def spat_near(
    rt: RuntimeDep,
    _: SpatReader,
    lat: Lat,
    lon: Lon,
    radius: Annotated[float, Query(gt=0.0, le=5000.0, description="metres")] = 500.0,
) -> dict[str, Any]:
    """SPaT of the signal controllers within ``radius`` m, nearest first."""
    net = rt.net
    x, y = net.frame.to_local(lat, lon)
    items: list[dict[str, Any]] = []
    for t, jid in enumerate(net.tls_ids):
        c = net.junction_xy[net.tls_junction_list(t)].mean(axis=0)
        d = float(np.hypot(c[0] - x, c[1] - y))
        if d <= radius:
            spat = rt.state.picture.signals.get(jid)
            items.append({"junction_id": jid, "distance_m": round(d, 1), "spat": message(spat) if spat else None})
    items.sort(key=lambda i: float(i["distance_m"]))
    return {"items": items, "count": len(items)}


@router.get("/parking/near")
async def parking_near(
    rt: RuntimeDep,
    _: ParkingReader,
    lat: Lat,
    lon: Lon,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> dict[str, Any]:
    """The ``k`` nearest parking areas with free spaces (control's guidance when installed; else
    the nearest areas with capacity and the occupancy last reported)."""
    nearest_free = getattr(rt.core.decider, "nearest_free", None)
    if callable(nearest_free):
        items = [dataclasses.asdict(o) for o in nearest_free(lat, lon, k)]
        return {"items": items, "count": len(items)}
    net = rt.net
    if not net.parking_ids:
        return {"items": [], "count": 0}
    x, y = net.frame.to_local(lat, lon)
    lane = net.parking_lane
    mid = (net.parking_start + net.parking_end) / 2.0
    # a point mid-way along each area: interpolate on its lane's polyline
    px = np.empty(len(lane))
    py = np.empty(len(lane))
    for i, (ln, s) in enumerate(zip(lane.tolist(), mid.tolist(), strict=True)):
        shape = net.lane_shape(ln)
        seg = np.hypot(*np.diff(shape, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        px[i] = np.interp(s, cum, shape[:, 0])
        py[i] = np.interp(s, cum, shape[:, 1])
    d = np.hypot(px - x, py - y)
    plat, plon = net.frame.to_wgs84(px, py)
    items = []
    for i in np.argsort(d)[:k].tolist():
        status = rt.state.picture.parking.get(net.parking_ids[i])
        cap = int(status.capacity) if status is not None and status.capacity else int(net.parking_capacity[i])
        occ = int(status.occupied) if status is not None else None
        items.append(
            {
                "area_id": net.parking_ids[i],
                "name": net.parking_name[i],
                "lat": float(plat[i]),
                "lon": float(plon[i]),
                "distance_m": round(float(d[i]), 1),
                "capacity": cap,
                "occupied": occ,
                "free": None if occ is None else max(cap - occ, 0),
                "reported": status is not None,
            }
        )
    return {"items": items, "count": len(items)}
