"""``/api/v1/devices/{device_id}/keys``: devices' public signing keys (engineers). A rotation
registers the new key, then retires the old one once the device signs with the new key. Every
change is audited as a configuration change and reaches ingest's verifier at once (other
processes within their refresh period). An OBU is named by its vehicle id here; storage and the
audit log keep only its keyed tag."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from cloud.api.deps import Engineer, RuntimeDep
from cloud.api.errors import ApiError
from cloud.api.schemas import DeviceKeyCreate
from store.keys import StoredKey
from trust import DeviceKey, parse_public

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
Kind = Annotated[Literal["rsu", "lamp", "tsc", "obu"], Query(description="the device's kind")]


def _public(k: StoredKey) -> dict[str, Any]:
    return {
        "device": k.device,
        "key_id": k.key_id,
        "algorithm": k.algorithm,
        "valid_from": k.valid_from,
        "valid_to": None if k.valid_to == float("inf") else k.valid_to,
        "require_signing": k.require_signing,
    }


@router.get("/{device_id}/keys")
async def keys(device_id: str, rt: RuntimeDep, _: Engineer, kind: Kind = "rsu") -> dict[str, Any]:
    """The device's registered keys, by validity."""
    items = [_public(k) for k in rt.trust.device_keys(rt.trust.device(kind, device_id))]
    return {"items": items, "count": len(items)}


@router.post("/{device_id}/keys", status_code=201)
async def register(device_id: str, body: DeviceKeyCreate, rt: RuntimeDep, user: Engineer) -> dict[str, Any]:
    """Register (or replace) a key; ``require_signing`` makes ingest reject the device's unsigned frames."""
    try:
        der = parse_public(body.public_key)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", [{"where": "body.public_key", "problem": str(exc)}]) from None
    algorithm = DeviceKey(body.key_id, der).algorithm
    if body.algorithm is not None and body.algorithm != algorithm:
        raise ApiError(422, "invalid_request", [{"where": "body.algorithm", "problem": f"the key is {algorithm}"}])
    start = time.time() if body.valid_from is None else body.valid_from
    end = float("inf") if body.valid_to is None else body.valid_to
    if not start < end:
        raise ApiError(422, "invalid_request", [{"where": "body.valid_to", "problem": "must be after valid_from"}])
    key = StoredKey(
        rt.trust.device(body.kind, device_id), body.key_id, algorithm, der, start, end, body.require_signing
    )
    try:
        new = await rt.trust.register_key(key)
    except Exception as exc:
        raise ApiError(503, "unavailable", f"the key could not be stored ({type(exc).__name__})") from None
    rt.audit.record(
        user.subject,
        "config.device_key.register",
        role=user.role.value,
        target=key.device,
        reason="new key" if new else "key replaced",
        outcome="registered",
        details={k: v for k, v in _public(key).items() if k != "device"},
    )
    return {**_public(key), "created": new}


@router.delete("/{device_id}/keys/{key_id}")
async def retire(
    device_id: str,
    key_id: str,
    rt: RuntimeDep,
    user: Engineer,
    kind: Kind = "rsu",
    at: Annotated[float | None, Query(description="end of validity, s since the epoch; default now")] = None,
) -> dict[str, Any]:
    """Retire a key: frames signed with it and sent after ``at`` are rejected (``key_not_valid``)."""
    device = rt.trust.device(kind, device_id)
    when = time.time() if at is None else at
    try:
        done = await rt.trust.retire_key(device, key_id, when)
    except Exception as exc:
        raise ApiError(503, "unavailable", f"the key could not be retired ({type(exc).__name__})") from None
    if not done:
        raise ApiError(404, "not_found", f"no key {key_id!r} registered for this device")
    rt.audit.record(
        user.subject,
        "config.device_key.retire",
        role=user.role.value,
        target=device,
        outcome="retired",
        details={"key_id": key_id, "valid_to": when},
    )
    return {"device": device, "key_id": key_id, "valid_to": when}
