"""Closed-loop KPIs of the platform's signal control, TSP and GLOSA against the baselines.

Every run is the simulator in lock-step with the platform (``cloud.lockstep_platform``, oracle
picture from ground truth), the same seeds for every strategy, medians over seeds:

* strategies (TSP and GLOSA off) on a grid at medium and at high demand and on Bologna Pasubio:
  the map's own programs (``local``), Webster fixed time (``fixed``), ``actuated``,
  ``max-pressure``; the baseline is Webster on the grids and the city's own programs on Pasubio;
* transit priority: a strategy with and without TSP (bus delay against the schedule, car delay);
* GLOSA: stops of compliant against non-compliant advised vehicles in the same runs;
* one strategy on the fused picture (fusion's tracker on the simulated RSU, lamp-post and BSM
  data) instead of the oracle, to see what sensing costs.

It prints the tables with the % change against each baseline and the ratios the targets are
judged on, and writes ``results.json`` and ``kpis.png`` to ``--out``.

Run: ``.venv/bin/python -m bench.control_kpis [--quick | --tsp-only] [--seeds N] [--jobs N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.control_kpis.run import RunSpec, run_one
from sim.kpi import write_json

OUT = Path(__file__).resolve().parent / "results"
STRATEGIES = ("local", "fixed", "actuated", "max-pressure")
#: the baseline each scenario's strategies are compared with
BASELINE = {"grid-medium": "fixed", "grid-high": "fixed", "pasubio": "local"}
#: GLOSA runs: half the vehicles connected, half of the drivers complying (comparable groups)
GLOSA_FLEET: dict[str, Any] = {"obu_share": 0.5, "compliance": 0.5}
KPIS = ("mean_delay_s", "mean_stops", "bus_mean_delay_s", "vehicles_arrived", "vehicles_in_network")


#: the transit priority comparisons: scenario, strategy (each with and without TSP)
TSP_RUNS = (("grid-medium", "actuated"), ("corridor-bus", "fixed"), ("corridor-bus", "actuated"))


def plan(quick: bool, seeds: int, tsp_only: bool = False) -> list[RunSpec]:
    """Every run of the benchmark (``tsp_only``: the transit priority comparisons alone)."""
    s = list(range(1, seeds + 1))
    runs: list[RunSpec] = []
    if tsp_only:
        return [RunSpec(scn, c, tsp=tsp, seed=k) for scn, c in TSP_RUNS for tsp in (False, True) for k in s]
    if quick:
        for c in STRATEGIES:
            runs += [RunSpec("grid-medium", c, seed=k, until=900.0) for k in s]
        runs += [RunSpec("grid-medium", "actuated", tsp=True, seed=k, until=900.0) for k in s]
        runs += [RunSpec("grid-medium", "fixed", glosa=True, seed=k, until=900.0, **GLOSA_FLEET) for k in s]
        return runs
    for scn in ("grid-medium", "grid-high"):
        for c in STRATEGIES:
            runs += [RunSpec(scn, c, seed=k) for k in s]
    for c in STRATEGIES:
        runs += [RunSpec("pasubio", c, seed=k) for k in s[:1]]
    for scn, c in TSP_RUNS:
        for tsp in (False, True):
            if scn == "grid-medium" and not tsp:
                continue  # the strategy table has it
            runs += [RunSpec(scn, c, tsp=tsp, seed=k) for k in s]
    for c in ("fixed", "actuated"):
        runs += [RunSpec("grid-medium", c, glosa=True, seed=k, **GLOSA_FLEET) for k in s]
    # the same control on what the field platform sees: fusion's tracks and picture
    runs += [RunSpec("grid-medium", "max-pressure", picture="fused", label="max-pressure@fused", seed=1)]
    return runs


def _median(rows: Iterable[dict[str, Any]], key: str) -> float:
    vals = [float(r[key]) for r in rows if r.get(key) is not None and math.isfinite(float(r[key]))]
    return statistics.median(vals) if vals else math.nan


def summarise(results: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """scenario -> run label -> KPI -> median over seeds (plus ``n``)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for r in results:
        out.setdefault(r["scenario"], {}).setdefault(r["run"], {})
    for scn, runs in out.items():
        for name in runs:
            rows = [r for r in results if r["scenario"] == scn and r["run"] == name]
            keys = (*KPIS, "glosa_stops_compliant", "glosa_stops_noncompliant", "tsp_granted", "run_wall_s")
            runs[name] = {k: _median(rows, k) for k in keys}
            runs[name]["n"] = float(len(rows))
    return out


def _pct(a: float, b: float) -> str:
    if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return "   n/a"
    return f"{100.0 * (a - b) / b:+6.1f}%"


def _row(cells: Iterable[object], widths: Iterable[int]) -> str:
    """One table line: text left-aligned in the first column, the rest right-aligned."""
    out = []
    for k, (c, w) in enumerate(zip(cells, widths, strict=True)):
        text = f"{c:.2f}" if isinstance(c, float) and abs(c) < 10 else (f"{c:.1f}" if isinstance(c, float) else str(c))
        left = isinstance(c, str) and not text.endswith("%") and k < 2
        out.append(text.ljust(w) if left else text.rjust(w))
    return "  " + "".join(out)


def report(summary: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """The tables and the target verdicts, as lines of text."""
    lines: list[str] = []
    verdicts: list[str] = []
    nan = math.nan
    for scn in ("grid-medium", "grid-high", "pasubio"):
        runs = summary.get(scn)
        if not runs:
            continue
        base = BASELINE[scn]
        b = runs.get(base, {})
        widths: tuple[int, ...] = (14, 3, 9, 9, 7, 9, 12, 8, 7)
        lines.append(f"\n{scn}: strategies (TSP, GLOSA off), medians over seeds; baseline {base}")
        lines.append(
            _row(("run", "n", "delay s", "vs base", "stops", "vs base", "bus delay s", "arrived", "in net"), widths)
        )
        for name in (*STRATEGIES, *sorted(n for n in runs if n.endswith("@fused"))):
            k = runs.get(name)
            if not k:
                continue
            cells: tuple[object, ...] = (
                name,
                int(k["n"]),
                k["mean_delay_s"],
                _pct(k["mean_delay_s"], b.get("mean_delay_s", nan)),
                k["mean_stops"],
                _pct(k["mean_stops"], b.get("mean_stops", nan)),
                k["bus_mean_delay_s"],
                int(k["vehicles_arrived"]),
                int(k["vehicles_in_network"]),
            )
            lines.append(_row(cells, widths))
        adaptive = [n for n in ("actuated", "max-pressure") if n in runs]
        best = min(adaptive, key=lambda n: runs[n]["mean_delay_s"], default=None)
        if best and b:
            ratio = runs[best]["mean_delay_s"] / b["mean_delay_s"]
            need = 0.8 if base == "fixed" else 1.0
            verdict = "MET" if ratio <= need else "NOT MET"
            verdicts.append(f"{scn}: {best}/{base} mean delay = {ratio:.2f} (target <= {need:.2f}): {verdict}")
    widths = (14, 10, 9, 9, 9, 9, 9, 9, 8)
    tsp_lines = []
    for scn in ("grid-medium", "corridor-bus"):
        for c in ("fixed", "actuated"):
            by_run = summary.get(scn, {})
            off, on = by_run.get(c), by_run.get(f"{c}+tsp")
            if not off or not on:
                continue
            bus = on["bus_mean_delay_s"] / off["bus_mean_delay_s"]
            car = on["mean_delay_s"] / off["mean_delay_s"]
            cells = (
                scn,
                c,
                off["bus_mean_delay_s"],
                on["bus_mean_delay_s"],
                _pct(on["bus_mean_delay_s"], off["bus_mean_delay_s"]),
                off["mean_delay_s"],
                on["mean_delay_s"],
                _pct(on["mean_delay_s"], off["mean_delay_s"]),
                int(on["tsp_granted"]),
            )
            tsp_lines.append(_row(cells, widths))
            verdict = "MET" if bus <= 0.7 and car <= 1.05 else "NOT MET"
            verdicts.append(
                f"{scn} {c}: with/without TSP bus delay = {bus:.2f} (<= 0.70), all-vehicle delay = {car:.2f} "
                f"(<= 1.05): {verdict}"
            )
    if tsp_lines:
        lines.append("\ntransit signal priority (bus delay against the schedule; all-vehicle delay)")
        head = ("scenario", "strategy", "bus off", "bus on", "change", "all off", "all on", "change", "grants")
        lines.append(_row(head, widths))
        lines += tsp_lines
    widths = (14, 10, 12, 15, 9)
    glosa_lines = []
    for c in ("fixed", "actuated"):
        k = summary.get("grid-medium", {}).get(f"{c}+glosa")
        if not k:
            continue
        comp, non = k["glosa_stops_compliant"], k["glosa_stops_noncompliant"]
        glosa_lines.append(_row(("grid-medium", c, comp, non, _pct(comp, non)), widths))
        ratio = comp / non if non else nan
        verdict = "MET" if ratio <= 0.7 else "NOT MET"
        verdicts.append(f"grid-medium {c}+glosa: compliant/non-compliant stops = {ratio:.2f} (<= 0.70): {verdict}")
    if glosa_lines:
        lines.append("\nGLOSA (mean stops per advised vehicle, same runs; 50% connected, 50% complying)")
        lines.append(_row(("scenario", "strategy", "compliant", "non-compliant", "change"), widths))
        lines += glosa_lines
    lines.append("\ntargets")
    lines += [f"  {v}" for v in verdicts]
    return lines


def plot(summary: dict[str, dict[str, dict[str, float]]], path: Path) -> None:
    """Bar charts: mean delay per strategy and scenario; bus delay with/without TSP; GLOSA stops."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    scns = [s for s in ("grid-medium", "grid-high", "pasubio") if s in summary]
    width = 0.2
    for i, name in enumerate(STRATEGIES):
        vals = [summary[s].get(name, {}).get("mean_delay_s", math.nan) for s in scns]
        axes[0].bar([j + i * width for j in range(len(scns))], vals, width, label=name)
    axes[0].set_xticks([j + 1.5 * width for j in range(len(scns))], scns)
    axes[0].set_ylabel("mean delay, s")
    axes[0].set_title("signal control")
    axes[0].legend()
    labels, off, on = [], [], []
    for scn in ("grid-medium", "corridor-bus"):
        for c in ("fixed", "actuated"):
            a, b = summary.get(scn, {}).get(c), summary.get(scn, {}).get(f"{c}+tsp")
            if a and b:
                labels.append(f"{scn}\n{c}")
                off.append(a["bus_mean_delay_s"])
                on.append(b["bus_mean_delay_s"])
    x = list(range(len(labels)))
    axes[1].bar([v - 0.2 for v in x], off, 0.4, label="no TSP")
    axes[1].bar([v + 0.2 for v in x], on, 0.4, label="TSP")
    axes[1].set_xticks(x, labels)
    axes[1].set_ylabel("bus delay vs schedule, s")
    axes[1].set_title("transit signal priority")
    axes[1].legend()
    gl = [(c, k) for c in ("fixed", "actuated") if (k := summary.get("grid-medium", {}).get(f"{c}+glosa"))]
    x = list(range(len(gl)))
    axes[2].bar([v - 0.2 for v in x], [k["glosa_stops_compliant"] for _, k in gl], 0.4, label="compliant")
    axes[2].bar([v + 0.2 for v in x], [k["glosa_stops_noncompliant"] for _, k in gl], 0.4, label="non-compliant")
    axes[2].set_xticks(x, [c for c, _ in gl])
    axes[2].set_ylabel("mean stops")
    axes[2].set_title("GLOSA (grid-medium)")
    axes[2].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m bench.control_kpis", description=__doc__.splitlines()[0])
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true", help="grid-medium only, 900 s, one seed")
    which.add_argument(
        "--tsp-only", action="store_true", help="only the transit priority comparisons (with and without TSP)"
    )
    ap.add_argument("--seeds", type=int, default=None, help="seeds per configuration (default: 3; quick: 1)")
    ap.add_argument("--jobs", type=int, default=1, help="runs in parallel (default 1)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = ap.parse_args(argv)
    seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    if seeds < 1 or args.jobs < 1:
        print("xj: error: --seeds and --jobs must be at least 1", file=sys.stderr)
        return 2
    runs = plan(args.quick, seeds, args.tsp_only)
    kind = "TSP only" if args.tsp_only else "quick" if args.quick else "full"
    print(f"{len(runs)} closed-loop runs (seeds 1..{seeds}, {kind}), {args.jobs} at a time")
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    args.out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [(spec, pool.submit(run_one, spec)) for spec in runs]
        for i, (spec, fut) in enumerate(futures, 1):
            what = f"{spec.scenario} {spec.name} seed {spec.seed}"
            try:
                r = fut.result()
            except Exception as exc:  # one broken run is reported, the others still count
                failed.append({"run": what, "error": f"{type(exc).__name__}: {exc}"})
                print(f"  [{i}/{len(runs)}] {what}: FAILED {type(exc).__name__}: {exc}")
                continue
            results.append(r)
            print(f"  [{i}/{len(runs)}] {what}: delay {r['mean_delay_s']:.1f} s ({r['run_wall_s']:.0f} s wall)")
            write_json({"runs": results, "failed": failed, "partial": True}, args.out / "results.json")
    summary = summarise(results)
    lines = report(summary)
    print("\n".join(lines))
    doc = {"runs": results, "failed": failed, "summary": summary, "report": lines, "wall_s": time.perf_counter() - t0}
    write_json(doc, args.out / "results.json")
    plot(summary, args.out / "kpis.png")
    print(f"\nwrote {args.out / 'results.json'} and {args.out / 'kpis.png'} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
