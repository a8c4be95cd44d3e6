"""PostgreSQL binary COPY payloads built from numpy columns, without a Python loop per row.

Format (PostgreSQL docs, "COPY ... BINARY"): an 11-byte signature, int32 flags, int32 header
extension length; per row an int16 field count, then per field an int32 byte length (-1 = NULL)
and the big-endian value; an int16 -1 trailer.

Fixed-width, never-NULL columns go first: together with the field count they form a block of
constant size per row, filled through one big-endian structured dtype. Variable-width columns
(text, jsonb, bytea) and nullable timestamps follow; each gives a stream of 4-byte lengths and a
stream of bytes. The streams are interleaved row by row with one byte-label array
(``np.repeat``) and one masked assignment per stream. :func:`encode_parts` yields the payload in
slices of rows so the writer can send one slice while it encodes the next. ASCII text in ``U`` arrays is converted to
bytes by a dtype view; other text goes through ``np.strings.encode`` or, for object arrays,
``str.encode``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from store.batch import FIXED_DTYPES, NULL_TIME, Batch

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"

Bytes = npt.NDArray[np.uint8]
Lengths = npt.NDArray[np.int64]


def _is_block(pgtype: str, nullable: bool) -> bool:
    """Whether a column has a constant size in every row (fixed width and never NULL)."""
    return pgtype in FIXED_DTYPES and not (nullable and pgtype == "timestamptz")


def column_order(batch: Batch) -> tuple[str, ...]:
    """The order the payload carries ``batch``'s columns in (name the columns so in COPY)."""
    spec = batch.table
    fixed = [n for n in batch.columns if _is_block(spec.column(n).pgtype, spec.column(n).nullable)]
    return (*fixed, *(n for n in batch.columns if n not in fixed))


def _text_bytes(a: npt.NDArray[Any], nullable: bool) -> tuple[Lengths, Bytes]:
    """UTF-8 bytes of a text column: lengths (N,) with -1 for NULL, and the bytes concatenated."""
    if a.dtype.kind == "O":
        items = [None if v is None else str(v).encode() for v in a]
        lens = np.fromiter((-1 if b is None else len(b) for b in items), np.int64, len(items))
        flat = np.frombuffer(b"".join(b for b in items if b is not None), np.uint8)
    else:
        if a.dtype.kind == "U" and a.dtype.itemsize and int(a.view(np.uint32).max(initial=0)) < 128:
            width = a.dtype.itemsize // 4
            raw = a.view(np.uint32).reshape(len(a), width).astype(np.uint8)
        else:
            if a.dtype.kind != "S":
                a = np.strings.encode(a, "utf-8")
            width = a.dtype.itemsize
            raw = a.view(np.uint8).reshape(len(a), width)
        lens = np.strings.str_len(a).astype(np.int64)
        flat = raw[np.arange(width) < lens[:, None]]
    if nullable:
        lens[lens == 0] = -1
    return lens, flat


def _object_bytes(a: npt.NDArray[Any]) -> tuple[Lengths, Bytes]:
    """Pre-encoded values (jsonb, bytea): lengths (N,) with -1 for None, bytes concatenated."""
    lens = np.fromiter((-1 if v is None else len(v) for v in a), np.int64, len(a))
    return lens, np.frombuffer(b"".join(v for v in a if v is not None), np.uint8)


def _time_bytes(a: npt.NDArray[np.int64]) -> tuple[Lengths, Bytes]:
    """A nullable timestamptz column: lengths 8 or -1, values big-endian."""
    null = a == NULL_TIME
    lens = np.where(null, -1, 8).astype(np.int64)
    return lens, a[~null].astype(">i8").view(np.uint8)


def encode_rows(batch: Batch, order: tuple[str, ...], lo: int = 0, hi: int | None = None) -> bytes:
    """The row records of ``batch[lo:hi]`` in ``order`` (:func:`column_order`), no signature/trailer.

    Parameters
    ----------
    batch
        A prepared batch (:func:`store.batch.prepare`).
    order
        Column order, as :func:`column_order` gives it.
    lo, hi
        Row range (default: all rows).
    """
    spec = batch.table
    hi = batch.n if hi is None else hi
    n = max(hi - lo, 0)
    fixed = [name for name in order if _is_block(spec.column(name).pgtype, spec.column(name).nullable)]
    fields: list[tuple[str, Any]] = [("nfields", ">i2")]
    for i, name in enumerate(fixed):
        fields += [(f"len{i}", ">i4"), (f"val{i}", FIXED_DTYPES[spec.column(name).pgtype].newbyteorder(">"))]
    block = np.empty(n, dtype=np.dtype(fields))
    block["nfields"] = len(order)
    for i, name in enumerate(fixed):
        block[f"len{i}"] = block.dtype[f"val{i}"].itemsize
        block[f"val{i}"] = batch.columns[name][lo:hi]
    if len(fixed) == len(order):
        return block.tobytes()

    lengths: list[Lengths] = [np.full(n, block.dtype.itemsize, np.int64)]
    streams: list[Bytes] = [block.view(np.uint8)]
    for name in order[len(fixed) :]:
        col = spec.column(name)
        a = batch.columns[name][lo:hi]
        if col.pgtype == "text":
            lens, flat = _text_bytes(a, col.nullable)
        elif col.pgtype == "timestamptz":
            lens, flat = _time_bytes(a)
        else:
            lens, flat = _object_bytes(a)
        lengths += [np.full(n, 4, np.int64), np.maximum(lens, 0)]
        streams += [lens.astype(">i4").view(np.uint8), flat]
    per_row = np.stack(lengths, axis=1)  # (n, streams): bytes each stream adds to each row
    labels = np.repeat(np.tile(np.arange(len(streams), dtype=np.uint8), n), per_row.ravel())
    body = np.empty(labels.size, np.uint8)
    for s, stream in enumerate(streams):
        body[labels == s] = stream.ravel()
    return body.tobytes()


def encode(batch: Batch) -> tuple[tuple[str, ...], bytes]:
    """The whole binary COPY payload of ``batch`` (what the spool keeps).

    Returns
    -------
    columns : tuple of str
        Column names in payload order, for ``COPY table (columns) FROM STDIN (FORMAT BINARY)``.
    payload : bytes
        Signature, rows and trailer.
    """
    order = column_order(batch)
    return order, SIGNATURE + encode_rows(batch, order) + TRAILER


def encode_parts(batch: Batch, rows_per_part: int = 8192) -> tuple[tuple[str, ...], Iterator[bytes]]:
    """The payload of ``batch`` as parts encoded one at a time (signature, rows..., trailer).

    Sending each part before encoding the next lets the server ingest while the client encodes.
    """
    order = column_order(batch)

    def parts() -> Iterator[bytes]:
        yield SIGNATURE
        for lo in range(0, batch.n, rows_per_part):
            yield encode_rows(batch, order, lo, min(lo + rows_per_part, batch.n))
        yield TRAILER

    return order, parts()


def copy_sql(table: str, columns: tuple[str, ...]) -> str:
    """``COPY table (columns) FROM STDIN (FORMAT BINARY)`` with quoted identifiers."""
    cols = ", ".join(f'"{c}"' for c in columns)
    return f'COPY "{table}" ({cols}) FROM STDIN (FORMAT BINARY)'
