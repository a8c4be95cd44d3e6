"""Turn what a stage hands the writer (structured array or column dict) into a checked batch.

:func:`prepare` runs on the caller's side and is cheap (casts and copies, no per-row Python for
the hot tables): it names the columns, casts numbers to the column's type, converts times to
PostgreSQL's int64 microseconds since 2000-01-01 UTC, turns raw vehicle ids into pseudonyms and
fills defaults. Mistakes in a batch are the caller's bugs and raise :class:`BatchError` at once.

Time columns accept float seconds since the Unix epoch (the platform's clock), int64 nanoseconds
since the Unix epoch (the wire's), or ``datetime64``. Field ``t`` or ``t_ns`` feeds ``time``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from store.schema import PSEUDONYM, Column, Table, table

#: Microseconds from the Unix epoch to PostgreSQL's epoch, 2000-01-01 00:00 UTC.
PG_EPOCH_US = 946_684_800_000_000
#: In a prepared timestamptz column: NULL.
NULL_TIME = np.iinfo(np.int64).min

#: Native numpy dtype of each fixed-width PostgreSQL type (timestamptz: int64 µs since 2000).
FIXED_DTYPES: dict[str, np.dtype[Any]] = {
    "timestamptz": np.dtype(np.int64),
    "float8": np.dtype(np.float64),
    "float4": np.dtype(np.float32),
    "int8": np.dtype(np.int64),
    "int4": np.dtype(np.int32),
    "int2": np.dtype(np.int16),
    "bool": np.dtype(np.bool_),
}
_TIME_ALIASES = ("t", "t_ns")

#: Maps an array of raw vehicle ids, shape (N,), to their pseudonyms, shape (N,); "" stays "".
Pseudonymize = Callable[[npt.NDArray[Any]], npt.NDArray[Any]]


class BatchError(ValueError):
    """A batch that does not fit its table; the message names the table and column."""


@dataclass(frozen=True)
class Batch:
    """A checked batch for one table.

    Attributes
    ----------
    table
        The target table.
    columns
        Column name -> array of shape (n,), in table order, only the columns to write (a
        missing nullable column is left out and stays NULL). Fixed-width columns have the
        dtype of :data:`FIXED_DTYPES`; text columns are ``U``/``S``/``T`` arrays or object
        arrays of ``str``/``None``; jsonb and bytea columns are object arrays of encoded
        ``bytes`` or ``None``.
    n
        Number of rows.
    """

    table: Table
    columns: dict[str, npt.NDArray[Any]]
    n: int

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """Batches with equal keys can be merged into one COPY."""
        return self.table.name, tuple(self.columns)


def _fields(data: np.ndarray | Mapping[str, npt.ArrayLike]) -> dict[str, npt.ArrayLike]:
    if isinstance(data, np.ndarray):
        if data.dtype.names is None:
            raise BatchError("a batch is a structured array or a mapping of column name -> array")
        return {name: data[name] for name in data.dtype.names}
    return dict(data)


def to_pg_time(values: npt.ArrayLike, *, nullable: bool, where: str) -> npt.NDArray[np.int64]:
    """Times as PostgreSQL int64 microseconds since 2000-01-01 UTC, shape as input.

    Parameters
    ----------
    values
        Float seconds since the Unix epoch, int nanoseconds since the Unix epoch, or
        ``datetime64``; NaN, 0 and NaT mean NULL where ``nullable``.
    nullable
        Whether NULL (:data:`NULL_TIME`) is allowed.
    where
        ``table.column``, for error messages.
    """
    a = np.asarray(values)
    if a.dtype.kind == "f":
        null = np.isnan(a)
        us = np.rint(np.where(null, 0.0, a) * 1e6).astype(np.int64) - PG_EPOCH_US
    elif a.dtype.kind in "iu":
        null = a == 0
        us = a.astype(np.int64) // 1000 - PG_EPOCH_US
    elif a.dtype.kind == "M":
        null = np.isnat(a)
        us = a.astype("datetime64[us]").astype(np.int64) - PG_EPOCH_US
    else:
        raise BatchError(f"{where}: times are float s or int ns since the Unix epoch, got dtype {a.dtype}")
    if null.any():
        if not nullable:
            raise BatchError(f"{where}: {int(null.sum())} rows have no time (NaN, 0 or NaT)")
        us[null] = NULL_TIME
    return us


def _text(values: npt.ArrayLike, where: str, copy: bool) -> npt.NDArray[Any]:
    a = np.asarray(values)
    if a.dtype.kind not in "USTO":
        raise BatchError(f"{where}: text column needs strings, got dtype {a.dtype}")
    return a.copy() if copy and a is values else a


def _encoded_objects(values: npt.ArrayLike, pgtype: str, where: str) -> npt.NDArray[np.object_]:
    """jsonb (JSON-serialised, version byte 1) or bytea values as an object array of bytes/None."""
    items: Sequence[Any] = list(np.asarray(values, dtype=object).ravel())
    out = np.empty(len(items), dtype=object)
    try:
        for i, v in enumerate(items):
            if v is None:
                out[i] = None
            elif pgtype == "jsonb":
                out[i] = b"\x01" + json.dumps(v, separators=(",", ":"), allow_nan=False).encode()
            else:
                out[i] = bytes(v)
    except (TypeError, ValueError) as exc:
        raise BatchError(f"{where}: row {i} cannot be stored as {pgtype}: {exc}") from None
    return out


def _column(col: Column, values: npt.ArrayLike, where: str, copy: bool) -> npt.NDArray[Any]:
    if col.pgtype == "timestamptz":
        return to_pg_time(values, nullable=col.nullable, where=where)
    if col.pgtype in FIXED_DTYPES:
        a = np.asarray(values)
        if a.dtype.kind not in "biuf":
            raise BatchError(f"{where}: numeric column needs numbers, got dtype {a.dtype}")
        return np.array(a, dtype=FIXED_DTYPES[col.pgtype], copy=True if copy else None)
    if col.pgtype == "text":
        return _text(values, where, copy)
    return _encoded_objects(values, col.pgtype, where)


def prepare(
    table_name: str,
    data: np.ndarray | Mapping[str, npt.ArrayLike],
    *,
    pseudonymize: Pseudonymize | None = None,
    copy: bool = True,
) -> Batch:
    """Check and normalise one batch for ``table_name``.

    Parameters
    ----------
    table_name
        A table of :data:`store.schema.TABLES`.
    data
        Structured array of shape (N,) or mapping of column name -> array of shape (N,). Fields
        not in the table are ignored. A ``vehicle_id`` field (raw id) feeds the pseudonym
        column through ``pseudonymize``; without one it is refused.
    pseudonymize
        Raw vehicle ids -> pseudonyms, vectorised.
    copy
        Copy the arrays, so the caller may reuse its buffers at once (default).

    Returns
    -------
    Batch
        The normalised batch.

    Raises
    ------
    BatchError
        Unknown table, missing or mistyped column, unequal lengths, raw vehicle ids.
    """
    try:
        spec = table(table_name)
    except ValueError as exc:
        raise BatchError(str(exc)) from None
    fields = _fields(data)
    if spec.time_column not in fields:
        for alias in _TIME_ALIASES:
            if alias in fields:
                fields[spec.time_column] = fields[alias]
                break
    if spec.holds_vehicles and PSEUDONYM not in fields and "vehicle_id" in fields:
        if pseudonymize is None:
            raise BatchError(
                f"{table_name}: raw vehicle_id is never stored; give the writer a pseudonymizer or pass {PSEUDONYM}"
            )
        fields[PSEUDONYM] = pseudonymize(np.asarray(fields["vehicle_id"]))
    lengths = {name: np.shape(fields[name])[0] if np.ndim(fields[name]) else -1 for name in fields}
    present = [c for c in spec.columns if c.name in fields]
    n = lengths[present[0].name] if present else 0
    columns: dict[str, npt.NDArray[Any]] = {}
    for col in spec.columns:
        where = f"{table_name}.{col.name}"
        if col.name in fields:
            if lengths[col.name] != n:
                raise BatchError(f"{where}: {lengths[col.name]} values, expected {n} like {present[0].name}")
            columns[col.name] = _column(col, fields[col.name], where, copy)
        elif col.default is not None:
            columns[col.name] = _column(col, np.full(n, col.default), where, copy=False)
        elif not col.nullable:
            raise BatchError(f"{where}: missing (no default); fields given: {', '.join(sorted(fields))}")
    return Batch(spec, columns, n)


def merge(batches: Sequence[Batch]) -> Batch:
    """One batch holding the rows of ``batches`` in order; all must share :attr:`Batch.key`."""
    if len(batches) == 1:
        return batches[0]
    first = batches[0]
    if any(b.key != first.key for b in batches):
        raise BatchError("only batches of the same table and columns can be merged")
    columns = {name: np.concatenate([b.columns[name] for b in batches]) for name in first.columns}
    return Batch(first.table, columns, sum(b.n for b in batches))
