"""``/api/v1/audit``: the audit log (who did what, when, why, outcome)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from cloud.api.deps import Overseer, RuntimeDep
from store import queries

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
