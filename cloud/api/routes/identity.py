"""``/api/v1/identity/resolve``: an operator handling an incident resolves a pseudonym to the
vehicle's real id. Every lookup is audited (who, why, outcome) before anything is disclosed; the
audit records a keyed reference to the pseudonym, never the pseudonym or the id."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from cloud.api.deps import Resolver, RuntimeDep
from cloud.api.errors import ApiError
from cloud.api.schemas import IdentityResolve

router = APIRouter(prefix="/api/v1/identity", tags=["identity"])
LOG = logging.getLogger("xiangjiang.cloud.api")


@router.post("/resolve")
async def resolve(body: IdentityResolve, rt: RuntimeDep, user: Resolver) -> dict[str, Any]:
    """The vehicle behind ``pseudonym`` (operators only). 404 when no record is kept (unknown,
    expired by retention, or revoked), 409 when the record does not open, 503 when the lookup
    cannot be audited (then nothing is disclosed)."""
    found = await rt.trust.resolve(body.pseudonym)
    try:
        entry = await rt.audit.record_durable(
            rt.audit.entry(
                user.subject,
                "identity.resolve",
                role=user.role.value,
                target=rt.trust.reference(body.pseudonym),
                reason=body.reason,
                outcome=found.outcome,
            )
        )
    except Exception as exc:
        LOG.error("identity lookup refused: it could not be audited (%s)", exc)
        raise ApiError(503, "unavailable", "the lookup could not be audited; nothing disclosed") from None
    audit_id = entry["details"]["audit_id"]
    if found.outcome == "not_found":
        raise ApiError(404, "not_found", f"no identity kept for {body.pseudonym} (audit {audit_id})")
    if found.outcome != "resolved":
        raise ApiError(
            409,
            "conflict",
            f"the sealed record does not open: altered or sealed under another secret (audit {audit_id})",
        )
    return {"pseudonym": body.pseudonym, "vehicle_id": found.vehicle_id, "audit_id": audit_id}
