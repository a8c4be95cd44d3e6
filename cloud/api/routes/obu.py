"""``/api/v1/obu/{vehicle_id}/advisories``: the advisories in force for one vehicle.

An ``obu`` token sees only its own vehicle, named by its real id (the one its token is bound
to): the platform maps it to its pseudonyms of the current and the previous rotation period.
Operators and engineers name a vehicle by the pseudonym they see in the picture.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from cloud.api.deps import AdvisoryReader, RuntimeDep
from cloud.api.errors import ApiError
from cloud.auth import Role
from cloud.snapshot import message

router = APIRouter(prefix="/api/v1/obu", tags=["obu"])


@router.get("/{vehicle_id}/advisories")
async def advisories(vehicle_id: str, rt: RuntimeDep, user: AdvisoryReader) -> dict[str, Any]:
    """Unexpired advisories (speed, route, priority, hazard, parking) for ``vehicle_id``."""
    now = time.time()
    if user.role is Role.OBU:
        if user.vehicle_id != vehicle_id:
            raise ApiError(403, "forbidden", "an OBU token reads only its own vehicle's advisories")
        keys = rt.trust.pseudonyms_of(vehicle_id, now, back_s=rt.settings.pseudonym_period_s)
    else:
        keys = [vehicle_id]
    now_ns = int(now * 1e9)
    items = [
        message(a) for k in keys for a in rt.state.advisories.get(k, []) if a.expires_ns == 0 or a.expires_ns > now_ns
    ]
    if user.role is Role.OBU:  # the vehicle's own advisories, under its own id
        for item in items:
            item["vehicle_id"] = vehicle_id
    return {"vehicle_id": vehicle_id, "items": items, "count": len(items)}
