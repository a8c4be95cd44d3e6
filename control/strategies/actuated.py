"""Actuated control: extend the green while vehicles keep arriving, gap-out or max-out.

A stage runs at least its minimum; after that it is extended by ``extension_s`` at a time while
a lane that loses green with it saw a vehicle enter its detector zone within ``gap_s`` (or, with
``queue_extends``, still holds a discharging queue), and while any other stage has demand at
all; it ends on a gap (gap-out) or at its maximum (max-out, the safety window's upper bound).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from control.config import ActuatedConfig
from control.strategies.base import Context

F64 = npt.NDArray[np.float64]


class Actuated:
    """Gap-out / max-out from the fused lane states; see the module docstring."""

    name = "actuated"

    def __init__(self, cfg: ActuatedConfig | None = None) -> None:
        self.cfg = cfg or ActuatedConfig()

    def observe(self, now: float, lanes: npt.NDArray[Any]) -> None:
        """Stateless."""

    def desired_end(self, ctx: Context) -> F64:
        """(n,) stage ends: ``now + extension`` while demand holds, ``now`` on a gap (s)."""
        cfg = self.cfg
        lanes = ctx.lanes
        gap = np.asarray(lanes["gap_s"], dtype=np.float64)
        table = ctx.table
        min_gap = table.ending_min(gap)[ctx.row]
        arriving = min_gap < cfg.gap_s
        if cfg.queue_extends:
            discharging = (lanes["queue_veh"] > 0) & (np.nan_to_num(lanes["mean_speed"]) > 1.0)
            arriving |= table.ending_max(discharging.astype(np.float64))[ctx.row] > 0
        demand = table.served_sum(np.asarray(lanes["count"], dtype=np.float64))
        others = np.array([demand[ctx.other_rows(i)].sum() for i in range(len(ctx.tls))])
        extend = arriving | (others <= 0)
        ext = ctx.now + cfg.extension_s
        out = np.where(extend, np.maximum(ext, ctx.lo), ctx.lo)
        return np.minimum(out, ctx.hi)
