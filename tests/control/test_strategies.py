"""Strategies against analytic answers: Webster's textbook example, actuated gap-out / max-out
timing, max-pressure's stage choice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from control.machine import SignalMachine
from control.plan import ControllerPlan
from control.safety import SafetyLayer
from control.stages import StageTable, build_stage_table
from control.strategies import Actuated, Context, FixedTime, MaxPressure, webster_cycle, webster_splits
from proto import empty_lane_states
from roadnet import RoadNetwork

T0 = 1000.0


@pytest.mark.parametrize(
    ("y", "lost", "cycle"),
    [
        # the classic four-phase worked example: critical flow ratios 0.225 / 0.175 / 0.200 /
        # 0.150 (Y = 0.75), 4 s lost per phase (L = 16 s): (1.5 * 16 + 5) / (1 - 0.75) = 116 s
        ([0.225, 0.175, 0.200, 0.150], 16.0, 116.0),
        # two phases, y = 0.25 + 0.35, L = 10 s: (1.5 * 10 + 5) / (1 - 0.6) = 50 s
        ([0.25, 0.35], 10.0, 50.0),
    ],
    ids=["four-phase", "two-phase"],
)
def test_webster_cycle_matches_the_worked_example(y: list[float], lost: float, cycle: float) -> None:
    assert webster_cycle(y, lost) == pytest.approx(cycle, abs=1e-9)


def test_webster_clamps_and_saturates() -> None:
    assert webster_cycle([0.1, 0.1], 10.0, min_cycle=40.0) == 40.0
    assert webster_cycle([0.6, 0.5], 10.0, max_cycle=150.0) == 150.0


def test_webster_splits_share_green_in_proportion_to_y() -> None:
    g = webster_splits([0.25, 0.35], 40.0)
    assert g == pytest.approx([40 * 0.25 / 0.6, 40 * 0.35 / 0.6])
    assert webster_splits([0.0, 0.0], 40.0) == pytest.approx([20.0, 20.0])


def _ctx(
    net: RoadNetwork, plans: list[ControllerPlan], table: StageTable, m: SignalMachine, lanes: np.ndarray, now: float
) -> Context:
    lo, hi = SafetyLayer(plans).duration_window(m, now)
    t = m.plan.tls
    return Context(
        now=now,
        lanes=lanes,
        table=table,
        plans=plans,
        tls=np.array([t]),
        program=np.array([m.program]),
        phase=np.array([m.phase]),
        row=np.array([table.row_of[(m.program, m.phase)]]),
        phase_start=np.array([m.phase_start]),
        planned_end=np.array([m.phase_end]),
        lo=np.array([lo]),
        hi=np.array([hi]),
    )


def _served_and_other(
    plans: list[ControllerPlan], table: StageTable, m: SignalMachine
) -> tuple[np.ndarray, np.ndarray]:
    pp = m.plan.program(m.program)
    this = table.row_of[(m.program, m.phase)]
    other = table.row_of[(m.program, int(pp.next_stage(m.phase)))]
    ending = table.en_lane[table.en_row == this]
    others = table.sv_lane[table.sv_row == other]
    return ending, others


@dataclass
class Centre:
    """The grid's centre junction at the start of its east-west stage, with empty lanes."""

    net: RoadNetwork
    plans: list[ControllerPlan]
    table: StageTable
    m: SignalMachine
    ending: np.ndarray  #: lanes that lose green with the stage
    others: np.ndarray  #: lanes the other stage serves
    lanes: np.ndarray

    def ctx(self, now: float) -> Context:
        return _ctx(self.net, self.plans, self.table, self.m, self.lanes, now)


@pytest.fixture
def centre(grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]) -> Centre:
    pl = plans["grid"]
    table = build_stage_table(grid_net, pl)
    m = SignalMachine.start(pl[4], int(grid_net.tls_active_program[4]), 0, T0, log=True)
    ending, others = _served_and_other(pl, table, m)
    return Centre(grid_net, pl, table, m, ending, others, empty_lane_states(len(grid_net.lane_ids)))


def test_webster_plan_follows_measured_flows(grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]) -> None:
    pl = plans["grid"]
    table = build_stage_table(grid_net, pl)
    ft = FixedTime(grid_net, pl, table)
    m = SignalMachine.start(pl[4], int(grid_net.tls_active_program[4]), 0, T0)
    ending, others = _served_and_other(pl, table, m)
    flow = np.zeros(len(grid_net.lane_ids))
    flow[ending] = 0.25  # stage A lanes: 900 veh/h, y = 0.5
    flow[others] = 0.10  # stage B lanes: 360 veh/h, y = 0.2
    ft.recompute(flow)
    g = ft.greens[(4, m.program)]
    pp = pl[4].program(m.program)
    a, b = int(pp.stages[0]), int(pp.stages[1])
    trans = float(pp.duration.sum() - pp.duration[pp.stages].sum())
    cycle = webster_cycle([0.5, 0.2], 2 * 2.0 + 2 * 2.0, min_cycle=40.0, max_cycle=150.0)
    assert g[a] + g[b] + trans == pytest.approx(cycle)
    assert g[a] / g[b] == pytest.approx(0.5 / 0.2)
    lanes = empty_lane_states(len(grid_net.lane_ids))
    end = ft.desired_end(_ctx(grid_net, pl, table, m, lanes, T0 + 1.0))
    assert end[0] == pytest.approx(T0 + g[a])


def test_actuated_extends_on_arrivals_gaps_out_and_maxes_out(centre: Centre) -> None:
    act, c, lanes = Actuated(), centre, centre.lanes
    lanes["count"][c.others] = 3  # demand waits on the other stage
    # before the minimum (8 s): at least the minimum
    lanes["gap_s"][c.ending] = 10.0
    assert act.desired_end(c.ctx(T0 + 2.0))[0] == pytest.approx(T0 + 8.0)
    # arrivals within the 3 s gap: extended by 2 s
    lanes["gap_s"][c.ending[0]] = 1.0
    assert act.desired_end(c.ctx(T0 + 20.0))[0] == pytest.approx(T0 + 22.0)
    # gap out: no arrival for 3 s on any lane that loses green
    lanes["gap_s"][c.ending] = 3.5
    assert act.desired_end(c.ctx(T0 + 20.0))[0] == pytest.approx(T0 + 20.0)
    # max out: arrivals keep coming but the stage is at its 60 s maximum
    lanes["gap_s"][c.ending] = 0.5
    assert act.desired_end(c.ctx(T0 + 59.0))[0] == pytest.approx(T0 + 60.0)


def test_actuated_gap_out_time_on_the_reference_controller(centre: Centre) -> None:
    """Vehicles every 2 s until t = 30 s, then none: the stage ends 3 s after the last arrival."""
    act, c, m = Actuated(), centre, centre.m
    c.lanes["count"][c.others] = 2
    now = T0
    while m.phase == 0 and now < T0 + 100:
        now += 0.1
        m.advance(now)
        last_arrival = min(T0 + 2.0 * np.floor((now - T0) / 2.0), T0 + 30.0)
        c.lanes["gap_s"][c.ending] = now - last_arrival
        if m.phase != 0:
            break
        m.phase_end = act.desired_end(c.ctx(now))[0]
    assert m.log is not None
    assert m.log[0].t == pytest.approx(T0 + 33.0, abs=0.15)


def test_max_pressure_picks_the_stage_with_the_larger_pressure(centre: Centre) -> None:
    mp, c, lanes = MaxPressure(), centre, centre.lanes
    lanes["count"][c.ending] = 10
    lanes["count"][c.others] = 3
    ctx = c.ctx(T0 + 20.0)
    pr = mp.pressures(ctx)
    assert pr[ctx.row[0]] > pr[ctx.other_rows(0)].max()
    assert mp.desired_end(ctx)[0] == pytest.approx(T0 + 22.0)  # keeps its green
    lanes["count"][c.ending] = 1
    lanes["count"][c.others] = 12
    assert mp.desired_end(c.ctx(T0 + 20.0))[0] == pytest.approx(T0 + 20.0)  # switches now
    # unless a platoon is still crossing the line
    lanes["gap_s"][c.ending] = 1.0
    assert mp.desired_end(c.ctx(T0 + 20.0))[0] == pytest.approx(T0 + 22.0)
    # and never before the minimum green
    lanes["gap_s"][c.ending] = 10.0
    assert mp.desired_end(c.ctx(T0 + 3.0))[0] == pytest.approx(T0 + 8.0)


def test_downstream_queues_reduce_pressure(grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]) -> None:
    pl = plans["grid"]
    table = build_stage_table(grid_net, pl)
    x = np.zeros(len(grid_net.lane_ids))
    row = table.row_of[(int(grid_net.tls_active_program[4]), 0)]
    sel = table.mv_row == row
    x[table.mv_from[sel]] = 5.0
    free = table.pressure(x, x)[row]
    x[table.mv_to[sel]] = 5.0
    assert table.pressure(x, x)[row] < free


def test_arterial_offsets_follow_the_distance(
    corridor_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]
) -> None:
    from control.config import FixedTimeConfig

    pl = plans["corridor"]
    table = build_stage_table(corridor_net, pl)
    ids = tuple(corridor_net.tls_ids)
    ft = FixedTime(corridor_net, pl, table, FixedTimeConfig(arterials=(ids,), progression_speed_mps=10.0))
    ft.recompute(np.full(len(corridor_net.lane_ids), 0.1))
    cycles = {ft.cycle[t] for t in range(len(ids))}
    assert max(cycles) - min(cycles) < 1e-6, "a chain shares one cycle"
    assert ft.offset[1] == pytest.approx(300.0 / 10.0)  # C0 -> C1 is 300 m
    assert ft.offset[2] == pytest.approx(550.0 / 10.0)


def test_reach_counts_the_lanes_feeding_a_short_approach(pasubio_net: RoadNetwork, grid_net: RoadNetwork) -> None:
    from control.approach import Approaches
    from control.stages import reach_matrix

    up = reach_matrix(pasubio_net, 150.0)
    ap = Approaches.build(pasubio_net)
    short = np.flatnonzero((ap.lane_tls >= 0) & (pasubio_net.lane_length < 50.0))
    x = np.ones(len(pasubio_net.lane_ids))
    reached = up @ x
    assert np.all(reached >= 1.0)
    assert np.mean(reached[short] > 1.0) > 0.5, "most short approach lanes have lanes feeding them"
    # on the grid every approach starts at a signal or a dead end: nothing to add
    g = reach_matrix(grid_net, 150.0)
    assert (g != reach_matrix(grid_net, 0.0)).nnz == 0
