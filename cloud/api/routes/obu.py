"""``/api/v1/obu/{vehicle_id}/advisories``: the advisories in force for one vehicle.

An ``obu`` token sees only its own vehicle; operators and engineers see any.
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
    if user.role is Role.OBU and user.vehicle_id != vehicle_id:
        raise ApiError(403, "forbidden", "an OBU token reads only its own vehicle's advisories")
    now_ns = time.time_ns()
    items = [message(a) for a in rt.state.advisories.get(vehicle_id, []) if a.expires_ns == 0 or a.expires_ns > now_ns]
    return {"vehicle_id": vehicle_id, "items": items, "count": len(items)}
