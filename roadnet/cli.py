"""``xj map``: import, validate, describe and generate road networks."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from roadnet.errors import MapError
from roadnet.info import summary
from roadnet.io import load_any, save_map
from roadnet.validate import validate


def _files(values: list[str] | None) -> list[str]:
    return [f for v in values or [] for f in v.split(",") if f]


def _origin(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise MapError("--origin", f"{text!r} is not LAT,LON in degrees") from None
    return lat, lon


def _load(args: argparse.Namespace, path: str) -> Any:
    origin = _origin(getattr(args, "origin", None))
    additional = _files(getattr(args, "additional", None))
    if origin is not None:
        from roadnet.sumo import load_sumo

        return load_sumo(path, additional, origin)
    return load_any(path, additional)


def _report(issues: list[Any], err: Console) -> int:
    errors = [i for i in issues if i.severity == "error"]
    for i in issues:
        err.print(f"[{'red' if i.severity == 'error' else 'yellow'}]{i}[/]", highlight=False)
    return len(errors)


def cmd_import(args: argparse.Namespace) -> int:
    err = Console(stderr=True, soft_wrap=True)
    net = _load(args, args.net)
    n_err = _report(validate(net), err)
    if n_err and not args.force:
        print(f"xj: error: {args.net}: {n_err} validation error(s); fix them or pass --force", file=sys.stderr)
        return 1
    save_map(net, args.output)
    s = summary(net)
    print(
        f"wrote {args.output}: {s['junctions']} junctions ({s['signalised_junctions']} signalised), "
        f"{s['signal_controllers']} signal controllers, {s['lanes']} lanes, {s['bus_stops']} bus stops"
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    err = Console(stderr=True, soft_wrap=True)
    net = _load(args, args.map)
    issues = validate(net)
    n_err = _report(issues, err)
    n_warn = len(issues) - n_err
    print(f"{args.map}: {n_err} error(s), {n_warn} warning(s)")
    return 1 if n_err else 0


def cmd_info(args: argparse.Namespace) -> int:
    net = _load(args, args.file)
    s = summary(net)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    table = Table(title=str(args.file), show_header=False)
    for k, v in s.items():
        table.add_row(k, str(v))
    Console().print(table)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from roadnet.generators import corridor, grid

    origin = _origin(args.origin)
    kw: dict[str, Any] = {"origin": origin} if origin else {}
    if args.kind == "grid":
        net = grid(args.nx, args.ny, spacing=args.spacing, lanes=args.lanes, **kw)
    else:
        net = corridor(args.n, bus_lane=not args.no_bus_lane, **kw)
    save_map(net, args.output)
    s = summary(net)
    print(f"wrote {args.output}: {s['junctions']} junctions, {s['lanes']} lanes")
    return 0


def _guard(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(fn(args))
        except MapError as exc:
            print(f"xj: error: {exc}", file=sys.stderr)
            return 1

    return run


def register(sub: Any) -> None:
    """Add ``map import|validate|info|generate`` to the ``xj`` parser."""
    p = sub.add_parser("map", help="road networks: import SUMO, validate, describe, generate")
    msub = p.add_subparsers(dest="map_command", metavar="ACTION", required=True)

    def additional(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--additional",
            action="append",
            metavar="FILES",
            help="SUMO additional files (signal programs, bus stops, detectors, parking), comma separated or repeated",
        )
        q.add_argument("--origin", metavar="LAT,LON", help="place a network without a geo-reference here")

    q = msub.add_parser("import", help="import a SUMO network into the project's map format")
    q.add_argument("net", metavar="SUMO_NET")
    additional(q)
    q.add_argument("-o", "--output", required=True, metavar="MAP", help="the .xjmap file to write")
    q.add_argument("--force", action="store_true", help="write the map even when validation finds errors")
    q.set_defaults(func=_guard(cmd_import))

    q = msub.add_parser("validate", help="check a map (or a SUMO network) and name every problem")
    q.add_argument("map", metavar="MAP")
    additional(q)
    q.set_defaults(func=_guard(cmd_validate))

    q = msub.add_parser("info", help="summarise a map or a SUMO network")
    q.add_argument("file", metavar="FILE")
    additional(q)
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_guard(cmd_info))

    q = msub.add_parser("generate", help="generate a signalised grid or an arterial corridor")
    q.add_argument("kind", choices=["grid", "corridor"])
    q.add_argument("-o", "--output", required=True, metavar="MAP")
    q.add_argument("--nx", type=int, default=3)
    q.add_argument("--ny", type=int, default=3)
    q.add_argument("--n", type=int, default=5, help="corridor junctions")
    q.add_argument("--spacing", type=float, default=200.0, help="grid block length, m")
    q.add_argument("--lanes", type=int, default=2, help="grid lanes per direction")
    q.add_argument("--no-bus-lane", action="store_true", help="corridor without a bus lane")
    q.add_argument("--origin", metavar="LAT,LON", help="where local (0, 0) is")
    q.set_defaults(func=_guard(cmd_generate))
