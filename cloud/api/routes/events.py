"""``/api/v1/events``: ongoing incidents and events of the picture."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cloud.api.deps import PictureReader, RuntimeDep
from cloud.snapshot import event

router = APIRouter(prefix="/api/v1/events", tags=["events"])


@router.get("")
async def events(rt: RuntimeDep, _: PictureReader) -> dict[str, Any]:
    """Events now in the picture (stopped vehicles, congestion, incidents, ...)."""
    items = [event(rt.net, e) for e in rt.state.picture.events]
    return {"items": items, "count": len(items)}
