"""``/api/v1/junctions``: signal controllers, their current state and approach queues."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from fastapi import APIRouter

from cloud.api.deps import PictureReader, RuntimeDep
from cloud.api.errors import ApiError
from cloud.runtime import Runtime
from cloud.snapshot import message

router = APIRouter(prefix="/api/v1/junctions", tags=["junctions"])


def _junction(rt: Runtime, t: int, detail: bool) -> dict[str, Any]:
    net = rt.net
    jid = net.tls_ids[t]
    xy = net.junction_xy[net.tls_junction_list(t)].mean(axis=0)
    lat, lon = net.frame.to_wgs84(xy[0], xy[1])
    spat = rt.state.picture.signals.get(jid)
    sm = rt.signals if detail else None
    out: dict[str, Any] = {
        "junction_id": jid,
        "x": round(float(xy[0]), 2),
        "y": round(float(xy[1]), 2),
        "lat": float(lat),
        "lon": float(lon),
        "program_id": net.program_ids[int(net.tls_active_program[t])],
        "phases": len(net.phases(int(net.tls_active_program[t]))),
        "mode": None,
        "phase_index": None,
    }
    if spat is not None:
        out["mode"], out["phase_index"] = message(spat)["mode"], spat.phase_index
    if detail and sm is not None:
        lanes = np.flatnonzero(sm.lane_tls == t)
        ls = rt.state.picture.lanes
        out["spat"] = message(spat) if spat is not None else None
        out["approaches"] = [
            {
                "lane_id": net.lane_ids[k],
                "group_id": int(sm.lane_group[k]),
                "count": int(ls["count"][k]),
                "queue_m": float(ls["queue_m"][k]),
                "queue_veh": int(ls["queue_veh"][k]),
            }
            for k in lanes.tolist()
        ]
        p = int(net.tls_active_program[t])
        out["program"] = [
            {"index": i, "state": net.phase_state[h], "duration_s": float(net.phase_duration[h])}
            for i, h in enumerate(net.phases(p))
        ]
        out["override_active"] = jid in rt.core.overrides.active(time.time())
    return out


@router.get("")
async def junctions(rt: RuntimeDep, _: PictureReader) -> dict[str, Any]:
    """Every signal controller with its position and current mode and phase."""
    items = [_junction(rt, t, False) for t in range(len(rt.net.tls_ids))]
    return {"items": items, "count": len(items)}


@router.get("/{junction_id}")
async def junction(junction_id: str, rt: RuntimeDep, _: PictureReader) -> dict[str, Any]:
    """One controller: SPaT, program, approach lanes with queues, active overrides."""
    t = rt.net.tls_index_of.get(junction_id)
    if t is None:
        raise ApiError(404, "not_found", f"no signal controller {junction_id!r}")
    return _junction(rt, t, True)
