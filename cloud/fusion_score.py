"""``xj fusion score``: the fused picture against the simulator's ground truth, in lock-step.

Runs a scenario (:mod:`sim.scenario`) in lock-step with its field devices (RSUs, lamp posts,
OBUs; the signal controllers run their own programs, nothing is sent back) and every tick builds

- the fused picture of what the devices report (:class:`cloud.lockstep_platform.FusedPicture`,
  the one ``xj sim run --platform-opt picture=fused`` controls with: fusion's tracker on the
  detections and BSMs, then fusion's traffic picture on the scenario's map), and
- the same traffic picture on perfect tracks of the ground truth (the reference queues),

and scores the one against the other with :class:`fusion.evaluate.Scorecard`: GOSPA over all
vehicles and over the observable ones (inside some sensor's field of view,
:meth:`sim.devices.sensors.Sensors.in_view`, or connected), identity switches, the connected
vehicles' identity on their tracks, per-lane queue-length error. Writes ``score.json`` (the
summary) and ``score.png`` (GOSPA over time, queue error histogram) in ``--out``.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cloud.cli import UserError
from cloud.lockstep_platform import FusedPicture
from fusion import Picture
from fusion.evaluate import Scorecard, tracks_from_truth
from roadnet import MapError, RoadNetwork
from sim.cli import SimProgress
from sim.devices.field import FieldDevices
from sim.interface import Decisions, Observations
from sim.kpi import write_json
from sim.lockstep import OnTick, RunResult, run
from sim.scenario import Scenario, ScenarioError, load_scenario


class ScoringPlatform:
    """A lock-step platform that only watches: fused picture vs truth picture, scored each tick.

    Parameters
    ----------
    net
        The scenario's road network.
    devices
        The run's field devices (their sensors say what is observable; their vehicle index
        gives every vehicle a stable code).
    card
        Where the scores go.
    epoch
        Unix time of simulated time 0, s (scores are kept in simulated seconds).
    """

    def __init__(self, net: RoadNetwork, devices: FieldDevices, card: Scorecard, epoch: float) -> None:
        self.fused = FusedPicture(net)
        self.reference = Picture(net)
        self.devices = devices
        self.card = card
        self.epoch = float(epoch)

    def tick(self, obs: Observations) -> Decisions:
        """Score one tick; decide nothing (the controllers keep their programs)."""
        state = self.fused.update(obs)
        truth = obs.truth
        if truth is None:
            raise ValueError("scoring needs the ground truth in the observations (run with with_truth=True)")
        codes = self.devices.index.codes(truth["vehicle_id"])
        covered = self.devices.sensors.in_view(truth["x"], truth["y"]) | truth["connected"]
        ref = self.reference.update(obs.t, tracks_from_truth(obs.t, truth, codes))
        self.card.add(obs.t - self.epoch, truth, codes, covered, state.tracks, state.lanes, ref.lanes)
        return Decisions()


@dataclass
class ScoreRun:
    """A scored run: the scenario, its seed and length, the scores and the lock-step result."""

    scenario: str
    seed: int
    until: float
    card: Scorecard
    result: RunResult

    def report(self) -> dict[str, Any]:
        """The JSON summary: run facts, device counts, then :meth:`Scorecard.summary`."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "until_s": self.until,
            "wall_seconds": round(self.result.wall_seconds, 2),
            "devices": {k: v for k, v in self.result.devices.items() if not isinstance(v, dict)},
            **self.card.summary(),
        }


def score_scenario(
    scenario: Scenario | str | Path,
    *,
    until: float | None = None,
    seed: int | None = None,
    card: Scorecard | None = None,
    on_tick: OnTick | None = None,
) -> ScoreRun:
    """Run a scenario in lock-step and score fusion against its ground truth.

    Parameters
    ----------
    scenario
        A loaded scenario, or the path of one (TOML or ``.sumocfg``).
    until
        Simulated seconds to run (default: the scenario's duration).
    seed
        Random seed (default: the scenario's).
    card
        The scorecard to fill (default: a new one with c = 10 m, p = 2).
    on_tick
        Called after every tick (progress bars).

    Raises
    ------
    sim.scenario.ScenarioError, roadnet.MapError
        The scenario cannot be used; the message names the file and what to fix.
    """
    from sim.engine import Engine

    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    seed = scn.seed if seed is None else int(seed)
    until = scn.duration if until is None else float(until)
    net, demand = scn.build(seed=seed, until=until)
    engine = Engine(net, demand, seed=seed, dt=scn.step)
    devices = FieldDevices(net, scn.devices, epoch_ns=scn.epoch_ns, seed=seed, t0=float(engine.t))
    card = Scorecard() if card is None else card
    platform = ScoringPlatform(net, devices, card, scn.epoch_ns / 1e9)
    result = run(engine, devices, platform, float(engine.t) + until, on_tick)
    return ScoreRun(scn.name, seed, until, card, result)


def _print(report: dict[str, Any], written: list[Path]) -> None:
    g, ids, ident, q = report["gospa"], report["id_switches"], report["identity"], report["queue"]

    def f(v: Any, unit: str = "", digits: int = 2) -> str:
        return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}{unit}"

    rows = [
        (
            "GOSPA observable: mean / RMS per veh",
            f"{f(g['covered']['mean_m'], ' m')} / {f(g['covered']['rms_per_vehicle_m'], ' m')}",
        ),
        (
            "GOSPA all: mean / RMS per veh",
            f"{f(g['all']['mean_m'], ' m')} / {f(g['all']['rms_per_vehicle_m'], ' m')}",
        ),
        ("position RMS of tracked vehicles", f(g["covered"]["localisation_rms_m"], " m")),
        (
            "observable share / missed share",
            f"{f(g['coverage_share'], '', 3)} / {f(g['covered']['missed_share'], '', 3)}",
        ),
        ("false tracks per tick", f(g["covered"]["false_per_tick"])),
        (
            "ID switches (held / after gap), per veh",
            f"{ids['total']} ({ids['while_held']} / {ids['after_gap']}), {f(ids['per_vehicle'], '', 3)} "
            f"of {ids['vehicles']}",
        ),
        (
            "connected: identity share (ever)",
            f"{f(ident['share'], '', 3)} ({f(ident['vehicles_share_ever'], '', 3)})",
        ),
        ("queue error: mean / p95 (lane-ticks)", f"{f(q['mae_m'], ' m')} / {f(q['p95_m'], ' m')} ({q['samples']})"),
    ]
    table = Table(show_header=False, box=None)
    for k, v in rows:
        table.add_row(k, v)
    Console().print(table)
    for w in written:
        print(f"wrote {w}")


def cmd_score(args: argparse.Namespace) -> int:
    """``xj fusion score SCENARIO [--until S] [--seed N] [--out DIR] [--quiet]``."""
    if args.until is not None and not (math.isfinite(args.until) and args.until > 0):
        raise UserError(f"--until must be a number of simulated seconds > 0, got {args.until}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a directory for score.json and score.png")
    try:
        scn = load_scenario(args.scenario)
        until = scn.duration if args.until is None else float(args.until)
        card = Scorecard()

        def live() -> str:
            return f"GOSPA {card.ticks[-1].gospa_covered:5.1f} m" if card.ticks else ""

        progress = SimProgress(until, not args.quiet, f"score {scn.name}", note=live)
        with progress.progress:
            scored = score_scenario(scn, until=until, seed=args.seed, card=card, on_tick=progress)
            progress.progress.update(progress.task, completed=until)
    except (ScenarioError, MapError) as exc:
        raise UserError(str(exc)) from None
    report = scored.report()
    out.mkdir(parents=True, exist_ok=True)
    js = write_json(report, out / "score.json")
    png = scored.card.plot(out / "score.png", title=f"{scn.name}: fused picture vs ground truth ({until:g} s)")
    _print(report, [js, png])
    return 0
