"""The tick profiler times the tracker's phases without changing what the tracker computes."""

from __future__ import annotations

import numpy as np

import fusion.tracker as tracker_module
from bench.fusion_vs_stonesoup.profile_tick import PHASES, instrumented, main, profile
from bench.fusion_vs_stonesoup.scenario import record
from fusion import KalmanPredictor, Tracker


def _run(frames, instrument: bool):  # type: ignore[no-untyped-def]
    tr = Tracker(predictor=KalmanPredictor(q=2.0))
    tables = []
    if instrument:
        with instrumented(tr) as spent:
            tables = [tr.step(f.t, f.detections) for f in frames]
        return tr, tables, dict(spent)
    return tr, [tr.step(f.t, f.detections) for f in frames], {}


def test_phases_nest_and_outputs_are_unchanged() -> None:
    _, frames = record(30, 12, seed=3)
    tr, timed_tables, spent = _run(frames, instrument=True)
    _, plain_tables, _ = _run(frames, instrument=False)
    assert len(timed_tables) == len(plain_tables)
    for a, b in zip(timed_tables, plain_tables, strict=True):
        assert a.tobytes() == b.tobytes()
    # every phase ran, and the phases inside a phase take no longer than it
    assert set(spent) == {label for label, *_ in PHASES}
    depth_of = {label: depth for label, depth, *_ in PHASES}
    assert sum(v for k, v in spent.items() if depth_of[k] == 1) <= spent["step"]
    assert spent["birth seeds"] + spent["store add"] <= spent["birth"]
    assert spent["update"] + spent["vote"] <= spent["apply"]
    assert spent["store keep"] <= spent["end"]
    # the wrappers are gone afterwards: methods and imported functions are the originals again
    assert "step" not in vars(tr) and "gate" not in vars(tr.gate) and "add" not in vars(tr.store)
    from fusion.measurements import from_detections

    assert tracker_module.from_detections is from_detections


def test_profile_reports_every_phase_per_tick(capsys) -> None:  # type: ignore[no-untyped-def]
    _, frames = record(20, 5, seed=1)
    per_tick = profile(frames, runs=2)
    assert list(per_tick) == [label for label, *_ in PHASES]
    assert per_tick["step"] > 0 and all(np.isfinite(v) and v >= 0 for v in per_tick.values())
    assert main(["--n", "10", "--ticks", "3", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "N=10, 3 ticks x 1" in out and "store keep" in out and "100.0%" in out
