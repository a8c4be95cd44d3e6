"""The in-memory live state the API reads: latest picture, advisories per vehicle, KPIs, readiness.

Written by the pipeline once per tick on the event loop, read by request handlers on the same
loop: no locks. The JSON snapshot is built lazily, at most once per tick, whatever the number of
WebSocket clients.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cloud import snapshot
from cloud.contracts import Picture
from cloud.core import TickResult, empty_tracks
from proto import empty_lane_states, pb
from roadnet.model import RoadNetwork


@dataclass
class Readiness:
    """What /readyz reports; ``db`` is None when persistence is disabled on purpose."""

    map_loaded: bool = False
    broker: bool = False
    db: bool | None = None
    ticking: bool = False

    @property
    def ready(self) -> bool:
        """Map loaded, broker connected, ticks running, database reachable or disabled."""
        return self.map_loaded and self.broker and self.ticking and self.db is not False


@dataclass
class LiveState:
    """Latest results of the pipeline.

    Parameters
    ----------
    net
        The road network.
    """

    net: RoadNetwork
    picture: Picture = field(init=False)
    tick: int = 0
    last_tick_wall: float = 0.0
    advisories: dict[str, list[pb.Advisory]] = field(default_factory=dict)
    readiness: Readiness = field(default_factory=Readiness)
    kpis: dict[str, Any] = field(default_factory=dict)
    #: sim KPIs by the running scenario, when one runs
    sim_kpis: dict[str, Any] = field(default_factory=dict)
    _snapshot: tuple[int, dict[str, Any]] | None = None
    _changed: asyncio.Event | None = None
    _adv_rate: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=50))

    def __post_init__(self) -> None:
        self.picture = Picture(
            0.0, empty_tracks(), np.zeros(0, np.int64), np.zeros(0), empty_lane_states(len(self.net.lane_ids))
        )
        self.readiness.map_loaded = True

    @property
    def changed(self) -> asyncio.Event:
        """Set at every tick (a new event object after each wake-up: wait, then re-read)."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def update(self, result: TickResult) -> None:
        """Take the results of one tick."""
        self.picture = result.picture
        self.tick += 1
        self.last_tick_wall = time.time()
        now_ns = int(result.picture.t * 1e9)
        if result.advisories:
            fresh: dict[str, list[pb.Advisory]] = {}
            for a in result.advisories:
                fresh.setdefault(a.vehicle_id, []).append(a)
            self.advisories.update(fresh)
        if self.tick % 50 == 0:
            self.advisories = {
                v: [a for a in lst if a.expires_ns == 0 or a.expires_ns > now_ns] for v, lst in self.advisories.items()
            }
            self.advisories = {v: lst for v, lst in self.advisories.items() if lst}
        self._adv_rate.append((result.picture.t, len(result.advisories)))
        self._kpis(result)
        self.readiness.ticking = True
        ev, self._changed = self._changed, None
        if ev is not None:
            ev.set()

    def _kpis(self, result: TickResult) -> None:
        p = result.picture
        tr = p.tracks
        speed = np.hypot(tr["vx"], tr["vy"]) if len(tr) else np.zeros(0)
        span = self._adv_rate[-1][0] - self._adv_rate[0][0] if len(self._adv_rate) > 1 else 0.0
        adv = sum(n for _, n in list(self._adv_rate)[1:])
        self.kpis.update(
            {
                "time": p.t,
                "tick": self.tick,
                "vehicles": len(tr),
                "connected_vehicles": int(np.count_nonzero(tr["vehicle_id"] != "")) if len(tr) else 0,
                "mean_speed_mps": round(float(speed.mean()), 2) if len(speed) else 0.0,
                "halted_vehicles": int(np.count_nonzero(speed < 0.5)),
                "queue_m_total": round(float(p.lanes["queue_m"].sum()), 1),
                "events": len(p.events),
                "advisories_per_s": round(adv / span, 1) if span > 0 else 0.0,
                "signals_reporting": len(p.signals),
            }
        )

    def snapshot(self) -> dict[str, Any]:
        """The live picture as JSON (cached per tick)."""
        if self._snapshot is None or self._snapshot[0] != self.tick:
            kp = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.kpis.items()}
            self._snapshot = (self.tick, snapshot.picture(self.net, self.picture, kp))
        return self._snapshot[1]
