"""Where a tick of the tracker goes, phase by phase, on the benchmark's scenario.

``python -m bench.fusion_vs_stonesoup.profile_tick [--n 200] [--ticks 100] [--runs 8]``

The benchmark's recorded detections (:func:`bench.fusion_vs_stonesoup.scenario.record`) go
through a :class:`fusion.Tracker` whose phases are timed: the tracker's own steps and the roles it
calls, each by wall clock around the call (inclusive: a phase counts the phases it calls, which
are printed indented under it). A profiler that hooks every call (cProfile) would cost more than
the ~280 numpy calls of a small tick themselves; this one adds one timer per phase call.

Prints microseconds per tick and the share of the whole ``step`` per phase.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.fusion_vs_stonesoup.scenario import Frame, record
from fusion import KalmanPredictor, Tracker

#: (label, depth, owner, attribute): the phases, in the order printed. ``owner`` names what
#: holds the attribute: the tracker itself, one of its roles or its store, or the tracker module
#: (for the functions it imports).
PHASES: tuple[tuple[str, int, str, str], ...] = (
    ("step", 0, "tracker", "step"),
    ("predict (begin)", 1, "tracker", "_begin"),
    ("measurements", 1, "module", "from_detections"),
    ("gate", 1, "gate", "gate"),
    ("associate", 1, "associator", "associate"),
    ("birth", 1, "tracker", "_birth"),
    ("birth seeds", 2, "module", "birth_seeds"),
    ("store add", 2, "store", "add"),
    ("apply", 1, "tracker", "_apply"),
    ("update", 2, "tracker", "_update_all"),
    ("vote", 2, "voter", "vote"),
    ("end", 1, "tracker", "_end"),
    ("store keep", 2, "store", "keep"),
    ("table", 1, "tracker", "table"),
)


def _timed(f: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - t0

    return call


@contextmanager
def instrumented(tracker: Tracker) -> Iterator[dict[str, float]]:
    """Time ``tracker``'s phases while inside; yields label -> seconds spent (inclusive).

    Methods are wrapped on the tracker's own instances (its roles and store); the functions the
    tracker module imports are replaced in that module for the duration only.
    """
    import fusion.tracker as module

    spent: dict[str, float] = defaultdict(float)
    owners: dict[str, object] = {
        "tracker": tracker,
        "gate": tracker.gate,
        "associator": tracker.associator,
        "voter": tracker.voter,
        "store": tracker.store,
        "module": module,
    }
    originals = {attr: getattr(module, attr) for _, _, owner, attr in PHASES if owner == "module"}
    for label, _, owner, attr in PHASES:
        obj = owners[owner]
        setattr(obj, attr, _timed(getattr(obj, attr), label, spent))
    try:
        yield spent
    finally:
        for _label, _, owner, attr in PHASES:
            if owner == "module":
                setattr(module, attr, originals[attr])
            else:
                delattr(owners[owner], attr)  # the class's method shows through again


def profile(frames: list[Frame], runs: int) -> dict[str, float]:
    """Microseconds per tick of each phase over ``runs`` passes of a fresh tracker over ``frames``."""
    total: dict[str, float] = defaultdict(float)
    for _ in range(runs):
        tracker = Tracker(predictor=KalmanPredictor(q=2.0))
        with instrumented(tracker) as spent:
            for f in frames:
                tracker.step(f.t, f.detections)
        for label, seconds in spent.items():
            total[label] += seconds
    ticks = runs * len(frames)
    return {label: 1e6 * total[label] / ticks for label, *_ in PHASES}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.fusion_vs_stonesoup.profile_tick", description=__doc__)
    ap.add_argument("--n", type=int, default=200, help="vehicles (default 200)")
    ap.add_argument("--ticks", type=int, default=100, help="ticks per pass (default 100)")
    ap.add_argument("--runs", type=int, default=8, help="passes over the frames (default 8)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.n < 1 or args.ticks < 1 or args.runs < 1:
        ap.error("--n, --ticks and --runs must be at least 1")
    _, frames = record(args.n, args.ticks, seed=args.seed)
    per_tick = profile(frames, args.runs)
    whole = per_tick["step"]
    print(f"N={args.n}, {args.ticks} ticks x {args.runs}: microseconds per tick, inclusive (share of step)")
    for label, depth, *_ in PHASES:
        name = f"{'  ' * depth}{label}"
        print(f"  {name:<24s} {per_tick[label]:8.1f}  {100 * per_tick[label] / whole:5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
