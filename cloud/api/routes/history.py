"""``/api/v1/history/{kind}``: stored history of a time window (needs the database)."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query

from cloud.api.deps import Overseer, RuntimeDep
from cloud.api.errors import ApiError
from store import queries

router = APIRouter(prefix="/api/v1/history", tags=["history"])

#: kind -> query builder; arrays come back as columns, the rest as lists of rows
KINDS = {
    "tracks": queries.tracks,
    "vehicle_reports": queries.vehicle_reports,
    "lane_states": queries.lane_states,
    "edge_states": queries.edge_states,
    "signal_states": queries.signal_states,
    "events": queries.events,
    "advisories": queries.advisories,
    "overrides": queries.overrides,
    "audit": queries.audit,
}
MAX_WINDOW_S = 24 * 3600.0
MAX_ROWS = 200_000


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def columns(arr: np.ndarray) -> dict[str, list[Any]]:
    """A structured array as JSON columns (non-finite floats become null)."""
    out: dict[str, list[Any]] = {}
    for name in arr.dtype.names or ():
        col = arr[name]
        if col.dtype.kind == "f":
            out[name] = [_jsonable(v) for v in col.tolist()]
        else:
            out[name] = col.tolist()
    return out


@router.get("/{kind}")
async def history(
    kind: str,
    rt: RuntimeDep,
    _: Overseer,
    t0: Annotated[float | None, Query(alias="from", description="window start, s since the epoch")] = None,
    t1: Annotated[float | None, Query(alias="to", description="window end (exclusive), s since the epoch")] = None,
) -> dict[str, Any]:
    """Rows of ``kind`` in ``[from, to)`` (default: the last 10 minutes), at most 24 h at once."""
    build = KINDS.get(kind)
    if build is None:
        raise ApiError(404, "not_found", f"no history {kind!r}; kinds: {', '.join(KINDS)}")
    end = time.time() if t1 is None else t1
    start = end - 600.0 if t0 is None else t0
    if not start < end or end - start > MAX_WINDOW_S:
        raise ApiError(422, "invalid_request", f"need from < to and a window of at most {MAX_WINDOW_S:g} s")
    if rt.db_pool is None:
        raise ApiError(503, "unavailable", "no database configured (XJ_DB): history is not kept")
    q = build(start, end)  # type: ignore[operator]
    try:
        async with rt.db_pool.connection() as conn:
            rows = await q.arun(conn)
    except Exception as exc:
        raise ApiError(503, "unavailable", f"database: {type(exc).__name__}") from None
    if isinstance(rows, np.ndarray):
        if len(rows) > MAX_ROWS:
            raise ApiError(422, "invalid_request", f"{len(rows)} rows: narrow the window (at most {MAX_ROWS})")
        return {"kind": kind, "from": start, "to": end, "count": len(rows), "columns": columns(rows)}
    return {"kind": kind, "from": start, "to": end, "count": len(rows), "items": rows}
