"""``/api/v1/overrides``: manual signal overrides (operators), through control's safety layer,
each one audited with its outcome."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from cloud.api.deps import Operator, PictureReader, RuntimeDep
from cloud.api.errors import ApiError
from cloud.api.schemas import OverrideCreate, OverridePublic
from cloud.contracts import OverrideRequest
from cloud.standins import OVERRIDE_KINDS

router = APIRouter(prefix="/api/v1/overrides", tags=["overrides"])


@router.post("", status_code=201)
async def create(body: OverrideCreate, rt: RuntimeDep, user: Operator) -> OverridePublic:
    """Ask for an override; 201 when the safety layer accepted it (the command goes out with the
    next tick), 409 ``rejected`` with its reason otherwise. Both are audited."""
    if body.junction_id not in rt.net.tls_index_of:
        raise ApiError(404, "not_found", f"no signal controller {body.junction_id!r}")
    now = time.time()
    req = OverrideRequest(
        body.junction_id,
        OVERRIDE_KINDS[body.kind],
        body.phase_index,
        body.program_id,
        body.duration_s,
        body.reason,
        user.subject,
    )
    gate = rt.core.overrides
    outcome = gate.submit(req, now)
    cmd = outcome.command
    oid = outcome.override_id or (cmd.command_id if cmd is not None else f"refused-{int(now * 1000)}")
    record = OverridePublic(
        override_id=oid,
        junction_id=body.junction_id,
        kind=body.kind,
        phase_index=body.phase_index,
        program_id=body.program_id,
        duration_s=body.duration_s,
        issued=now,
        expires=now + body.duration_s if outcome.accepted else now,
        operator=user.subject,
        reason=body.reason,
        accepted=outcome.accepted,
        outcome=outcome.reason,
    )
    rt.override_log.append(record.model_dump())
    del rt.override_log[:-1000]
    if not gate.audits:
        rt.audit.record(
            user.subject,
            f"override.{body.kind}",
            role=user.role.value,
            target=body.junction_id,
            reason=body.reason,
            outcome=outcome.reason,
            details={"override_id": oid, "phase_index": body.phase_index, "duration_s": body.duration_s},
        )
    if rt.store is not None:
        rt.store.override_request(record.model_dump(), cmd)
    if not outcome.accepted:
        raise ApiError(409, "rejected", outcome.reason)
    return record


@router.get("")
async def listing(rt: RuntimeDep, _: PictureReader, active: bool = False) -> dict[str, Any]:
    """Overrides of this process, newest first; ``active=true``: only those in force now."""
    now = time.time()
    items = [o for o in reversed(rt.override_log) if not active or (o["accepted"] and o["expires"] > now)]
    return {"items": items, "count": len(items)}
