"""``/api/v1/revocations``: a vehicle's owner withdraws consent. The vehicle's stored history is
deleted across every table (each pseudonym it had within the retention horizon), its future
messages are dropped at ingest, and the revocation is audited under the vehicle's keyed tag."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cloud.api.deps import Revoker, RuntimeDep
from cloud.api.errors import ApiError
from cloud.api.schemas import RevocationCreate
from cloud.auth import Role

router = APIRouter(prefix="/api/v1/revocations", tags=["privacy"])


@router.post("", status_code=201)
async def revoke(body: RevocationCreate, rt: RuntimeDep, user: Revoker) -> dict[str, Any]:
    """Revoke ``vehicle_id``: an OBU token only for its own vehicle; operators and engineers act
    for an owner (say who asked in ``reason``). Idempotent: revoking again deletes what is left."""
    if user.role is Role.OBU and user.vehicle_id != body.vehicle_id:
        raise ApiError(403, "forbidden", "an OBU token revokes only its own vehicle")
    tag = rt.trust.pseudonymizer.revocation_tag(body.vehicle_id)
    entry = rt.audit.entry(
        user.subject, "privacy.revoke", role=user.role.value, target=tag, reason=body.reason, outcome="revoked"
    )
    try:
        flush = (lambda: store.writer.flush(30.0)) if (store := rt.store) is not None else None
        done = await rt.trust.revoke(body.vehicle_id, audit=entry, before_delete=flush)
    except Exception as exc:
        raise ApiError(
            503, "unavailable", f"the revocation could not be stored ({type(exc).__name__}); retry"
        ) from None
    if done.audit is not None:
        rt.audit.remember({**entry, "details": done.audit["details"]})
    else:  # no database: the in-memory log is all there is
        rt.audit.remember(entry)
    gone = set(done.pseudonyms)
    for p in [p for p in rt.state.advisories if p in gone]:
        del rt.state.advisories[p]
    return {
        "tag": done.tag,
        "pseudonyms_searched": len(done.pseudonyms),
        "rows_deleted": done.rows_deleted,
        "stored": rt.trust.db is not None,
        "audit_id": entry["details"]["audit_id"],
    }
