"""Engineers: ``/api/v1/sim`` (start/stop a scenario in real time), ``/api/v1/replay``,
and ``/api/v1/kpis`` (also for operators and viewers)."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter

from cloud.api.deps import Engineer, PictureReader, RuntimeDep
from cloud.api.errors import ApiError
from cloud.api.schemas import ReplayCreate, ScenarioCreate
from cloud.replay import MAX_WINDOW_S
from cloud.scenarios import SCENARIOS, ScenarioError

router = APIRouter(prefix="/api/v1", tags=["engineering"])


@router.get("/sim")
async def sim_status(rt: RuntimeDep, _: Engineer) -> dict[str, Any]:
    """The running scenario (if any), its KPIs, and the scenarios known."""
    status = rt.scenarios.status() if rt.scenarios is not None else {"running": False}
    return {**status, "scenarios": sorted(SCENARIOS)}


@router.post("/sim", status_code=201)
async def sim_start(body: ScenarioCreate, rt: RuntimeDep, user: Engineer) -> dict[str, Any]:
    """Start ``scenario`` against this platform's broker; 409 when one runs already."""
    if rt.scenarios is None:
        raise ApiError(503, "unavailable", "this process runs without a broker: no scenarios")
    try:
        status = rt.scenarios.start(body.scenario, duration_s=body.duration_s, seed=body.seed)
    except ScenarioError as exc:
        rt.audit.record(user.subject, "sim.start", role="engineer", target=body.scenario, outcome=f"refused: {exc}")
        raise ApiError(409, "conflict", str(exc)) from None
    rt.audit.record(
        user.subject, "sim.start", role="engineer", target=body.scenario, outcome="started", details={"seed": body.seed}
    )
    return status


@router.delete("/sim")
async def sim_stop(rt: RuntimeDep, user: Engineer) -> dict[str, Any]:
    """Stop the running scenario (200 with the final status; nothing running is not an error)."""
    if rt.scenarios is None:
        return {"running": False}
    status = await rt.scenarios.stop()
    rt.audit.record(
        user.subject, "sim.stop", role="engineer", target=str(status.get("scenario", "")), outcome="stopped"
    )
    return status


@router.get("/kpis")
async def kpis(rt: RuntimeDep, _: PictureReader) -> dict[str, Any]:
    """Platform KPIs (vehicles, speeds, queues, advisories/s, latencies) and the scenario's own."""
    out = dict(rt.state.kpis)
    if rt.pipeline is not None:
        m = rt.pipeline.metrics
        for name, h in (("sender_to_decision_ms", m.latency), ("tick_ms", m.tick_seconds)):
            for q in (0.5, 0.99):
                v = h.quantile(q)
                out[f"{name}_p{int(q * 100)}"] = None if math.isnan(v) else round(v * 1000.0, 2)
    if rt.scenarios is not None and rt.scenarios.devices is not None:
        out["scenario"] = rt.scenarios.status()
    return out


@router.post("/replay", status_code=202)
async def replay(body: ReplayCreate, rt: RuntimeDep, user: Engineer) -> dict[str, Any]:
    """Replay the stored window through a fresh platform core; poll ``GET /api/v1/replay/{id}``."""
    if not body.from_ < body.to or body.to - body.from_ > MAX_WINDOW_S:
        raise ApiError(422, "invalid_request", f"need from < to and a window of at most {MAX_WINDOW_S:g} s")
    if rt.settings.db is None:
        raise ApiError(503, "unavailable", "no database configured (XJ_DB): nothing stored to replay")
    job = rt.replays.submit(rt.settings.db, rt.net, body.from_, body.to, body.tick_s)
    rt.audit.record(
        user.subject,
        "replay",
        role="engineer",
        target=job.job_id,
        outcome="queued",
        details={"from": body.from_, "to": body.to},
    )
    return job.public()


@router.get("/replay/{job_id}")
async def replay_status(job_id: str, rt: RuntimeDep, _: Engineer) -> dict[str, Any]:
    """A replay's state and, when done, its results."""
    job = rt.replays.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no replay {job_id!r}")
    return job.public()
