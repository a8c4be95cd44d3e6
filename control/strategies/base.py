"""What a signal strategy sees and answers.

A strategy is asked, for the controllers it runs that are showing a stage, when that stage
should end (absolute s). The facade turns answers into ``SET_DURATION`` commands, and the
safety layer clamps them to the window :attr:`Context.lo` .. :attr:`Context.hi` anyway; a
strategy that stays inside the window is never corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from control.plan import ControllerPlan
from control.stages import StageTable

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Context:
    """The controllers asked this tick, as arrays of shape (n,), and the picture's lane states.

    Attributes
    ----------
    now
        s since the epoch.
    lanes
        ``LANE_STATE_DTYPE`` rows, (L,).
    tls, program, phase, row
        Controller index, network program, phase index and :class:`StageTable` row.
    phase_start, planned_end
        When the stage started and when it is planned to end now, s.
    lo, hi
        The earliest and latest end the safety rules allow, s.
    """

    now: float
    lanes: npt.NDArray[Any]
    table: StageTable
    plans: list[ControllerPlan]
    tls: I64
    program: I64
    phase: I64
    row: I64
    phase_start: F64
    planned_end: F64
    lo: F64
    hi: F64

    def other_rows(self, i: int) -> I64:
        """Rows of the other stages of the program controller ``i`` is running."""
        pp = self.plans[int(self.tls[i])].program(int(self.program[i]))
        rows = [self.table.row_of[(pp.index, int(h))] for h in pp.stages.tolist() if int(h) != int(self.phase[i])]
        return np.array(rows, dtype=np.int64)


class Strategy(Protocol):
    """A signal timing strategy."""

    name: str

    def observe(self, now: float, lanes: npt.NDArray[Any]) -> None:
        """Take every tick's lane states (for strategies that measure over time)."""
        ...

    def desired_end(self, ctx: Context) -> F64:
        """(n,) when each asked controller's current stage should end, s (NaN: no opinion)."""
        ...
