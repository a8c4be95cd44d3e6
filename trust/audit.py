"""A tamper-evident audit log: every entry carries the hash of the one before it.

``hash_i = SHA-256(hash_{i-1} || canonical_json(entry_i))`` with ``hash_{-1}`` = 32 zero bytes
(hex). Editing, inserting or deleting any entry breaks every hash from that point on, so
:func:`verify_chain` names the first entry that does not fit. Entries are dicts with at least
``who``, ``what``, ``when`` (ISO 8601 or epoch seconds), ``why`` and ``outcome``; ``details`` is any
JSON value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
#: the fields that are hashed, in this order (the row id and the hashes themselves are not)
FIELDS = ("seq", "when", "who", "role", "what", "target", "why", "outcome", "details")


def canonical(entry: Mapping[str, Any]) -> bytes:
    """Canonical JSON of the hashed fields of an entry (sorted keys, no spaces, UTF-8)."""
    body = {k: entry.get(k) for k in FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the previous hash and the entry's canonical JSON."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(entry)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """Where verification failed: the position in the log, the entry's seq and why.

    ``entry_id`` is the entry's ``id`` when it has one (a stored row's key).
    """

    index: int
    seq: Any
    reason: str
    entry_id: Any = None


def verify_chain(entries: Iterable[Mapping[str, Any]], *, anchor: str | None = GENESIS) -> ChainBreak | None:
    """Check a log in order; ``None`` when intact, else the first entry that does not fit.

    Each entry must carry ``prev_hash`` and ``hash``; ``seq`` must increase by one.

    Parameters
    ----------
    entries
        The log, oldest first (any iterable: a database cursor streams).
    anchor
        The hash the first entry must follow: :data:`GENESIS` for a whole log; ``None`` to
        start from the first entry's own ``prev_hash``, when older entries were removed on
        purpose (retention) and the log is checked from the first one kept.
    """
    prev = anchor
    last_seq: int | None = None
    for i, e in enumerate(entries):
        seq = e.get("seq")
        where = e.get("id")
        if last_seq is not None and isinstance(seq, int) and seq != last_seq + 1:
            why = f"sequence jumps from {last_seq} to {seq}: an entry was deleted or inserted"
            return ChainBreak(i, seq, why, where)
        if prev is None:
            prev = str(e.get("prev_hash"))
        if e.get("prev_hash") != prev:
            return ChainBreak(i, seq, "prev_hash does not match the previous entry's hash", where)
        if e.get("hash") != entry_hash(prev, e):
            return ChainBreak(i, seq, "hash does not match the entry's content: the entry was edited", where)
        prev = str(e["hash"])
        last_seq = seq if isinstance(seq, int) else None
    return None


class AuditChain:
    """Appends entries in memory with their hash chain (a store persists them in the same form)."""

    def __init__(self, entries: list[dict[str, Any]] | None = None) -> None:
        self.entries: list[dict[str, Any]] = entries or []

    @property
    def head(self) -> str:
        """Hash of the last entry (GENESIS when empty)."""
        return str(self.entries[-1]["hash"]) if self.entries else GENESIS

    def append(self, **fields: Any) -> dict[str, Any]:
        """Append one entry (fields of :data:`FIELDS`; ``seq`` is assigned) and return it."""
        e = {k: fields.get(k) for k in FIELDS}
        e["seq"] = (self.entries[-1]["seq"] + 1) if self.entries else 1
        prev = self.head
        e["prev_hash"] = prev
        e["hash"] = entry_hash(prev, e)
        self.entries.append(e)
        return e
