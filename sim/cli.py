"""``xj sim``: run a scenario in lock-step or in real time over MQTT, with KPIs, truth and plots.

``xj sim run SCENARIO [--until S] [--realtime|--lockstep] [--seed N] [--kpi-out FILE.json]
[--truth-out FILE] [--plots DIR] [--control {fixed,actuated,max-pressure}] [--tsp|--no-tsp]
[--glosa|--no-glosa] [--speed X] [--mqtt URL]``

SCENARIO is a scenario TOML file (see :mod:`sim.scenario`) or a SUMO ``.sumocfg``.

The platform plugin
    The simulator knows only the contracts (``proto``, ``roadnet``). When a platform option is
    given (``--control``, ``--tsp``, ``--glosa``), the lock-step run loads the platform's stages
    through one documented plugin point: the module :data:`PLATFORM_PLUGIN` must provide
    ``make_platform(net: RoadNetwork, options: dict) -> sim.interface.Platform``. ``options``
    holds ``control`` (``"fixed"``, ``"actuated"``, ``"max-pressure"`` or None), ``tsp`` and
    ``glosa`` (True, False, or None for the platform's default), ``seed`` (int), ``epoch_ns``
    (Unix time of simulated time 0, ns), ``dt`` (tick, s), ``scenario`` (its name) and every
    ``--platform-opt KEY=VALUE`` (VALUE parsed as JSON when it can be). Without
    platform options the controllers run their local programs. In real time the platform is a
    separate process (``xj serve``) that talks to the simulator over MQTT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import math
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from proto.codec import now_ns
from roadnet.errors import MapError
from sim.devices.field import FieldDevices, Tick
from sim.devices.obu import GLOSA_COMPLIANT, GLOSA_NONCOMPLIANT
from sim.interface import Platform
from sim.lockstep import RunResult, run
from sim.scenario import Scenario, ScenarioError, load_scenario

#: The module that builds the platform for lock-step runs (see the module docstring).
PLATFORM_PLUGIN: Final = "cloud.lockstep_platform"
#: Truth sampling (every N ticks) kept for the time-space diagram when only --plots is given
PLOT_TRUTH_EVERY: Final = 5
CONTROL_CHOICES: Final = ("fixed", "actuated", "max-pressure")


class SimUserError(Exception):
    """A mistake the user can fix; the message says how."""


# ---------------------------------------------------------------------------- pieces


def load_platform(net: Any, options: dict[str, Any]) -> Platform:
    """The platform from :data:`PLATFORM_PLUGIN` (``make_platform(net, options)``).

    Raises
    ------
    SimUserError
        When the plugin is not installed or has no ``make_platform``.
    """
    try:
        mod = importlib.import_module(PLATFORM_PLUGIN)
    except ModuleNotFoundError as exc:
        if exc.name is not None and PLATFORM_PLUGIN.startswith(exc.name):
            raise SimUserError(
                f"--control/--tsp/--glosa run the platform in lock-step through the plugin {PLATFORM_PLUGIN} "
                "(make_platform(net, options)), which is not installed in this tree; "
                "run without them to use the controllers' local programs"
            ) from None
        raise
    make = getattr(mod, "make_platform", None)
    if not callable(make):
        raise SimUserError(f"{PLATFORM_PLUGIN} has no make_platform(net, options)")
    platform = make(net, options)
    if not callable(getattr(platform, "tick", None)):
        raise SimUserError(f"{PLATFORM_PLUGIN}.make_platform returned {type(platform).__name__}, which has no tick()")
    return platform  # type: ignore[no-any-return]


def _engine(net: Any, demand: Any, seed: int, dt: float) -> Any:
    try:
        from sim.engine import Engine
    except ImportError as exc:
        raise SimUserError(f"the traffic engine (sim.engine) is not available in this tree: {exc}") from None
    return Engine(net, demand, seed=seed, dt=dt)


def _mqtt(url: str) -> tuple[str, int, str | None, str | None]:
    u = urlsplit(url if "://" in url else f"mqtt://{url}")
    if u.scheme not in ("mqtt", "tcp") or not u.hostname:
        raise SimUserError(f"--mqtt {url!r} is not mqtt://[user:password@]host[:port]")
    try:
        port = u.port or 1883
    except ValueError:
        raise SimUserError(f"--mqtt {url!r}: the port is not a number") from None
    return u.hostname, port, u.username, u.password


def _check_args(args: argparse.Namespace) -> None:
    if args.until is not None and not args.until > 0:
        raise SimUserError(f"--until must be > 0 simulated seconds, got {args.until}")
    if not args.speed > 0:
        raise SimUserError(f"--speed must be > 0 (simulated seconds per wall-clock second), got {args.speed}")
    for name in ("obu_share", "compliance"):
        v = getattr(args, name)
        if v is not None and not 0.0 <= v <= 1.0:
            raise SimUserError(f"--{name.replace('_', '-')} must be between 0 and 1, got {v}")
    for name in ("kpi_out", "truth_out"):
        v = getattr(args, name)
        if v is not None and Path(v).is_dir():
            raise SimUserError(f"--{name.replace('_', '-')} {v} is a directory; give a file name")
    if args.plots is not None and Path(args.plots).exists() and not Path(args.plots).is_dir():
        raise SimUserError(f"--plots {args.plots} is a file; give a directory")


def _extra_options(items: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a VALUE that parses as JSON is taken as such, else as a string."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise SimUserError(f"--platform-opt {item!r} is not KEY=VALUE (e.g. picture=fused)")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def _platform_options(args: argparse.Namespace, scn: Scenario, seed: int) -> dict[str, Any] | None:
    extra = _extra_options(args.platform_opt)
    if args.control is None and args.tsp is None and args.glosa is None and not extra:
        return None
    return {
        **extra,
        "control": args.control,
        "tsp": args.tsp,
        "glosa": args.glosa,
        "seed": seed,
        "epoch_ns": scn.epoch_ns,
        "dt": scn.step,
        "scenario": scn.name,
    }


# ---------------------------------------------------------------------------- outputs


class _Outputs:
    """Truth recording during the run; the KPI report (sim.kpi plus the devices' outcomes); files.

    With ``--plots`` the truth is sampled every :data:`PLOT_TRUTH_EVERY` ticks for the time-space
    diagram even without ``--truth-out`` (which records every tick).
    """

    def __init__(self, engine: Any, net: Any, *, truth_out: str | None, plots: str | None) -> None:
        self.engine = engine
        self.net = net
        self.recorder: Any = None
        if truth_out is not None or plots is not None:
            from sim.engine.truth import TruthRecorder

            self.recorder = TruthRecorder(every=1 if truth_out is not None else PLOT_TRUTH_EVERY)

    def hooks(self) -> list[Any]:
        if self.recorder is None:
            return []
        rec = self.recorder
        return [lambda t, tick, truth: rec.sample(t, truth)]

    def report(self, result: RunResult, options: dict[str, Any], **meta: Any) -> dict[str, Any]:
        from sim.kpi import engine_kpis

        kpi = engine_kpis(self.engine, groups=result.groups)
        dev = result.devices
        return {
            **meta,
            **kpi,
            "glosa_stops_compliant": kpi.get(f"{GLOSA_COMPLIANT}_stops", math.nan),
            "glosa_stops_noncompliant": kpi.get(f"{GLOSA_NONCOMPLIANT}_stops", math.nan),
            "engine_wall_seconds": kpi.get("wall_seconds"),
            "sim_seconds": result.sim_seconds,
            "wall_seconds": result.wall_seconds,
            "ticks": result.ticks,
            "real_time_factor": result.realtime_factor,
            "platform": {k: v for k, v in options.items() if k in ("control", "tsp", "glosa")},
            "commands_accepted": dev.get("commands_accepted", 0),
            "commands_refused": dev.get("commands_refused", 0),
            "devices": dev,
            **result.extra,
        }

    def write(
        self, report: dict[str, Any], *, kpi_out: str | None, truth_out: str | None, plots: str | None
    ) -> list[str]:
        from sim.kpi import write_json

        written = []
        if kpi_out is not None:
            written.append(str(write_json(report, kpi_out)))
        if truth_out is not None and self.recorder is not None:
            written.append(str(self.recorder.save(truth_out)))
        if plots is not None:
            written += self._plots(Path(plots), str(report.get("scenario", "")))
        return written

    def _plots(self, directory: Path, name: str) -> list[str]:
        from sim.demand import straight_paths
        from sim.kpi import plot_delay_histogram, plot_time_space

        out = [
            str(
                plot_delay_histogram(
                    self.engine.records(), directory / "delay_histogram.png", title=f"{name}: delay per trip"
                )
            )
        ]
        paths = straight_paths(self.net)
        if paths and self.recorder is not None:
            edges = [self.net.edge_ids[e] for e in paths[0]]
            t, rows = self.recorder.rows()
            title = f"{name}: time-space diagram {edges[0]} ... {edges[-1]}"
            out.append(str(plot_time_space(t, rows, self.net, edges, directory / "time_space.png", title=title)))
        return out


# ---------------------------------------------------------------------------- run


class SimProgress:
    """A rich progress bar over simulated time (updated every few ticks), as an ``on_tick`` hook.

    ``note``, when given, is called at each update for a further column (e.g. a live score).
    """

    def __init__(self, until: float, enabled: bool, label: str, note: Callable[[], str] | None = None) -> None:
        self.until = until
        self.note = note
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:>7.0f}/{task.total:.0f} s"),
            TextColumn("{task.fields[vehicles]:>6} veh"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
            transient=False,
        )
        self.task = self.progress.add_task(label, total=until, vehicles=0, rate="", note="")
        self.t0 = time.perf_counter()
        self.t_sim0: float | None = None
        self.n = 0

    def __call__(self, t: float, tick: Tick, truth: Any) -> None:
        if self.t_sim0 is None:
            self.t_sim0 = t
        self.n += 1
        if self.n % 10 == 0:
            wall = time.perf_counter() - self.t0
            rate = f"x{(t - self.t_sim0) / wall:.1f}" if wall > 0 else ""
            note = self.note() if self.note is not None else ""
            self.progress.update(self.task, completed=t, vehicles=len(truth), rate=rate, note=note)


def _run_lockstep(
    engine: Any, devices: FieldDevices, platform: Platform | None, until: float, hooks: list[Any], progress: SimProgress
) -> RunResult:
    def on_tick(t: float, tick: Tick, truth: Any) -> None:
        for h in hooks:
            h(t, tick, truth)
        progress(t, tick, truth)

    with progress.progress:
        return run(engine, devices, platform, until, on_tick)


def _run_realtime(
    engine: Any, devices: FieldDevices, args: argparse.Namespace, until: float, hooks: list[Any], progress: SimProgress
) -> RunResult:
    from sim.realtime import RealtimeRunner

    host, port, user, password = _mqtt(args.mqtt)
    runner = RealtimeRunner(
        engine,
        devices,
        host=host,
        port=port,
        username=user,
        password=password,
        speed=args.speed,
        bsm_batch=args.bsm_batch,
        id_prefix=args.id_prefix,
    )

    def on_tick(t: float, tick: Tick, truth: Any) -> None:
        for h in hooks:
            h(t, tick, truth)
        progress(t, tick, truth)

    async def main() -> RunResult:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on the main thread
                loop.add_signal_handler(sig, runner.stop)
        return await runner.run(until, on_tick)

    import uvloop

    with progress.progress:
        return uvloop.run(main())


def cmd_run(args: argparse.Namespace) -> int:
    """``xj sim run``."""
    _check_args(args)
    scn = load_scenario(args.scenario)
    if args.obu_share is not None:
        scn = replace(scn, obu_share=args.obu_share)
    if args.compliance is not None:
        scn = replace(scn, devices=replace(scn.devices, obu=replace(scn.devices.obu, compliance=args.compliance)))
    seed = scn.seed if args.seed is None else int(args.seed)
    until = scn.duration if args.until is None else float(args.until)
    options = _platform_options(args, scn, seed)
    if options is not None and args.mode == "realtime":
        raise SimUserError(
            "--control/--tsp/--glosa/--platform-opt run the platform in-process in lock-step; in real time start the "
            "platform separately (xj serve) and it talks to the simulator over MQTT"
        )
    net, demand = scn.build(seed=seed, until=until)
    platform = load_platform(net, options) if options is not None else None
    engine = _engine(net, demand, seed, scn.step)
    epoch_ns = scn.epoch_ns if args.mode == "lockstep" else now_ns() - round(float(engine.t) * 1e9)
    devices = FieldDevices(net, scn.devices, epoch_ns=epoch_ns, seed=seed, t0=float(engine.t))
    outputs = _Outputs(engine, net, truth_out=args.truth_out, plots=args.plots)
    progress = SimProgress(float(engine.t) + until, not args.no_progress, f"{scn.name} ({args.mode})")
    end = float(engine.t) + until
    if args.mode == "lockstep":
        result = _run_lockstep(engine, devices, platform, end, outputs.hooks(), progress)
    else:
        result = _run_realtime(engine, devices, args, end, outputs.hooks(), progress)
    report = outputs.report(result, options or {}, scenario=scn.name, seed=seed, mode=args.mode)
    written = outputs.write(report, kpi_out=args.kpi_out, truth_out=args.truth_out, plots=args.plots)
    _print_summary(report, written)
    return 0


def _print_summary(report: dict[str, Any], written: list[str]) -> None:
    table = Table(show_header=False, box=None)
    keys = (
        "sim_seconds",
        "wall_seconds",
        "vehicles_inserted",
        "vehicles_arrived",
        "mean_travel_time_s",
        "mean_delay_s",
        "mean_stops",
        "bus_mean_delay_s",
        "glosa_stops_compliant",
        "glosa_stops_noncompliant",
        "commands_accepted",
        "commands_refused",
    )
    for k in keys:
        if k in report and report[k] is not None:
            v = report[k]
            table.add_row(k, f"{v:.2f}" if isinstance(v, float) else str(v))
    Console().print(table)
    for w in written:
        print(f"wrote {w}")


def cmd_check(args: argparse.Namespace) -> int:
    """``xj sim check``: validate a scenario and summarise it."""
    scn = load_scenario(args.scenario)
    net, demand = scn.build(until=args.until)
    devices = FieldDevices(net, scn.devices, epoch_ns=scn.epoch_ns, seed=scn.seed)
    s = devices.sensors.summary()
    info = {
        "scenario": scn.name,
        "duration_s": scn.duration,
        "step_s": scn.step,
        "seed": scn.seed,
        "signal_controllers": len(net.tls_ids),
        "lanes": len(net.lane_ids),
        "vehicles": len(demand),
        "connected_vehicles": int(demand.connected.sum()),
        "buses": int((demand.line != "").sum()),
        "rsus": s["rsus"],
        "lamp_posts": s["lamp_posts"],
        "demand_problems": demand.problems[:20],
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    table = Table(title=str(args.scenario), show_header=False)
    for k, v in info.items():
        table.add_row(k, str(v))
    Console().print(table)
    return 0


def _guard(fn: Any) -> Any:
    def handler(args: argparse.Namespace) -> int:
        try:
            return int(fn(args))
        except (SimUserError, ScenarioError, MapError) as exc:
            print(f"xj: error: {exc}", file=sys.stderr)
            return 2
        except ValueError as exc:  # OD and route loaders name the file and what to fix
            if type(exc).__module__.startswith(("sim.", "roadnet.")):
                print(f"xj: error: {exc}", file=sys.stderr)
                return 2
            raise

    return handler


def register(sub: Any) -> None:
    """Add ``sim run`` and ``sim check`` to the ``xj`` parser."""
    p = sub.add_parser("sim", help="the simulator: run scenarios in lock-step or in real time over MQTT")
    ssub = p.add_subparsers(dest="sim_command", metavar="ACTION", required=True)
    q = ssub.add_parser("run", help="run a scenario (TOML or SUMO .sumocfg) and report KPIs")
    q.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file or SUMO .sumocfg")
    q.add_argument("--until", type=float, metavar="S", help="simulated seconds to run (default: the scenario's)")
    mode = q.add_mutually_exclusive_group()
    mode.add_argument(
        "--lockstep", dest="mode", action="store_const", const="lockstep", help="in-process, fast (default)"
    )
    mode.add_argument(
        "--realtime", dest="mode", action="store_const", const="realtime", help="over MQTT at wall-clock pace"
    )
    q.set_defaults(mode="lockstep")
    q.add_argument("--seed", type=int, metavar="N", help="random seed (default: the scenario's)")
    q.add_argument("--kpi-out", metavar="FILE.json", help="write the KPIs as JSON")
    q.add_argument("--truth-out", metavar="FILE", help="record every vehicle's ground truth")
    q.add_argument("--plots", metavar="DIR", help="write plots (time-space diagram, delay histogram)")
    q.add_argument("--control", choices=CONTROL_CHOICES, help="run the platform's signal control in lock-step")
    q.add_argument("--tsp", action=argparse.BooleanOptionalAction, default=None, help="transit signal priority")
    q.add_argument("--glosa", action=argparse.BooleanOptionalAction, default=None, help="speed advisories (GLOSA)")
    q.add_argument(
        "--platform-opt",
        action="append",
        metavar="KEY=VALUE",
        help="a further option for the platform plugin (VALUE as JSON or text), e.g. picture=fused",
    )
    q.add_argument("--speed", type=float, default=1.0, metavar="X", help="real time: simulated s per wall s")
    q.add_argument("--mqtt", default="mqtt://127.0.0.1:1883", metavar="URL", help="real time: the broker")
    q.add_argument(
        "--bsm-batch", action="store_true", help="real time: one BsmBatch per tick instead of one Bsm per OBU"
    )
    q.add_argument("--id-prefix", default="", metavar="P", help="real time: prefix every device id on the wire")
    q.add_argument("--obu-share", type=float, metavar="F", help="override the scenario's share of cars with an OBU")
    q.add_argument("--compliance", type=float, metavar="F", help="override the share of drivers following advice")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    q.set_defaults(func=_guard(cmd_run))
    c = ssub.add_parser("check", help="validate a scenario and summarise it")
    c.add_argument("scenario", metavar="SCENARIO")
    c.add_argument("--until", type=float, default=None, metavar="S", help="demand horizon (default: the scenario's)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=_guard(cmd_check))
