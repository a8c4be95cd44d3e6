"""Liveness, readiness and Prometheus metrics (unauthenticated, for the orchestrator)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from cloud.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and answering."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(rt: RuntimeDep) -> Any:
    """Ready when the map is loaded, the broker connected, ticks run and the database answers
    (or persistence is disabled); 503 with the failing checks otherwise."""
    r = rt.state.readiness
    if rt.pipeline is not None:
        r.broker = rt.pipeline.ingest.connected.is_set() and rt.pipeline.publisher.connected
        stale = time.time() - rt.state.last_tick_wall > max(5 * rt.settings.tick_s, 2.0)
        r.ticking = rt.state.tick > 0 and not stale
    r.db = await rt.db_ok()
    checks = {
        "map_loaded": r.map_loaded,
        "broker_connected": r.broker,
        "ticking": r.ticking,
        "database": "disabled" if r.db is None else r.db,
    }
    body = {"ready": r.ready, "checks": checks, "tick": rt.state.tick}
    if r.ready:
        return body
    failing = [k for k, v in checks.items() if v is False]
    return JSONResponse({"error": {"reason": "not_ready", "detail": failing}, **body}, status_code=503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(rt: RuntimeDep) -> PlainTextResponse:
    """Prometheus text exposition: ticks, stage and end-to-end latencies, rates, queues, errors by reason."""
    return PlainTextResponse(rt.registry.render(), media_type="text/plain; version=0.0.4")
