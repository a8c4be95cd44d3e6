"""Max-pressure control in the program's own stage order (cyclic max-pressure).

The pressure of a stage is the sum over its green movements of the vehicles on the upstream lane
minus those on the downstream lane (a lane with several green movements counts once, against the
mean of its downstream lanes), computed for every stage of every controller at once. After its
minimum a stage is extended while its pressure is within ``hysteresis_veh`` of the most pressing
other stage, or while a vehicle entered the detector zone of a lane it serves within
``platoon_gap_s`` (a discharging platoon is not cut), and ends otherwise; its maximum (and the
waiting links' maximum red) bound it.
Running the program's order keeps every transition the program's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from control.config import MaxPressureConfig
from control.strategies.base import Context

F64 = npt.NDArray[np.float64]


class MaxPressure:
    """Cyclic max-pressure from lane queues; see the module docstring."""

    name = "max-pressure"

    def __init__(self, cfg: MaxPressureConfig | None = None) -> None:
        self.cfg = cfg or MaxPressureConfig()

    def observe(self, now: float, lanes: npt.NDArray[Any]) -> None:
        """Stateless."""

    def pressures(self, ctx: Context) -> F64:
        """(R,) pressure of every stage-table row from the lanes' vehicles (veh, see ``measure``)."""
        lanes = ctx.lanes
        m = self.cfg.measure
        if m == "queue":
            x = np.asarray(lanes["queue_veh"], dtype=np.float64)
        elif m == "queue+arriving":
            x = (
                np.asarray(lanes["queue_veh"], dtype=np.float64)
                + np.asarray(lanes["count"] - lanes["halting"], dtype=np.float64) * 0.5
            )
        else:
            x = np.asarray(lanes["count"], dtype=np.float64)
        return ctx.table.pressure(x, x)

    def desired_end(self, ctx: Context) -> F64:
        """(n,) stage ends: ``now`` when another stage is more pressing, else a short extension (s)."""
        cfg = self.cfg
        pr = self.pressures(ctx)
        cur = pr[ctx.row]
        best_other = np.array([pr[r].max() if len(r := ctx.other_rows(i)) else -np.inf for i in range(len(ctx.tls))])
        switch = best_other > cur + cfg.hysteresis_veh
        if cfg.platoon_gap_s > 0:
            gap = ctx.table.ending_min(np.asarray(ctx.lanes["gap_s"], dtype=np.float64))[ctx.row]
            switch &= gap >= cfg.platoon_gap_s
        ext = ctx.now + cfg.extension_s
        out = np.where(switch, ctx.lo, np.maximum(ext, ctx.lo))
        return np.minimum(out, ctx.hi)
