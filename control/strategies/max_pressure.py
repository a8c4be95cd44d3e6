"""Max-pressure control in the program's own stage order (cyclic max-pressure).

The pressure of a stage is the sum over its green movements of the vehicles on the upstream lane
minus those on the downstream lane (a lane with several green movements counts once, against the
mean of its downstream lanes), computed for every stage of every controller at once. After its
minimum a stage is extended while its pressure is within ``hysteresis_veh`` of the most pressing
other stage and ends otherwise; its maximum (and the waiting links' maximum red) bound it.
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
        """(R,) pressure of every stage-table row from the lane vehicle counts (veh)."""
        x = np.asarray(ctx.lanes["count"], dtype=np.float64)
        return ctx.table.pressure(x, x)

    def desired_end(self, ctx: Context) -> F64:
        """(n,) stage ends: ``now`` when another stage is more pressing, else a short extension (s)."""
        cfg = self.cfg
        pr = self.pressures(ctx)
        cur = pr[ctx.row]
        best_other = np.array([pr[r].max() if len(r := ctx.other_rows(i)) else -np.inf for i in range(len(ctx.tls))])
        switch = best_other > cur + cfg.hysteresis_veh
        ext = ctx.now + cfg.extension_s
        out = np.where(switch, ctx.lo, np.maximum(ext, ctx.lo))
        return np.minimum(out, ctx.hi)
