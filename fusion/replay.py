"""Offline replay for engineers: detections from a CSV file (or a capture) through the tracker.

Input CSV
    A header line naming the columns, then one row per detection. Required: ``t`` (s),
    ``sensor_id`` (any text), ``x``, ``y`` (m, local frame). Optional: ``vx``, ``vy`` (m/s),
    ``class`` (an ObjectClass name such as ``car`` or ``bus``, or its number), ``confidence``
    (0..1). Other columns are ignored. Rows whose values cannot be read (a missing or
    non-numeric field, an unknown class) are skipped and reported with their line numbers.

Ticks
    Rows are grouped into ticks of ``period`` seconds from the first time (by receive time for
    captures); each tick is tracked at the latest time among its rows, and empty ticks between
    are tracked too, so tracks coast and end as they would live.

Output CSV
    ``t,track_id,x,y,vx,vy,class``: one row per confirmed track per tick; ``class`` is the
    ObjectClass name.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from fusion.arraytypes import FloatArray, StructArray
from fusion.picture import Picture
from fusion.tracker import Tracker
from proto import empty_detections
from proto.arrays import VEHICLE_REPORT_DTYPE
from roadnet.classes import NAMES

REQUIRED = ("t", "sensor_id", "x", "y")
OPTIONAL = ("vx", "vy", "class", "confidence")
_CLASS_OF = {name: code for code, name in NAMES.items()}
_CLASS_NAMES = np.array([NAMES.get(c, "unknown") for c in range(max(NAMES) + 1)])
#: how many skipped rows are listed one by one
SHOW_PROBLEMS = 10


class ReplayInputError(ValueError):
    """The input cannot be replayed at all; the message says what to fix."""


@dataclass
class CsvDetections:
    """Detections read from a CSV file.

    Attributes
    ----------
    detections
        ``DETECTION_DTYPE`` (N,), sorted by time.
    sensors
        Sensor id text of each ``sensor`` index.
    rows
        Data rows read (kept and skipped).
    problems
        ``(line number, reason)`` of the skipped rows.
    """

    detections: StructArray
    sensors: list[str]
    rows: int
    problems: list[tuple[int, str]] = field(default_factory=list)


def class_code(text: str) -> int | None:
    """ObjectClass number from a name (``bus``) or a number (``2``); None when unknown."""
    s = text.strip().lower()
    if s in _CLASS_OF:
        return _CLASS_OF[s]
    if s.isdigit() and int(s) in NAMES:
        return int(s)
    return None


def read_detections_csv(stream: TextIO) -> CsvDetections:
    """Read detections from CSV text (see the module docstring for the columns).

    Raises
    ------
    ReplayInputError
        When the header lacks a required column.
    """
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise ReplayInputError("the CSV file is empty: it needs a header line t,sensor_id,x,y[,vx,vy,class,confidence]")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ReplayInputError(
            f"the CSV header lacks column(s) {', '.join(missing)}; it has {', '.join(names) or 'none'} "
            "(required: t,sensor_id,x,y; optional: vx,vy,class,confidence)"
        )
    col = {c: names.index(c) for c in (*REQUIRED, *OPTIONAL) if c in names}
    width = max(col.values()) + 1
    numeric = [c for c in ("t", "x", "y", "vx", "vy", "confidence") if c in col]
    values: dict[str, list[float]] = {c: [] for c in numeric}
    sensor_text: list[str] = []
    classes: list[int] = []
    problems: list[tuple[int, str]] = []
    rows = 0
    for row in reader:
        line = reader.line_num
        if not row or all(not f.strip() for f in row):
            continue
        rows += 1
        if len(row) < width:
            problems.append((line, f"{len(row)} fields, the header has {len(names)}"))
            continue
        parsed: dict[str, float] = {}
        bad = None
        for c in numeric:
            f = row[col[c]].strip()
            if f == "" and c in ("vx", "vy", "confidence"):
                parsed[c] = math.nan
                continue
            try:
                parsed[c] = float(f)
            except ValueError:
                bad = f"column {c}: {f[:20]!r} is not a number"
                break
            if c in ("t", "x", "y") and not math.isfinite(parsed[c]):
                bad = f"column {c}: {f!r} is not a finite number"
                break
        cls: int | None = 0
        if bad is None and "class" in col and row[col["class"]].strip():
            cls = class_code(row[col["class"]])
            if cls is None:
                known = ", ".join(NAMES.values())
                bad = f"column class: {row[col['class']].strip()[:20]!r} is not an object class ({known})"
        if bad is not None:
            problems.append((line, bad))
            continue
        for c in numeric:
            values[c].append(parsed[c])
        sensor_text.append(row[col["sensor_id"]].strip())
        classes.append(cls or 0)
    n = len(sensor_text)
    det = empty_detections(n)
    for c in numeric:
        det[c] = values[c]
    if "confidence" in col:
        det["confidence"] = np.where(np.isfinite(det["confidence"]), det["confidence"], 1.0)
    det["cls"] = classes
    sensors, index = np.unique(np.array(sensor_text, dtype=str), return_inverse=True)
    det["sensor"] = index.reshape(-1)
    det = det[np.argsort(det["t"], kind="stable")]
    return CsvDetections(det, [str(s) for s in sensors], rows, problems)


@dataclass(frozen=True)
class Tick:
    """One replay tick: its time and its rows."""

    t: float
    detections: StructArray
    reports: StructArray


def ticks(
    detections: StructArray,
    reports: StructArray | None = None,
    period: float = 0.1,
    key_det: FloatArray | None = None,
    key_rep: FloatArray | None = None,
) -> Iterator[Tick]:
    """Group rows into ticks of ``period`` s by ``key`` time (default: the rows' own ``t``).

    Yields every tick from the first row's to the last row's, empty ones included; a tick's
    time is the latest ``t`` among its rows, or its start for an empty tick.
    """
    rep = reports if reports is not None else np.zeros(0, dtype=VEHICLE_REPORT_DTYPE)
    kd = detections["t"] if key_det is None else key_det
    kr = rep["t"] if key_rep is None else key_rep
    if len(kd) + len(kr) == 0:
        return
    t0 = float(min(kd.min() if len(kd) else np.inf, kr.min() if len(kr) else np.inf))
    bd = np.floor((kd - t0) / period + 1e-6).astype(np.int64)
    br = np.floor((kr - t0) / period + 1e-6).astype(np.int64)
    od, orr = np.argsort(bd, kind="stable"), np.argsort(br, kind="stable")
    bd, br = bd[od], br[orr]
    last = int(max(bd.max() if len(bd) else 0, br.max() if len(br) else 0))
    ed = np.searchsorted(bd, np.arange(last + 2))
    er = np.searchsorted(br, np.arange(last + 2))
    for k in range(last + 1):
        d = detections[od[ed[k] : ed[k + 1]]]
        r = rep[orr[er[k] : er[k + 1]]]
        times = np.concatenate([d["t"], r["t"]])
        t = float(times.max()) if len(times) else t0 + k * period
        yield Tick(t, d, r)


@dataclass
class ReplayStats:
    """What a replay did."""

    ticks: int = 0
    detections: int = 0
    reports: int = 0
    track_rows: int = 0
    tracks: set[int] = field(default_factory=set)


TRACK_COLUMNS = ("t", "track_id", "x", "y", "vx", "vy", "class")
LANE_COLUMNS = ("t", "lane_id", "count", "halting", "queue_m", "queue_veh", "mean_speed", "occupancy")


def write_tracks(out: TextIO, table: StructArray) -> int:
    """Append ``TRACK_DTYPE`` rows as ``t,track_id,x,y,vx,vy,class`` lines; returns the row count."""
    if len(table) == 0:
        return 0
    cls = _CLASS_NAMES[np.minimum(table["cls"], len(_CLASS_NAMES) - 1)]
    lines = [
        f"{t:.6f},{i},{x:.3f},{y:.3f},{vx:.3f},{vy:.3f},{c}"
        for t, i, x, y, vx, vy, c in zip(
            table["t"].tolist(),
            table["track_id"].tolist(),
            table["x"].tolist(),
            table["y"].tolist(),
            table["vx"].tolist(),
            table["vy"].tolist(),
            cls.tolist(),
            strict=True,
        )
    ]
    out.write("\n".join(lines) + "\n")
    return len(lines)


def write_lanes(out: TextIO, t: float, lane_ids: list[str], lanes: StructArray) -> None:
    """Append the lanes with vehicles as ``t,lane_id,count,halting,queue_m,queue_veh,mean_speed,occupancy``."""
    busy = np.flatnonzero(lanes["count"] > 0)
    lines = [
        f"{t:.6f},{lane_ids[k]},{lanes['count'][k]},{lanes['halting'][k]},{lanes['queue_m'][k]:.2f},"
        f"{lanes['queue_veh'][k]},{lanes['mean_speed'][k]:.2f},{lanes['occupancy'][k]:.4f}"
        for k in busy.tolist()
    ]
    if lines:
        out.write("\n".join(lines) + "\n")


def replay(
    source: Iterator[Tick],
    tracker: Tracker,
    out: TextIO,
    *,
    picture: Picture | None = None,
    lanes_out: TextIO | None = None,
    on_tick: Callable[[], None] | None = None,
) -> ReplayStats:
    """Track every tick of ``source``, writing the confirmed tracks (and lane states) as CSV."""
    stats = ReplayStats()
    out.write(",".join(TRACK_COLUMNS) + "\n")
    if lanes_out is not None:
        lanes_out.write(",".join(LANE_COLUMNS) + "\n")
    for tick in source:
        table = tracker.step(tick.t, tick.detections, tick.reports if len(tick.reports) else None)
        stats.ticks += 1
        stats.detections += len(tick.detections)
        stats.reports += len(tick.reports)
        stats.track_rows += write_tracks(out, table)
        stats.tracks.update(table["track_id"].tolist())
        if picture is not None and lanes_out is not None:
            state = picture.update(tick.t, table)
            write_lanes(lanes_out, tick.t, picture.net.lane_ids, state.lanes)
        if on_tick is not None:
            on_tick()
    return stats


def count_ticks(first: float, last: float, period: float) -> int:
    """Number of ticks between two times (for a progress bar)."""
    return math.floor((last - first) / period + 1e-6) + 1
