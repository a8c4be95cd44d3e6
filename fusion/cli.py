"""``xj fusion replay``: replay recorded detections (CSV) or MQTT traffic (capture) through fusion;
``xj fusion score``: score the fused picture against the simulator's ground truth (:mod:`cloud.fusion_score`).

See :mod:`fusion.replay` for the CSV formats and :mod:`fusion.capture` for the capture format.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Final

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fusion.capture import decode, read_records
from fusion.measurements import NoiseDefaults
from fusion.picture import Picture
from fusion.replay import (
    SHOW_PROBLEMS,
    ReplayInputError,
    count_ticks,
    read_detections_csv,
    replay,
    ticks,
)
from fusion.tracker import Tracker
from roadnet import MapError, RoadNetwork, load_any

#: The module that runs a scenario and scores fusion on it (fusion itself does not know the simulator)
SCORE_PLUGIN: Final = "cloud.fusion_score"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``xj fusion ...`` to the ``xj`` parser."""
    p = sub.add_parser("fusion", help="multi-sensor tracking and the traffic picture")
    fsub = p.add_subparsers(dest="fusion_command", metavar="SUBCOMMAND", required=True)
    r = fsub.add_parser(
        "replay",
        help="track recorded detections (CSV) or a recorded MQTT capture; write the tracks as CSV",
        description=(
            "Input CSV: t,sensor_id,x,y[,vx,vy,class,confidence] (s, local metres). A capture: lines "
            "'<receive s> <topic> <hex payload>', e.g. from mosquitto_sub -F '@s.@N %t %x'. Output: "
            "t,track_id,x,y,vx,vy,class per confirmed track per tick."
        ),
    )
    r.add_argument("input", type=Path, help="DETECTIONS.csv, or a capture file")
    r.add_argument("--out", type=Path, required=True, help="TRACKS.csv to write")
    r.add_argument(
        "--map", type=Path, default=None, help="map (saved .xjmap or SUMO .net.xml): local frame of a capture"
    )
    r.add_argument("--lanes", type=Path, default=None, help="with --map: also write per-lane states per tick here")
    r.add_argument(
        "--format", choices=("auto", "csv", "capture"), default="auto", help="input format (default: by content)"
    )
    r.add_argument("--tick", type=float, default=0.1, help="tick period, s (default 0.1)")
    r.add_argument("--sigma", type=float, default=1.0, help="position noise of rows without covariance, m (default 1)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=_replay)
    sc = fsub.add_parser(
        "score",
        help="run a scenario in lock-step and score the fused picture against the simulator's ground truth",
        description=(
            "GOSPA (c=10 m, p=2, alpha=2) over time over all and over observable vehicles, ID switches, the "
            "connected vehicles' identity on their tracks, per-lane queue-length error. Writes score.json and "
            "score.png in --out."
        ),
    )
    sc.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file or SUMO .sumocfg")
    sc.add_argument("--until", type=float, metavar="S", help="simulated seconds to run (default: the scenario's)")
    sc.add_argument("--seed", type=int, metavar="N", help="random seed (default: the scenario's)")
    sc.add_argument("--out", type=Path, default=Path("fusion-score"), metavar="DIR", help="output directory")
    sc.add_argument("--quiet", action="store_true", help="no progress bar")
    sc.set_defaults(func=_score)


def _score(args: argparse.Namespace) -> int:
    """``xj fusion score``: the run needs the simulator, which the platform (``cloud``) wires in."""
    try:
        mod = importlib.import_module(SCORE_PLUGIN)
    except ModuleNotFoundError as exc:
        return _error(f"xj fusion score needs the simulator and the platform wiring ({SCORE_PLUGIN}): {exc}")
    return int(mod.cmd_score(args))


def _error(msg: str) -> int:
    print(f"xj: error: {msg}", file=sys.stderr)
    return 2


def _sniff(path: Path) -> str:
    """``csv`` or ``capture``, by extension, else by the first meaningful line."""
    if path.suffix.lower() == ".csv":
        return "csv"
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            s = line.strip()
            if s and not s.startswith("#"):
                return "capture" if len(s.split()) == 3 and "," not in s else "csv"
    return "csv"


def _report_problems(problems: list[tuple[int, str]], what: str) -> None:
    if not problems:
        return
    print(f"xj: skipped {len(problems)} {what}:", file=sys.stderr)
    for line, reason in problems[:SHOW_PROBLEMS]:
        print(f"  line {line}: {reason}", file=sys.stderr)
    if len(problems) > SHOW_PROBLEMS:
        print(f"  ... and {len(problems) - SHOW_PROBLEMS} more", file=sys.stderr)


def _replay(args: argparse.Namespace) -> int:
    src: Path = args.input
    if not src.is_file():
        return _error(f"input {src} does not exist or is not a file")
    if args.tick <= 0 or args.sigma <= 0:
        return _error("--tick and --sigma must be positive")
    if args.lanes is not None and args.map is None:
        return _error("--lanes needs --map MAP (the lanes come from the map)")
    net: RoadNetwork | None = None
    if args.map is not None:
        try:
            net = load_any(args.map)
        except MapError as exc:
            return _error(f"cannot read the map: {exc}")
    kind = args.format if args.format != "auto" else _sniff(src)
    if kind == "csv":
        try:
            with src.open(newline="", encoding="utf-8") as f:
                got = read_detections_csv(f)
        except (ReplayInputError, UnicodeDecodeError) as exc:
            return _error(f"{src}: {exc}")
        _report_problems(got.problems, f"of {got.rows} rows")
        det, rep = got.detections, None
        key_det, key_rep = None, None
        where = f"{got.rows - len(got.problems)} detections from {len(got.sensors)} sensors"
    else:
        with src.open(encoding="utf-8", errors="replace") as f:
            records, problems = read_records(f)
        _report_problems(problems, "malformed capture lines")
        dec = decode(records, net.frame if net is not None else None)
        for reason, n in sorted(dec.skipped.items()):
            print(f"xj: passed over {n} message(s): {reason}", file=sys.stderr)
        det, rep = dec.detections, dec.reports
        key_det, key_rep = dec.receive_det, dec.receive_rep
        where = f"{len(records)} messages: {len(det)} detections from {len(dec.sensors)} sensors, {len(rep)} reports"
    if len(det) == 0 and (rep is None or len(rep) == 0):
        return _error(f"{src}: nothing to replay (no usable detections)")
    noise = NoiseDefaults(position_var=args.sigma**2)
    tracker = Tracker(noise=noise)
    picture = Picture(net) if net is not None and args.lanes is not None else None
    keys = [k for k in (key_det if key_det is not None else det["t"],) if len(k)]
    if key_rep is not None and len(key_rep):
        keys.append(key_rep)
    elif rep is not None and len(rep):
        keys.append(rep["t"])
    first = min(float(k.min()) for k in keys)
    last = max(float(k.max()) for k in keys)
    total = count_ticks(first, last, args.tick)
    with ExitStack() as stack:
        out = stack.enter_context(args.out.open("w", encoding="utf-8", newline=""))
        lanes_out = stack.enter_context(args.lanes.open("w", encoding="utf-8", newline="")) if args.lanes else None
        progress = stack.enter_context(
            Progress(
                TextColumn("replay"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ticks"),
                TimeRemainingColumn(),
                disable=args.quiet,
                transient=True,
            )
        )
        task = progress.add_task("replay", total=total)
        stats = replay(
            ticks(det, rep, args.tick, key_det, key_rep),
            tracker,
            out,
            picture=picture,
            lanes_out=lanes_out,
            on_tick=lambda: progress.advance(task),
        )
    print(
        f"replayed {stats.ticks} ticks of {where}: {len(stats.tracks)} confirmed tracks, "
        f"{stats.track_rows} rows written to {args.out}" + (f", lane states to {args.lanes}" if args.lanes else "")
    )
    return 0
