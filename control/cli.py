"""``xj control plan MAP``: what the safety layer will hold each signal controller to.

For every controller: its active program's stages (the phases strategies time, with their
min..max), the per-link requirements read from the program (amber, all-red, minimum green,
maximum red) and the programs the safety layer refuses to switch to, with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from control.config import SafetyConfig
from control.plan import ControllerPlan, build_plans
from control.safety import unsafe_programs
from roadnet import load_any
from roadnet.errors import MapError


def _range(a: np.ndarray) -> str:
    v = a[np.isfinite(a)]
    if len(v) == 0:
        return "-"
    lo, hi = float(v.min()), float(v.max())
    return f"{lo:g}" if lo == hi else f"{lo:g}..{hi:g}"


def describe(plan: ControllerPlan, active: int) -> dict[str, Any]:
    """One controller's plan as plain data (durations in s)."""
    pp = plan.program(active)
    foes = plan.foes
    return {
        "controller": plan.tls_id,
        "links": plan.n_links,
        "program": pp.program_id,
        "stages": [
            {"phase": int(h), "min_s": float(pp.eff_min[h]), "max_s": float(pp.eff_max[h]), "state": pp.states[h]}
            for h in pp.stages.tolist()
        ],
        "amber_s": _range(plan.amber_req),
        "all_red_s": _range(plan.clear_req[foes]) if foes.any() else "-",
        "min_green_s": _range(plan.min_green_req),
        "max_red_s": _range(plan.max_red_req),
        "refused_programs": unsafe_programs(plan),
    }


def cmd_plan(args: argparse.Namespace) -> int:
    """``xj control plan``."""
    additional = [f for v in args.additional or [] for f in v.split(",") if f]
    try:
        net = load_any(args.map, additional)
    except MapError as exc:
        print(f"xj: error: {exc}", file=sys.stderr)
        return 1
    plans = build_plans(net, SafetyConfig())
    rows = [describe(p, int(net.tls_active_program[p.tls])) for p in plans]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title=f"{args.map}: {len(rows)} signal controllers")
    for col in (
        "controller",
        "program",
        "stages (phase min..max s)",
        "amber",
        "all-red",
        "min green",
        "max red",
        "refused",
    ):
        table.add_column(col)
    for r in rows:
        stages = ", ".join(f"{s['phase']}: {s['min_s']:g}..{s['max_s']:g}" for s in r["stages"]) or "none (fixed)"
        refused = "; ".join(f"{k}: {v}" for k, v in r["refused_programs"].items()) or "-"
        table.add_row(
            r["controller"],
            r["program"],
            stages,
            r["amber_s"],
            r["all_red_s"],
            r["min_green_s"],
            r["max_red_s"],
            refused,
        )
    Console().print(table)
    return 0


def register(sub: Any) -> None:
    """Add ``control plan`` to the ``xj`` parser."""
    p = sub.add_parser("control", help="signal control: the safety requirements of a map's controllers")
    csub = p.add_subparsers(dest="control_command", metavar="ACTION", required=True)
    q = csub.add_parser("plan", help="stages and safety requirements of every signal controller of a map")
    q.add_argument("map", metavar="MAP", help="a map (.xjmap) or a SUMO network")
    q.add_argument(
        "--additional",
        action="append",
        metavar="FILES",
        help="SUMO additional files (signal programs), comma separated",
    )
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=cmd_plan)
