"""Fixed-time control with Webster's cycle and splits from measured flows, recomputed periodically.

Webster (1958): with ``L`` the lost time per cycle (s) and ``Y`` the sum over stages of the
critical flow ratio ``y = q / s`` (flow over saturation flow of the stage's most loaded lane),
the delay-minimising cycle is ``C0 = (1.5 L + 5) / (1 - Y)`` and the effective green is shared
in proportion to ``y``. Here a lane's flow is its measured departures plus its queue growth over
the last period (the arrival rate), split evenly over the stages serving it; ``L`` counts a
start-up loss and the all-red time per stage; the green to share is the cycle less every
non-stage phase; each stage is clamped to its effective min/max. Until the first period is over
a controller runs its program's durations.

Arterial coordination: controllers of a chain (``FixedTimeConfig.arterials``) share the chain's
longest cycle, and each one's first stage is scheduled to end ``distance / speed`` after the
previous junction's; a stage is stretched or cut (within its min/max) toward that schedule.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from control.config import FixedTimeConfig
from control.plan import ControllerPlan
from control.stages import StageTable
from control.strategies.base import Context
from roadnet import RoadNetwork

F64 = npt.NDArray[np.float64]

#: a Y this close to 1 is oversaturated: the longest cycle is used
Y_SATURATED = 0.95


def webster_cycle(y: npt.ArrayLike, lost_s: float, *, min_cycle: float = 0.0, max_cycle: float = math.inf) -> float:
    """Webster's optimal cycle ``(1.5 L + 5) / (1 - Y)``, s, clamped; the maximum when Y >= 0.95.

    Parameters
    ----------
    y
        (S,) critical flow ratios of the stages (flow / saturation flow).
    lost_s
        Lost time per cycle L, s.
    """
    big_y = float(np.sum(y))
    if big_y >= Y_SATURATED:
        return float(max_cycle) if math.isfinite(max_cycle) else (1.5 * lost_s + 5.0) / (1.0 - Y_SATURATED)
    c0 = (1.5 * lost_s + 5.0) / (1.0 - big_y)
    return float(min(max(c0, min_cycle), max_cycle))


def webster_splits(y: npt.ArrayLike, green_s: float) -> F64:
    """(S,) effective greens: ``green_s`` shared in proportion to ``y`` (evenly when all are 0), s."""
    ya = np.asarray(y, dtype=np.float64)
    tot = float(ya.sum())
    if tot <= 0:
        return np.full(len(ya), green_s / max(len(ya), 1))
    out: F64 = green_s * ya / tot
    return out


class FixedTime:
    """Webster fixed-time plans per controller (and offsets along arterials); see the module docstring.

    Parameters
    ----------
    net, plans, table
        The map, the controller plans and the stage table.
    cfg
        Saturation flow, recompute period, cycle bounds, arterial chains.
    """

    name = "fixed"

    def __init__(
        self, net: RoadNetwork, plans: list[ControllerPlan], table: StageTable, cfg: FixedTimeConfig | None = None
    ) -> None:
        self.net, self.plans, self.table = net, plans, table
        self.cfg = cfg or FixedTimeConfig()
        n_l = len(net.lane_ids)
        self._dep = np.zeros(n_l)  # vehicles that crossed each stop line this period
        self._q0: F64 | None = None
        self._t0: float | None = None
        self._last_t: float | None = None
        #: per controller: stage durations by phase (NaN for non-stage phases), per program
        self.greens: dict[tuple[int, int], F64] = {}
        self.cycle: dict[int, float] = {}
        self.offset: dict[int, float] = {}
        self.recomputed_at: float | None = None

    # ------------------------------------------------------------------ measuring
    def observe(self, now: float, lanes: npt.NDArray[Any]) -> None:
        """Integrate departures (flow x dt) and recompute the plans every ``recompute_s``."""
        q = np.asarray(lanes["queue_veh"], dtype=np.float64)
        if self._t0 is None:
            self._t0, self._last_t, self._q0 = now, now, q.copy()
            return
        dt = max(now - (self._last_t if self._last_t is not None else now), 0.0)
        self._dep += np.asarray(lanes["flow"], dtype=np.float64) * dt
        self._last_t = now
        period = now - self._t0
        if period >= self.cfg.recompute_s:
            q0 = self._q0 if self._q0 is not None else q
            arrivals = np.maximum(self._dep + (q - q0), 0.0) / period
            self.recompute(arrivals)
            self.recomputed_at = now
            self._dep[:] = 0.0
            self._t0, self._q0 = now, q.copy()

    def recompute(self, lane_flow: F64) -> None:
        """New cycle and splits for every controller from lane arrival flows (L,) in veh/s."""
        cfg = self.cfg
        sat = cfg.saturation_vph / 3600.0
        table = self.table
        ratio = lane_flow[table.sv_lane] * table.sv_share / sat
        y_row = np.zeros(table.n_rows)
        np.maximum.at(y_row, table.sv_row, ratio)
        for plan in self.plans:
            for p, pp in plan.programs.items():
                stages = pp.stages
                if len(stages) == 0:
                    continue
                y = y_row[[table.row_of[(p, int(h))] for h in stages.tolist()]]
                trans = pp.duration.sum() - pp.duration[stages].sum()
                all_red = self._all_red_s(plan, p)
                lost = len(stages) * cfg.startup_lost_s + all_red
                c = webster_cycle(y, lost, min_cycle=cfg.min_cycle_s, max_cycle=cfg.max_cycle_s)
                c = max(c, float(trans + pp.eff_min[stages].sum()))
                g = webster_splits(y, c - float(trans))
                g = np.clip(g, pp.eff_min[stages], pp.eff_max[stages])
                out = np.full(pp.n_phases, np.nan)
                out[stages] = g
                self.greens[(plan.tls, p)] = out
                if p == int(self.net.tls_active_program[plan.tls]):
                    self.cycle[plan.tls] = float(g.sum() + trans)
        self._coordinate()

    @staticmethod
    def _all_red_s(plan: ControllerPlan, p: int) -> float:
        pp = plan.program(p)
        none = ~pp.green.any(axis=1) & ~pp.amber.any(axis=1)
        return float(pp.duration[none].sum())

    def _coordinate(self) -> None:
        """Common cycle and offsets along each configured arterial chain."""
        cfg = self.cfg
        idx = self.net.tls_index_of
        for chain in cfg.arterials:
            ts = [idx[c] for c in chain if c in idx]
            if len(ts) < 2:
                continue
            common = max(self.cycle.get(t, 0.0) for t in ts)
            off = 0.0
            prev = None
            for t in ts:
                if prev is not None:
                    j0, j1 = self.net.tls_junction_list(prev)[0], self.net.tls_junction_list(t)[0]
                    off += float(np.hypot(*(self.net.junction_xy[j1] - self.net.junction_xy[j0])))
                self.offset[t] = off / cfg.progression_speed_mps
                self._stretch(t, common)
                prev = t

    def _stretch(self, t: int, cycle: float) -> None:
        """Scale controller ``t``'s active-program greens so its cycle is ``cycle``."""
        p = int(self.net.tls_active_program[t])
        g = self.greens.get((t, p))
        if g is None:
            return
        pp = self.plans[t].program(p)
        stages = pp.stages
        trans = float(pp.duration.sum() - pp.duration[stages].sum())
        cur = float(np.nansum(g))
        if cur <= 0:
            return
        new = np.clip(g[stages] * (cycle - trans) / cur, pp.eff_min[stages], pp.eff_max[stages])
        g[stages] = new
        self.cycle[t] = float(new.sum() + trans)

    def planned_durations(self, t: int, p: int) -> dict[tuple[int, int], float]:
        """The planned stage durations of controller ``t``'s program ``p``, by (program, phase), s."""
        g = self.greens.get((t, p))
        if g is None:
            return {}
        return {(p, int(h)): float(g[h]) for h in np.flatnonzero(np.isfinite(g)).tolist()}

    # ------------------------------------------------------------------ deciding
    def desired_end(self, ctx: Context) -> F64:
        """(n,) stage ends: start + the planned green, moved toward the arterial schedule (s)."""
        out = np.full(len(ctx.tls), np.nan)
        for i in range(len(ctx.tls)):
            t, p, h = int(ctx.tls[i]), int(ctx.program[i]), int(ctx.phase[i])
            g = self.greens.get((t, p))
            pp = self.plans[t].program(p)
            green = float(pp.duration[h]) if g is None or not np.isfinite(g[h]) else float(g[h])
            end = float(ctx.phase_start[i]) + green
            if t in self.offset and g is not None and len(pp.stages) and h == int(pp.stages[0]):
                end = self._scheduled(t, float(ctx.phase_start[i]), green, float(ctx.lo[i]), float(ctx.hi[i]))
            out[i] = min(max(end, float(ctx.lo[i])), float(ctx.hi[i]))
        return out

    def _scheduled(self, t: int, start: float, green: float, lo: float, hi: float) -> float:
        """End of the coordinated (first) stage nearest the schedule ``k C + offset + green``."""
        c = self.cycle.get(t, 0.0)
        if c <= 0:
            return start + green
        target = self.offset[t] + green
        k = math.floor((start + green - target) / c + 0.5)
        end = target + k * c
        return float(min(max(end, lo), hi))
