"""Local disk spool: append-only segments of length-prefixed, checksummed records, read in order.

While the database is away the writer appends each encoded chunk here and replays the records in
order once it is back; a segment is deleted only after every record in it is committed.

A segment is ``NNNNNNNNNNNN.seg``; a record is::

    magic b"XJS1" | header length u32 | payload length u64 | CRC-32 of header+payload u32
    | header (JSON: table, chunk_id, columns, rows) | payload (binary COPY bytes)

all little-endian. Every append is fsync'd (and the folder, when a segment is created or
deleted). A record cut short by a crash at the end of the newest segment is truncated away when
the spool is opened; anything else unreadable moves the segment to ``corrupt/`` and is logged.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAGIC = b"XJS1"
_HEAD = struct.Struct("<4sIQI")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """One spooled chunk: table, its column order, the chunk id (dedupe key), rows and payload."""

    table: str
    columns: tuple[str, ...]
    chunk_id: str
    rows: int
    payload: bytes

    def to_bytes(self) -> bytes:
        """The record as stored on disk."""
        header = json.dumps(
            {"table": self.table, "columns": list(self.columns), "chunk_id": self.chunk_id, "rows": self.rows}
        ).encode()
        crc = zlib.crc32(self.payload, zlib.crc32(header))
        return _HEAD.pack(MAGIC, len(header), len(self.payload), crc) + header + self.payload


def read_record_file(path: Path) -> Record:
    """The single record stored in ``path`` (as the writer keeps a rejected chunk)."""
    with path.open("rb") as f:
        rec = _read_record(f)
    if rec is None:
        raise ValueError(f"{path}: empty record file")
    return rec


def _read_record(f: BinaryIO) -> Record | None:
    """The next record at ``f``'s position; None at a clean end; ValueError when torn or corrupt."""
    head = f.read(_HEAD.size)
    if not head:
        return None
    if len(head) < _HEAD.size:
        raise ValueError("short record header")
    magic, hlen, plen, crc = _HEAD.unpack(head)
    if magic != MAGIC:
        raise ValueError("bad record magic")
    header = f.read(hlen)
    payload = f.read(plen)
    if len(header) < hlen or len(payload) < plen:
        raise ValueError("short record body")
    if zlib.crc32(payload, zlib.crc32(header)) != crc:
        raise ValueError("record checksum mismatch")
    h = json.loads(header)
    return Record(str(h["table"]), tuple(h["columns"]), str(h["chunk_id"]), int(h["rows"]), payload)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """An ordered, durable queue of :class:`Record` in ``directory``. Not thread-safe: one owner.

    Parameters
    ----------
    directory
        Folder of segments (created when missing).
    segment_bytes
        A segment is closed once it holds at least this many bytes.
    fsync
        fsync every append (switch off only in tests of something else).
    """

    def __init__(self, directory: Path, *, segment_bytes: int = 64 << 20, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self._writer: BinaryIO | None = None
        self._write_index = 0
        self._read_pos: tuple[int, int] = (0, 0)  # (segment index, byte offset) of the next record
        self._peeked_end = -1  # byte offset just past the record peek() returned
        self.records = 0
        self.bytes = 0
        self._open()

    # -- state -------------------------------------------------------------------------------
    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.directory.glob("*.seg") if p.stem.isdigit())

    def _path(self, index: int) -> Path:
        return self.directory / f"{index:012d}.seg"

    def _open(self) -> None:
        """Count what is spooled; truncate a torn tail; set corrupt segments aside."""
        segments = self._segments()
        for i, index in enumerate(segments):
            path = self._path(index)
            good, count = 0, 0
            with path.open("rb") as f:
                while True:
                    try:
                        rec = _read_record(f)
                    except ValueError as exc:
                        if i == len(segments) - 1:
                            _log.warning("spool %s: dropping a torn record at byte %d (%s)", path, good, exc)
                            with path.open("r+b") as w:
                                w.truncate(good)
                                os.fsync(w.fileno())
                        else:
                            self._set_aside(path, f"{exc} at byte {good}")
                            good = -1
                        break
                    if rec is None:
                        break
                    good = f.tell()
                    count += 1
            if good >= 0:
                self.records += count
                self.bytes += good
        remaining = self._segments()
        self._write_index = remaining[-1] if remaining else 0
        self._read_pos = (remaining[0], 0) if remaining else (0, 0)

    def _set_aside(self, path: Path, reason: str) -> None:
        corrupt = self.directory / "corrupt"
        corrupt.mkdir(exist_ok=True)
        _log.error("spool %s is unreadable (%s); moved to %s", path, reason, corrupt)
        path.rename(corrupt / path.name)
        _fsync_dir(self.directory)

    def __len__(self) -> int:
        """Records not yet committed."""
        return self.records

    # -- writing -----------------------------------------------------------------------------
    def append(self, record: Record) -> None:
        """Append ``record`` durably (fsync'd before returning)."""
        data = record.to_bytes()
        if self._writer is None or self._writer.tell() >= self.segment_bytes:
            self._roll()
        assert self._writer is not None
        self._writer.write(data)
        self._writer.flush()
        if self.fsync:
            os.fsync(self._writer.fileno())
        self.records += 1
        self.bytes += len(data)

    def _roll(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._write_index += 1
        path = self._path(self._write_index)
        self._writer = path.open("ab")
        if self.fsync:
            _fsync_dir(self.directory)
        if self.records == 0:
            self._read_pos = (self._write_index, 0)

    # -- reading -----------------------------------------------------------------------------
    def peek(self) -> Record | None:
        """The oldest record not yet committed, or None when the spool is empty."""
        while self.records:
            index, offset = self._read_pos
            path = self._path(index)
            if not path.exists():
                later = [i for i in self._segments() if i > index]
                if not later:
                    break
                self._read_pos = (later[0], 0)
                continue
            with path.open("rb") as f:
                f.seek(offset)
                try:
                    rec = _read_record(f)
                except ValueError as exc:
                    self._close_writer_if(index)
                    self._set_aside(path, f"{exc} at byte {offset}")
                    self._recount()
                    continue
                end = f.tell()
            if rec is not None:
                self._peeked_end = end
                return rec
            if index == self._write_index:
                break
            self._drop_segment(index)
        if self.records:
            _log.error("spool %s counted %d records it cannot find; recounting", self.directory, self.records)
            self.records = 0
            self.bytes = 0
        return None

    def commit(self) -> None:
        """Mark the record :meth:`peek` returned as committed; delete its segment when used up."""
        index, offset = self._read_pos
        end, self._peeked_end = self._peeked_end, -1
        if end < 0:
            raise RuntimeError("commit() without a record from peek()")
        path = self._path(index)
        self.records -= 1
        self.bytes -= end - offset
        size = path.stat().st_size
        if end >= size and (index != self._write_index or self.records == 0):
            self._drop_segment(index)
        else:
            self._read_pos = (index, end)

    def _drop_segment(self, index: int) -> None:
        self._close_writer_if(index)
        self._path(index).unlink(missing_ok=True)
        if self.fsync:
            _fsync_dir(self.directory)
        later = [i for i in self._segments() if i > index]
        self._read_pos = (later[0], 0) if later else (self._write_index + 1, 0)

    def _close_writer_if(self, index: int) -> None:
        if self._writer is not None and index == self._write_index:
            self._writer.close()
            self._writer = None

    def _recount(self) -> None:
        self.records = 0
        self.bytes = 0
        self._open()

    def __iter__(self) -> Iterator[Record]:
        """Every record still spooled, oldest first (reads only; commits nothing)."""
        for index in self._segments():
            if index < self._read_pos[0]:
                continue
            with self._path(index).open("rb") as f:
                if index == self._read_pos[0]:
                    f.seek(self._read_pos[1])
                while (rec := _read_record(f)) is not None:
                    yield rec

    def close(self) -> None:
        """Close the open segment (what is spooled stays for the next owner)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
