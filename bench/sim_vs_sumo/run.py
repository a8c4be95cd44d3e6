"""Runs of both engines on one input, each returning what the comparison needs."""

from __future__ import annotations

import re
import resource
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from roadnet import RoadNetwork
from sim.demand import Demand, load_sumocfg
from sim.engine import Engine, TruthRecorder
from sim.engine.checks import min_gap, red_crossings
from sim.kpi import engine_kpis

from .scenarios import sumo_binary

STEP = 0.1


@dataclass
class Speed:
    """One run: vehicle-updates per wall second and per CPU second, vehicles running on average.

    On a shared machine the wall clock counts time spent waiting for a core; CPU seconds (user +
    system of the process, loading excluded) do not, so both are reported.
    """

    updates_per_s: float
    updates_per_cpu_s: float
    mean_running: float
    wall_s: float


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _sumo(args: list[str]) -> tuple[str, float]:
    c0 = _child_cpu()
    out = subprocess.run([str(sumo_binary()), *args], check=True, capture_output=True, text=True).stdout
    return out, _child_cpu() - c0


def sumo_speed(net_file: Path, route_file: Path, seconds: float, work: Path) -> Speed:
    """``sumo`` on the grid: its own reported UPS (vehicle updates per wall second of its loop), and
    per CPU second (its CPU time minus that of a run that only loads the same files)."""
    common = ["-n", str(net_file), "-r", str(route_file), "--no-step-log", "true", "--no-warnings", "true"]
    _, load_cpu = _sumo([*common, "--end", "0", "--log", str(work / "sumo_load.log")])
    out, cpu = _sumo(
        [
            *common,
            "--step-length",
            str(STEP),
            "--end",
            str(seconds),
            "--duration-log.statistics",
            "true",
            "--seed",
            "1",
            "--log",
            str(work / "sumo_grid.log"),
        ]
    )
    ups = float(re.search(r"UPS:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]
    dur = float(re.search(r"Duration:\s*([\d.]+)s", out).group(1))  # type: ignore[union-attr]
    updates = ups * dur
    return Speed(ups, updates / max(cpu - load_cpu, 1e-9), updates / (seconds / STEP), dur)


def our_speed(net: RoadNetwork, demand: Demand, seconds: float) -> Speed:
    """Our engine on the same network and demand (fixed-time signals as sumo runs them)."""
    eng = Engine(net, demand, seed=1, dt=STEP)
    c0 = time.process_time()
    eng.run(seconds)
    cpu = time.process_time() - c0
    u = eng.stats["updates"]
    return Speed(u / eng.wall_seconds, u / cpu, u / max(eng.stats["steps"], 1), eng.wall_seconds)


@dataclass
class CityResult:
    """One engine's hour of Pasubio."""

    arrived: int
    mean_travel_time_s: float
    wall_s: float
    extra: dict[str, Any] = field(default_factory=dict)


def sumo_city(cfg: Path, seconds: float, work: Path) -> CityResult:
    """``sumo -c run.sumocfg`` at 0.1 s; arrivals and mean trip duration from its tripinfo."""
    trip = work / "sumo_tripinfo.xml"
    t0 = time.perf_counter()
    subprocess.run(
        [
            str(sumo_binary()),
            "-c",
            str(cfg),
            "--step-length",
            str(STEP),
            "--end",
            str(seconds),
            "--tripinfo-output",
            str(trip),
            "--log",
            str(work / "sumo_city.log"),
            "--no-step-log",
            "true",
            "--duration-log.statistics",
            "true",
        ],
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - t0
    dur = np.array([float(e.get("duration", "nan")) for e in ET.parse(trip).getroot().iter("tripinfo")])
    return CityResult(len(dur), float(dur.mean()) if len(dur) else float("nan"), wall)


def our_city(
    cfg: Path, seconds: float, *, record: tuple[float, float] | None = None
) -> tuple[CityResult, Engine, TruthRecorder]:
    """Our engine on the same configuration: KPIs, and safety checked as it runs.

    Collisions (any negative gap) are checked every 10 simulated seconds, red-light running every
    step; ``record`` = (from, to) s keeps the ground truth every second in that window.
    """
    net, demand = load_sumocfg(cfg)
    eng = Engine(net, demand, seed=0, dt=STEP)
    rec = TruthRecorder(every=10)
    worst = float("inf")
    reds = 0
    steps = round(seconds / STEP)
    for k in range(steps):
        eng.step()
        reds += len(red_crossings(eng))
        if k % 100 == 0:
            worst = min(worst, min_gap(eng))
        if record and record[0] <= eng.t < record[1]:
            rec.sample(eng.t, eng.truth())
    kp = engine_kpis(eng)
    extra = {
        "worst_gap_m": worst,
        "red_light_crossings": reds,
        "teleports": kp["teleports"],
        "running_at_end": eng.n_running,
        "waiting_to_depart_at_end": int(len(demand) - kp["vehicles_inserted"] - np.sum(demand.depart > eng.t)),
        "mean_delay_s": kp["mean_delay_s"],
        "mean_stops": kp["mean_stops"],
        "bus_mean_delay_s": kp["bus_mean_delay_s"],
        "emergency_brakes": eng.stats["emergency_brakes"],
    }
    return CityResult(kp["vehicles_arrived"], kp["mean_travel_time_s"], eng.wall_seconds, extra), eng, rec
