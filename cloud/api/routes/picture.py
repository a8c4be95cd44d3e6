"""``/api/v1/picture``: the live traffic picture, as a snapshot and over a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from cloud.api.deps import READ_PICTURE, PictureReader, RuntimeDep, get_runtime
from cloud.auth import TokenError

router = APIRouter(prefix="/api/v1", tags=["picture"])


@router.get("/picture")
async def picture(rt: RuntimeDep, _: PictureReader) -> dict[str, Any]:
    """Vehicles (columns, local x/y m and WGS84), occupied lanes, signals, events and KPIs."""
    return rt.state.snapshot()


@router.websocket("/ws/picture")
async def picture_ws(ws: WebSocket, token: str = "") -> None:
    """The live picture pushed at ``XJ_WS_HZ``; authenticate with ``?token=<bearer token>``.

    Closes with 4401 (no or bad token) or 4403 (role may not read the picture).
    """
    rt = get_runtime(ws)  # type: ignore[arg-type]
    try:
        user = rt.tokens.verify(token)
    except TokenError as exc:
        await ws.close(code=4401, reason=str(exc)[:100])
        return
    if user.role not in READ_PICTURE:
        await ws.close(code=4403, reason=f"role {user.role.value} may not read the picture")
        return
    await ws.accept()
    period = 1.0 / rt.settings.ws_hz
    last = -1
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            if rt.state.tick != last:
                last = rt.state.tick
                await ws.send_json(rt.state.snapshot())
            await asyncio.sleep(period)
