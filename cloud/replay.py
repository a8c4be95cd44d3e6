"""Replay a stored time window through a fresh platform core, off the live path (engineers).

Reads the raw detections and vehicle reports of ``[t0, t1)`` from the store, bins them into
ticks, runs them through a new :class:`cloud.core.PlatformCore` on the same map in a worker
thread, and reports what it decided: ticks, tracks, advisories, commands, stage timings.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg

from cloud.wiring import build_core
from proto import DETECTION_DTYPE, VEHICLE_REPORT_DTYPE
from roadnet.model import RoadNetwork
from store import queries

#: Longest window one replay may cover, s.
MAX_WINDOW_S = 3600.0


@dataclass
class ReplayJob:
    """One replay: its window, state and results."""

    job_id: str
    t0: float
    t1: float
    tick_s: float
    status: str = "queued"
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def public(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "job_id": self.job_id,
            "from": self.t0,
            "to": self.t1,
            "tick_s": self.tick_s,
            "status": self.status,
            "result": self.result,
            "error": self.error,
        }


def _detections(raw: np.ndarray) -> tuple[np.ndarray, list[str]]:
    sensors, idx = (
        np.unique(raw["sensor_id"], return_inverse=True) if len(raw) else (np.zeros(0, str), np.zeros(0, int))
    )
    det = np.zeros(len(raw), DETECTION_DTYPE)
    for c in DETECTION_DTYPE.names or ():
        if c == "t":
            det["t"] = raw["time"]
        elif c == "sensor":
            det["sensor"] = idx
        elif c in (raw.dtype.names or ()):
            det[c] = raw[c]
    return det, [str(s) for s in sensors]


def _reports(raw: np.ndarray) -> np.ndarray:
    rep = np.zeros(len(raw), VEHICLE_REPORT_DTYPE)
    for c in VEHICLE_REPORT_DTYPE.names or ():
        if c == "t":
            rep["t"] = raw["time"]
        elif c == "vehicle_id":
            rep["vehicle_id"] = raw["vehicle_pseudonym"]
        elif c in (raw.dtype.names or ()):
            rep[c] = raw[c]
    return rep


def run_replay(db: str, net: RoadNetwork, t0: float, t1: float, tick_s: float) -> dict[str, Any]:
    """Replay ``[t0, t1)`` of the database ``db`` (blocking); returns the summary."""
    with psycopg.connect(db) as conn:
        det, _ = _detections(_raw_detections(conn, t0, t1))
        rep = _reports(queries.vehicle_reports(t0, t1).run(conn))
    core = build_core(net)
    edges = np.arange(t0, t1 + tick_s, tick_s)
    di = np.searchsorted(det["t"], edges)
    ri = np.searchsorted(rep["t"], edges)
    ticks = advisories = commands = 0
    max_tracks = 0
    c0 = time.perf_counter()
    for k in range(len(edges) - 1):
        r = core.tick(float(edges[k + 1]), det[di[k] : di[k + 1]], rep[ri[k] : ri[k + 1]], {}, {})
        ticks += 1
        advisories += len(r.advisories)
        commands += len(r.commands)
        max_tracks = max(max_tracks, len(r.picture.tracks))
    wall = time.perf_counter() - c0
    return {
        "ticks": ticks,
        "detections": len(det),
        "vehicle_reports": len(rep),
        "max_tracks": max_tracks,
        "advisories": advisories,
        "commands": commands,
        "wall_s": round(wall, 3),
        "speedup": round((t1 - t0) / wall, 1) if wall > 0 else None,
    }


def _raw_detections(conn: psycopg.Connection[Any], t0: float, t1: float) -> np.ndarray:
    """Raw detections of the window ordered by time (the store has no query for them yet)."""
    cur = conn.execute(
        "SELECT extract(epoch FROM time)::float8, sensor_id, local_id, x, y, vx, vy, length, width, cls,"
        " confidence, r_xx, r_xy, r_yy FROM detections_raw"
        " WHERE time >= to_timestamp(%s) AND time < to_timestamp(%s) ORDER BY time",
        (t0, t1),
    )
    rows = cur.fetchall()
    dt = np.dtype(
        [
            ("time", "f8"),
            ("sensor_id", "U64"),
            ("local_id", "i8"),
            ("x", "f8"),
            ("y", "f8"),
            ("vx", "f8"),
            ("vy", "f8"),
            ("length", "f4"),
            ("width", "f4"),
            ("cls", "i2"),
            ("confidence", "f4"),
            ("r_xx", "f4"),
            ("r_xy", "f4"),
            ("r_yy", "f4"),
        ]
    )
    return np.array([tuple(r) for r in rows], dtype=dt) if rows else np.zeros(0, dt)


class ReplayJobs:
    """Replay jobs of this process (one at a time, in a worker thread)."""

    def __init__(self) -> None:
        self.jobs: dict[str, ReplayJob] = {}
        self._lock = asyncio.Lock()

    def submit(self, db: str, net: RoadNetwork, t0: float, t1: float, tick_s: float) -> ReplayJob:
        """Queue a replay of ``[t0, t1)``; runs in the background."""
        job = ReplayJob(uuid.uuid4().hex[:12], t0, t1, tick_s)
        self.jobs[job.job_id] = job
        asyncio.get_running_loop().create_task(self._run(job, db, net))
        return job

    async def _run(self, job: ReplayJob, db: str, net: RoadNetwork) -> None:
        async with self._lock:
            job.status = "running"
            try:
                job.result = await asyncio.to_thread(run_replay, db, net, job.t0, job.t1, job.tick_s)
                job.status = "done"
            except Exception as exc:
                job.status = "failed"
                job.error = f"{type(exc).__name__}: {exc}"
