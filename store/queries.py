"""History queries for the API: time windows of tracks, states, events, overrides, audit.

Each function builds a :class:`Query` (SQL, parameters, and how to shape the rows); run it with
``q.run(conn)`` on a psycopg connection or ``await q.arun(aconn)`` on an async one (for example
from a ``psycopg_pool.AsyncConnectionPool`` in the FastAPI app). Windows are half-open,
``t0 <= time < t1``, in float seconds since the Unix epoch, ordered by time.

High-rate tables come back as numpy structured arrays, shape (N,): times as float seconds since
the Unix epoch (NaN for NULL), text as ``U`` (empty for NULL), numbers in their SI units as
stored. Low-rate tables (events, advisories, overrides, audit, devices) come back as lists of
JSON-ready dicts: times as float seconds, jsonb parsed, bytea as hex strings.

=====================  ===========================================  ===========
function               filters                                      returns
=====================  ===========================================  ===========
:func:`tracks`         region_id, track_ids, vehicle_pseudonym      array
:func:`vehicle_reports` vehicle_pseudonym                           array
:func:`lane_states`    region_id, lane_ids                          array
:func:`edge_states`    region_id, edge_ids                          array
:func:`signal_states`  junction_ids                                 array
:func:`events`         kinds, latest (last state of each event)     dicts
:func:`advisories`     vehicle_pseudonym                            dicts
:func:`overrides`      junction_id                                  dicts
:func:`audit`          actor                                        dicts
:func:`devices`        kind                                         dicts
=====================  ===========================================  ===========
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql

from store.batch import FIXED_DTYPES
from store.schema import PSEUDONYM, Column, table

T = TypeVar("T")
Rows = list[tuple[Any, ...]]
Filter = str | int | Sequence[str] | Sequence[int] | None


@dataclass(frozen=True)
class Query(Generic[T]):
    """A ready query: ``sql`` with ``params``; ``shape`` turns (column names, rows) into ``T``."""

    sql: sql.Composed
    params: tuple[Any, ...]
    shape: Callable[[list[str], Rows], T]

    def run(self, conn: psycopg.Connection[Any]) -> T:
        """Run on a (sync) psycopg connection."""
        with conn.cursor() as cur:
            cur.execute(self.sql, self.params)
            names = [d.name for d in cur.description or ()]
            return self.shape(names, cur.fetchall())

    async def arun(self, conn: psycopg.AsyncConnection[Any]) -> T:
        """Run on an async psycopg connection."""
        async with conn.cursor() as cur:
            await cur.execute(self.sql, self.params)
            names = [d.name for d in cur.description or ()]
            return self.shape(names, await cur.fetchall())


def _select(col: Column) -> sql.Composable:
    if col.pgtype == "timestamptz":
        return sql.SQL("extract(epoch FROM {c})::float8 AS {c}").format(c=sql.Identifier(col.name))
    return sql.Identifier(col.name)


def _window(
    name: str,
    t0: float,
    t1: float,
    filters: dict[str, Filter],
    *,
    order: Sequence[str] = (),
    limit: int | None = None,
    latest_by: str | None = None,
    extra: Sequence[str] = (),
) -> tuple[sql.Composed, tuple[Any, ...], list[Column]]:
    spec = table(name)
    cols = list(spec.columns)
    select = [sql.Identifier(c) for c in extra] + [_select(c) for c in cols]
    where = [sql.SQL("{t} >= to_timestamp(%s) AND {t} < to_timestamp(%s)").format(t=sql.Identifier("time"))]
    params: list[Any] = [t0, t1]
    for column, value in filters.items():
        if value is None:
            continue
        if isinstance(value, str | int):
            where.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
        else:
            where.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
            params.append(list(value))
    keys: list[sql.Composable] = [sql.Identifier(k) for k in ("time", *order)]
    distinct: sql.Composable = sql.SQL("")
    if latest_by is not None:
        distinct = sql.SQL("DISTINCT ON ({}) ").format(sql.Identifier(latest_by))
        keys = [sql.Identifier(latest_by), sql.SQL("{} DESC").format(sql.Identifier("time"))]
    query = sql.SQL("SELECT {d}{cols} FROM {t} WHERE {w} ORDER BY {o}").format(
        d=distinct,
        cols=sql.SQL(", ").join(select),
        t=sql.Identifier(name),
        w=sql.SQL(" AND ").join(where),
        o=sql.SQL(", ").join(keys),
    )
    if latest_by is not None:
        query = sql.SQL("SELECT * FROM ({q}) latest ORDER BY {t}").format(q=query, t=sql.Identifier("time"))
    if limit is not None:
        query = sql.SQL("{q} LIMIT {n}").format(q=query, n=sql.Literal(int(limit)))
    return query, tuple(params), cols


def _array_shape(cols: list[Column]) -> Callable[[list[str], Rows], npt.NDArray[np.void]]:
    def shape(names: list[str], rows: Rows) -> npt.NDArray[np.void]:
        values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        arrays: list[npt.NDArray[Any]] = []
        for col, vals in zip(cols, values, strict=True):
            if col.pgtype == "timestamptz":
                arrays.append(np.array([math.nan if v is None else v for v in vals], np.float64))
            elif col.pgtype in FIXED_DTYPES:
                arrays.append(np.array(vals, FIXED_DTYPES[col.pgtype]))
            else:
                arrays.append(np.array(["" if v is None else str(v) for v in vals], dtype=str))
        dtype = np.dtype([(c.name, a.dtype if a.dtype.itemsize else "U1") for c, a in zip(cols, arrays, strict=True)])
        out = np.empty(len(rows), dtype)
        for c, a in zip(cols, arrays, strict=True):
            out[c.name] = a
        return out

    return shape


def _json_ready(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _dict_shape(names: list[str], rows: Rows) -> list[dict[str, Any]]:
    return [{n: _json_ready(v) for n, v in zip(names, row, strict=True)} for row in rows]


def _array_query(name: str, t0: float, t1: float, filters: dict[str, Filter], **kw: Any) -> Query[Any]:
    q, params, cols = _window(name, t0, t1, filters, **kw)
    return Query(q, params, _array_shape(cols))


def _dict_query(name: str, t0: float, t1: float, filters: dict[str, Filter], **kw: Any) -> Query[Any]:
    q, params, _ = _window(name, t0, t1, filters, **kw)
    return Query(q, params, _dict_shape)


def tracks(
    t0: float,
    t1: float,
    *,
    region_id: str | None = None,
    track_ids: Sequence[int] | None = None,
    vehicle_pseudonym: str | None = None,
    limit: int | None = None,
) -> Query[npt.NDArray[np.void]]:
    """Track states in [t0, t1) as a structured array (columns of ``tracks``), by time, track."""
    filters: dict[str, Filter] = {"region_id": region_id, "track_id": track_ids, PSEUDONYM: vehicle_pseudonym}
    return _array_query("tracks", t0, t1, filters, order=("track_id",), limit=limit)


def vehicle_reports(
    t0: float, t1: float, *, vehicle_pseudonym: str | None = None, limit: int | None = None
) -> Query[npt.NDArray[np.void]]:
    """Vehicle reports (BSMs) in [t0, t1) as a structured array, by time."""
    return _array_query("vehicle_reports", t0, t1, {PSEUDONYM: vehicle_pseudonym}, limit=limit)


def lane_states(
    t0: float, t1: float, *, region_id: str | None = None, lane_ids: Sequence[str] | None = None
) -> Query[npt.NDArray[np.void]]:
    """Lane states in [t0, t1) as a structured array, by time and lane."""
    return _array_query("lane_states", t0, t1, {"region_id": region_id, "lane_id": lane_ids}, order=("lane_id",))


def edge_states(
    t0: float, t1: float, *, region_id: str | None = None, edge_ids: Sequence[str] | None = None
) -> Query[npt.NDArray[np.void]]:
    """Edge travel times and congestion in [t0, t1) as a structured array, by time and edge."""
    return _array_query("edge_states", t0, t1, {"region_id": region_id, "edge_id": edge_ids}, order=("edge_id",))


def signal_states(t0: float, t1: float, *, junction_ids: Sequence[str] | None = None) -> Query[npt.NDArray[np.void]]:
    """Signal group states in [t0, t1) as a structured array, by time, junction and group."""
    return _array_query("signal_states", t0, t1, {"junction_id": junction_ids}, order=("junction_id", "group_id"))


def events(
    t0: float, t1: float, *, kinds: Sequence[int] | None = None, latest: bool = False
) -> Query[list[dict[str, Any]]]:
    """Event states in [t0, t1) as dicts; ``latest``: only each event's last state in the window."""
    return _dict_query("events", t0, t1, {"kind": kinds}, latest_by="event_id" if latest else None)


def advisories(
    t0: float, t1: float, *, vehicle_pseudonym: str | None = None, limit: int | None = None
) -> Query[list[dict[str, Any]]]:
    """Advisories sent in [t0, t1) as dicts, by time."""
    return _dict_query("advisories", t0, t1, {PSEUDONYM: vehicle_pseudonym}, limit=limit)


def overrides(t0: float, t1: float, *, junction_id: str | None = None) -> Query[list[dict[str, Any]]]:
    """Signal overrides issued in [t0, t1) as dicts (who, what, when, why, outcome), by time."""
    return _dict_query("overrides", t0, t1, {"junction_id": junction_id})


def audit(t0: float, t1: float, *, actor: str | None = None) -> Query[list[dict[str, Any]]]:
    """Audit entries in [t0, t1) as dicts with their chain ``id``, by time then id."""
    return _dict_query("audit", t0, t1, {"actor": actor}, order=("id",), extra=("id",))


def devices(kind: str | None = None) -> Query[list[dict[str, Any]]]:
    """Registered devices as dicts, by id; ``kind`` one of rsu, lamp, tsc, sensor, obu."""
    where = sql.SQL("WHERE kind = %s") if kind is not None else sql.SQL("")
    q = sql.SQL(
        "SELECT device_id, kind, name, region_id, x, y, lat, lon, key_id, vehicle_pseudonym, attributes,"
        " extract(epoch FROM created_at)::float8 AS created_at,"
        " extract(epoch FROM updated_at)::float8 AS updated_at FROM devices {w} ORDER BY device_id"
    ).format(w=where)
    return Query(q, (kind,) if kind is not None else (), _dict_shape)
