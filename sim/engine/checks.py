"""Safety checks on the engine's state, for tests and benchmarks (no collisions, no red running)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sim.engine.leaders import build_entries
from sim.engine.topology import M_RED

if TYPE_CHECKING:
    from sim.engine.engine import Engine

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def gaps(engine: Engine) -> tuple[F64, I64, I64]:
    """Bumper-to-bumper gaps between consecutive vehicles along every lane group, m.

    A group is a lane with the internal lanes that merge into it, so overlaps across lane ends
    and inside junctions (merges) show; tails hanging on the lane a vehicle came from count too.

    Returns
    -------
    gap, follower, leader
        (n,) gap m (negative: overlap) and the vehicle rows of each pair.
    """
    e = build_entries(engine.fleet, engine.topo)
    real = e.veh >= 0
    pair = (e.group[1:] == e.group[:-1]) & real[1:] & real[:-1] & (e.veh[1:] != e.veh[:-1])
    g = e.pos[1:] - e.length[1:] - e.pos[:-1]
    return g[pair], e.veh[:-1][pair], e.veh[1:][pair]


def min_gap(engine: Engine) -> float:
    """The smallest gap between two vehicles now, m (inf when fewer than two share a lane)."""
    g, _, _ = gaps(engine)
    return float(g.min()) if len(g) else float("inf")


def red_crossings(engine: Engine) -> npt.NDArray[np.str_]:
    """Ids of the vehicles that crossed a stop line on red in the last step (should be empty)."""
    ids, _, modes = engine.crossings
    out: npt.NDArray[np.str_] = ids[modes == M_RED]
    return out
