"""Column dicts for the writer from the low-rate protobuf messages (SPaT, advisories, commands).

These messages arrive a few per junction or vehicle per tick, so a loop per message is fine
here. Wire units become SI: times stay int ns since the Unix epoch (the writer converts them; 0
means unknown and is stored as NULL where the column allows), confidence percent becomes 0..1.
Advisories carry the raw ``vehicle_id``: the writer turns it into a pseudonym.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from google.protobuf.json_format import MessageToDict

from proto import pb

Columns = dict[str, npt.NDArray[Any]]


def _objects(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """A 1-D object array of ``values`` (dicts, None), shape (len(values),)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def spat_rows(spats: Sequence[pb.Spat]) -> Columns:
    """One ``signal_states`` row per signal group of each SPaT message."""
    rows = [(s, g) for s in spats for g in s.groups]
    return {
        "time": np.array([s.timestamp_ns for s, _ in rows], np.int64),
        "junction_id": np.array([s.junction_id for s, _ in rows], dtype=object),
        "program_id": np.array([s.program_id for s, _ in rows], dtype=object),
        "phase_index": np.array([s.phase_index for s, _ in rows], np.int16),
        "mode": np.array([s.mode for s, _ in rows], np.int16),
        "group_id": np.array([g.group_id for _, g in rows], np.int16),
        "state": np.array([g.state for _, g in rows], np.int16),
        "min_end": np.array([g.min_end_ns for _, g in rows], np.int64),
        "max_end": np.array([g.max_end_ns for _, g in rows], np.int64),
        "likely_end": np.array([g.likely_end_ns for _, g in rows], np.int64),
        "confidence": np.array([g.confidence_pct / 100.0 for _, g in rows], np.float32),
    }


def _junction(a: pb.Advisory) -> str:
    kind = a.WhichOneof("kind")
    if kind == "speed":
        return a.speed.junction_id
    if kind == "priority":
        return a.priority.junction_id
    return ""


def advisory_rows(advisories: Sequence[pb.Advisory]) -> Columns:
    """One ``advisories`` row per advisory; ``details`` holds the advice's own fields."""
    kinds = [a.WhichOneof("kind") or "" for a in advisories]
    details = [
        MessageToDict(getattr(a, k), preserving_proto_field_name=True) if k else None
        for a, k in zip(advisories, kinds, strict=True)
    ]
    return {
        "time": np.array([a.issued_ns for a in advisories], np.int64),
        "advisory_id": np.array([a.advisory_id for a in advisories], dtype=object),
        "vehicle_id": np.array([a.vehicle_id for a in advisories], dtype=object),
        "kind": np.array(kinds, dtype=object),
        "expires": np.array([a.expires_ns for a in advisories], np.int64),
        "junction_id": np.array([_junction(a) for a in advisories], dtype=object),
        "details": _objects(details),
    }


def override_rows(commands: Sequence[pb.SignalCommand], *, operator: str, outcome: str) -> Columns:
    """One ``overrides`` row per operator command: who (``operator``), what, when, why, outcome."""
    return {
        "override_id": np.array([c.command_id for c in commands], dtype=object),
        "time": np.array([c.issued_ns for c in commands], np.int64),
        "junction_id": np.array([c.junction_id for c in commands], dtype=object),
        "kind": np.array([c.kind for c in commands], np.int16),
        "phase_index": np.array([c.phase_index for c in commands], np.int32),
        "program_id": np.array([c.program_id for c in commands], dtype=object),
        "duration_s": np.array([c.duration_s for c in commands], np.float32),
        "expires": np.array([c.expires_ns for c in commands], np.int64),
        "operator": np.array([operator] * len(commands), dtype=object),
        "reason": np.array([c.reason for c in commands], dtype=object),
        "outcome": np.array([outcome] * len(commands), dtype=object),
        "details": _objects([{"source": c.source} for c in commands]),
    }
