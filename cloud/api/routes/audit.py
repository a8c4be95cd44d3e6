"""``/api/v1/audit``: the audit log (who in which role did what, when, why, outcome), and
``/api/v1/audit/verify``: the check of its hash chain (what ``xj audit verify`` prints)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Query

from cloud.api.deps import Overseer, RuntimeDep
from cloud.api.errors import ApiError
from store import queries
from store.auditlog import Verification, verify

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
async def audit(
    rt: RuntimeDep,
    _: Overseer,
    t0: Annotated[float | None, Query(alias="from")] = None,
    t1: Annotated[float | None, Query(alias="to")] = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Entries in ``[from, to)`` (default: the last 24 h), newest first: the stored ones and those
    of this process not yet flushed to the database."""
    end = time.time() + 1.0 if t1 is None else t1
    start = end - 24 * 3600.0 if t0 is None else t0
    items = rt.audit.recent(start, end, actor)
    if rt.db_pool is not None:
        try:
            async with rt.db_pool.connection() as conn:
                stored = await queries.audit(start, end, actor=actor).arun(conn)
        except Exception:
            stored = []
        seen = {e["details"]["audit_id"] for e in items}
        items += [e for e in stored if (e.get("details") or {}).get("audit_id") not in seen]
    items.sort(key=lambda e: e["time"], reverse=True)
    return {"items": items, "count": len(items)}


@router.get("/verify")
async def verify_chain(rt: RuntimeDep, _: Overseer) -> dict[str, Any]:
    """Walk the stored chain: ``ok``, the entries checked, the head hash, where checking began
    (anchored after a retention cut) and, when broken, the first entry that does not fit."""
    url = rt.settings.db
    if url is None:
        raise ApiError(503, "unavailable", "no database configured (XJ_DB): the audit chain is not kept")

    def run() -> Verification:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            return verify(conn)

    try:
        result = await asyncio.to_thread(run)
    except psycopg.Error as exc:
        raise ApiError(503, "unavailable", f"database: {type(exc).__name__}") from None
    out = {k: v for k, v in asdict(result).items() if k != "broken"}
    out["broken"] = asdict(result.broken) if result.broken is not None else None
    return {"ok": result.ok, "summary": result.describe(), **out}
