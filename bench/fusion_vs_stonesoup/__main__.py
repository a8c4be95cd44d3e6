"""Fusion vs Stone Soup on one synthetic scenario, in one run.

Scenario (``fusion.synthetic``): N vehicles on a 1 km square (grown beyond 1,000 vehicles to
keep 1,000 per km^2), nearly-constant-velocity motion at 3-20 m/s kept inside by a soft wall,
10 Hz, three overlapping position sensors per km^2 (range 700 m, sigma 0.5 / 1.0 / 1.5 m,
detection probability 0.9, Poisson clutter 2 per sensor per tick). Both trackers get the same
recorded detections and the same motion model; GOSPA (c = 10 m, p = 2, alpha = 2) per tick
against the truth, and identity switches.

Timing on a shared machine: the two trackers run interleaved so that both see the same load:
five times, evenly over a Stone Soup run (a slot), ours runs over all frames (once to warm the
caches Stone Soup's objects evicted, once timed), each timed by wall clock and by process CPU
time after a garbage collection. Every slot gives one ratio (Stone Soup's time over the median of
ours during it), and the report is the median of those paired ratios over the slots, by wall
time and by CPU time:

    ours/stonesoup detections/s = ...x (N=200, wall)
    ours/stonesoup detections/s = ...x (N=200, cpu)

Prints a table and those lines, saves a PNG of GOSPA over time and the numbers as JSON.

Run: ``.venv/bin/python -m bench.fusion_vs_stonesoup [--quick] [--out DIR]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core, for both trackers
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import gc
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.fusion_vs_stonesoup import peer
from bench.fusion_vs_stonesoup.plot import plot_gospa
from bench.fusion_vs_stonesoup.scenario import Frame, record
from fusion import KalmanPredictor, Tracker
from fusion.metrics import IdentityScore, gospa
from fusion.synthetic import Scenario

#: motion-model noise of both trackers, m^2/s^3 per axis
Q = 2.0
C, P = 10.0, 2.0


@dataclass
class Result:
    """One tracker on one N."""

    name: str
    n: int
    ticks: int
    detections: int
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    gospa: list[float] = field(default_factory=list)
    switches: int = 0

    @property
    def rate(self) -> float:
        """Median detections/s over runs."""
        return self.detections / statistics.median(self.seconds)

    @property
    def cpu_rate(self) -> float:
        """Median detections per CPU second over runs (steadier than wall time on a busy machine)."""
        return self.detections / statistics.median(self.cpu_seconds)

    @property
    def tick_ms(self) -> float:
        """Median milliseconds per tick."""
        return 1e3 * statistics.median(self.seconds) / self.ticks

    @property
    def mean_gospa(self) -> float:
        return float(np.mean(self.gospa))


@dataclass
class Ratios:
    """Paired ratios of one comparison: per slot, Stone Soup's time over the median of ours."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, ours_wall: list[float], ours_cpu: list[float], ss_wall: float, ss_cpu: float) -> None:
        self.wall.append(ss_wall / statistics.median(ours_wall))
        self.cpu.append(ss_cpu / statistics.median(ours_cpu))


def _score(
    res: Result,
    truths: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]],
    tracks: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]],
) -> None:
    ids = IdentityScore()
    res.gospa = []
    for (tp, tid), (xy, kid) in zip(truths, tracks, strict=True):
        g = gospa(tp, xy, c=C, p=P)
        res.gospa.append(g.distance)
        ids.add(tid[g.pairs[0]], kid[g.pairs[1]])
    res.switches = ids.switches


Tracks = list[tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]]


def run_ours(frames: list[Frame]) -> tuple[float, float, Tracks]:
    """One run of our tracker over recorded frames: (wall s, CPU s, per-tick tracks)."""
    tracker = Tracker(predictor=KalmanPredictor(q=Q))
    tables = []
    gc.collect()  # no other run's garbage collected on our time
    w0, c0 = time.perf_counter(), time.process_time()
    for f in frames:
        tables.append(tracker.step(f.t, f.detections))
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return wall, cpu, [(np.stack([t["x"], t["y"]], axis=1), t["track_id"]) for t in tables]


#: our timed runs per Stone Soup run, spread evenly over it
OURS_PER_SLOT = 5


def compare(
    frames: list[Frame], sigma: npt.NDArray[np.float64], n: int, runs: int
) -> tuple[Result, Result, Ratios, Tracks]:
    """Both trackers on the same frames, interleaved so that both see the same machine:
    ``OURS_PER_SLOT`` times, evenly over a Stone Soup run, ours runs over all frames twice (the
    first warms caches that Stone Soup's objects evicted; the second is timed). A slot (one
    Stone Soup run) gives a paired ratio: its time over the median of ours timed during it."""
    count = sum(len(f.detections) for f in frames)
    ours = Result("ours", n, len(frames), count)
    ss = Result("stonesoup", n, len(frames), count)
    ratios = Ratios()
    scans = peer.to_scans(frames, sigma)
    mine: Tracks = []
    slot_wall: list[float] = []
    slot_cpu: list[float] = []

    def ours_between() -> None:
        nonlocal mine
        run_ours(frames)  # warm-up
        wall, cpu, mine = run_ours(frames)
        slot_wall.append(wall)
        slot_cpu.append(cpu)
        gc.collect()

    theirs: Tracks = []
    for _ in range(runs):
        slot_wall.clear()
        slot_cpu.clear()
        gc.collect()
        every = max(1, len(frames) // OURS_PER_SLOT)
        wall, cpu, theirs = peer.run(scans, Q, pause=ours_between, every=every)
        ss.seconds.append(wall)
        ss.cpu_seconds.append(cpu)
        ours.seconds += slot_wall
        ours.cpu_seconds += slot_cpu
        ratios.add(slot_wall, slot_cpu, wall, cpu)
    truths = [(f.truth, f.ids) for f in frames]
    _score(ours, truths, mine)
    _score(ss, truths, theirs)
    return ours, ss, ratios, theirs


def run_ours_live(n: int, ticks: int, runs: int, seed: int) -> Result:
    """Our tracker on a large scenario generated tick by tick (too big to record)."""
    res = Result("ours", n, ticks, 0)
    for r in range(runs):
        sc = Scenario(n, seed=seed)
        tracker = Tracker(predictor=KalmanPredictor(q=Q))
        gc.collect()
        spent = cpu = 0.0
        count = 0
        ids = IdentityScore()
        g_all = []
        for _ in range(ticks):
            sc.advance()
            d = sc.detect()
            w0, c0 = time.perf_counter(), time.process_time()
            tab = tracker.step(sc.t, d)
            spent += time.perf_counter() - w0
            cpu += time.process_time() - c0
            count += len(d)
            if r == runs - 1:
                g = gospa(sc.pos, np.stack([tab["x"], tab["y"]], axis=1), c=C, p=P)
                g_all.append(g.distance)
                ids.add(sc.ids[g.pairs[0]], tab["track_id"][g.pairs[1]])
        res.seconds.append(spent)
        res.cpu_seconds.append(cpu)
        res.detections = count
        res.gospa, res.switches = g_all, ids.switches
    return res


def _row(r: Result) -> str:
    cpu = statistics.median(r.cpu_seconds) / statistics.median(r.seconds)
    return (
        f"{r.name:<10} {r.n:>7} {r.ticks:>6} {r.detections / r.ticks:>10.0f} {r.rate:>14,.0f} "
        f"{r.tick_ms:>10.2f} {cpu:>6.2f} {r.mean_gospa:>11.2f} {r.switches:>9}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.fusion_vs_stonesoup", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short run: 30 ticks, N up to 10k")
    ap.add_argument("--ticks", type=int, help="ticks per scenario (default 100; quick 30)")
    ap.add_argument("--runs", type=int, default=3, help="interleaved slots per comparison, median reported (>= 3)")
    ap.add_argument("--big", default=None, help="comma-separated N for ours alone (default 1000,10000,50000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("bench/out"), help="folder for the PNG (default bench/out)")
    args = ap.parse_args(argv)
    ticks = args.ticks or (30 if args.quick else 100)
    runs = args.runs
    if runs < 3:
        print("xj: error: --runs must be at least 3 (the ratios are medians over runs)", file=sys.stderr)
        return 2
    big = [int(x) for x in (args.big or ("1000,10000" if args.quick else "1000,10000,50000")).split(",") if x]

    print("fusion vs Stone Soup 1.9 — synthetic scenario, 10 Hz, 3 sensors/km^2 (sigma 0.5/1/1.5 m, Pd 0.9,")
    print(f"clutter 2/sensor/tick), q = {Q} m^2/s^3 for both, GOSPA c={C:g} m p={P:g} alpha=2, {ticks} ticks, one core")
    header = (
        f"{'tracker':<10} {'N':>7} {'ticks':>6} {'det/tick':>10} {'detections/s':>14} "
        f"{'ms/tick':>10} {'cpu':>6} {'mean GOSPA':>11} {'switches':>9}"
    )
    print(header)
    print("-" * len(header))
    sys.stdout.flush()
    pairs: list[tuple[Result, Result, Ratios]] = []
    series: dict[int, tuple[list[float], list[float]]] = {}
    for n in (50, 200):
        sc, frames = record(n, ticks, seed=args.seed)
        ours, ss, ratios, ss_tracks = compare(frames, sc.sensors.sigma, n, runs)
        print(_row(ours))
        print(_row(ss))
        sys.stdout.flush()
        pairs.append((ours, ss, ratios))
        series[n] = (ours.gospa, ss.gospa)
        # our GOSPA against Stone Soup's own GOSPAMetric, on Stone Soup's tracks of a few ticks
        check = [
            abs(
                gospa(frames[k].truth, ss_tracks[k][0], c=C, p=P).distance
                - peer.gospa_check(frames[k].truth, ss_tracks[k][0], C, P)
            )
            for k in range(ticks - 5, ticks)
        ]
        print(f"{'':<10} GOSPA cross-check vs Stone Soup's GOSPAMetric: max |diff| = {max(check):.1e} m over 5 ticks")
    results = []
    for n in big:
        r = run_ours_live(n, ticks if n <= 10_000 else max(ticks // 2, 10), runs, args.seed)
        results.append(r)
        print(_row(r))
        sys.stdout.flush()
    print()
    print(
        f"ratios: median over {runs} slots of (Stone Soup's run / median of our {OURS_PER_SLOT} runs spread "
        "over it), wall clock and process CPU time"
    )
    for ours, ss, ratios in pairs:
        for kind, values in (("wall", ratios.wall), ("cpu", ratios.cpu)):
            spread = ", ".join(f"{v:,.0f}" for v in sorted(values))
            print(
                f"ours/stonesoup detections/s = {statistics.median(values):,.0f}x (N={ours.n}, {kind})"
                f"  [slots: {spread}]"
            )
        print(
            f"mean GOSPA: ours {ours.mean_gospa:.2f} m, stonesoup {ss.mean_gospa:.2f} m (N={ours.n}, {ticks} ticks); "
            f"identity switches: ours {ours.switches}, stonesoup {ss.switches}"
        )
    base = results[0] if results else None
    for r in results:
        per_det = 1e3 * r.tick_ms / (r.detections / r.ticks)
        line = (
            f"ours detections/s = {r.rate:,.0f} wall, {r.cpu_rate:,.0f} cpu "
            f"(N={r.n}, {r.detections / r.ticks:,.0f} det/tick, {r.tick_ms:.1f} ms/tick, {per_det:.2f} us/detection)"
        )
        if base is not None and r is not base:
            grow_det = (r.detections / r.ticks) / (base.detections / base.ticks)
            nlogn = (r.n * np.log(r.n)) / (base.n * np.log(base.n))
            line += (
                f"; vs N={base.n}: tick cost x{r.tick_ms / base.tick_ms:.1f} for tracks x{r.n / base.n:.0f}"
                f" (N log N x{nlogn:.1f}) and detections x{grow_det:.1f}"
            )
        print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    png = plot_gospa(series, args.out / "fusion_vs_stonesoup.png")
    report = {
        "ticks": ticks,
        "runs": runs,
        "compare": [
            {
                "n": ours.n,
                "detections_per_tick": ours.detections / ours.ticks,
                "ratio_wall": statistics.median(ratios.wall),
                "ratio_cpu": statistics.median(ratios.cpu),
                "ratios_wall": ratios.wall,
                "ratios_cpu": ratios.cpu,
                "ours_ms_per_tick": {"wall": _ms(ours.seconds, ours.ticks), "cpu": _ms(ours.cpu_seconds, ours.ticks)},
                "stonesoup_ms_per_tick": {"wall": _ms(ss.seconds, ss.ticks), "cpu": _ms(ss.cpu_seconds, ss.ticks)},
                "gospa": {"ours": ours.mean_gospa, "stonesoup": ss.mean_gospa},
                "switches": {"ours": ours.switches, "stonesoup": ss.switches},
            }
            for ours, ss, ratios in pairs
        ],
        "alone": [
            {"n": r.n, "detections_per_s": r.rate, "detections_per_cpu_s": r.cpu_rate, "ms_per_tick": r.tick_ms}
            for r in results
        ],
    }
    path = args.out / "fusion_vs_stonesoup.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"plot: {png}; numbers: {path}")
    return 0


def _ms(seconds: list[float], ticks: int) -> float:
    """Median milliseconds per tick."""
    return 1e3 * statistics.median(seconds) / ticks


if __name__ == "__main__":
    sys.exit(main())
