"""Fusion against the simulator's ground truth: a minute of a busy grid in lock-step, scored.

The scenario is the everyday 4x4 grid (RSUs with sigma 0.5 m, lamp posts with 0.3 m, 5 % misses,
false alarms, 50 ms latency, 5 ms clock offsets) at twice its demand, so queues form at the reds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cloud.cli import main
from cloud.fusion_score import ScoreRun, score_scenario
from fusion.evaluate import Scorecard, tracks_from_truth
from fusion.tracks import TRACK_DTYPE
from sim.interface import TRUTH_DTYPE

REPO = Path(__file__).resolve().parents[2]
SECONDS = 60.0
#: a raw RSU detection's RMS position error, m (sigma 0.5 m per axis)
RSU_RMS = math.sqrt(2.0) * 0.5


@pytest.fixture(scope="module")
def busy_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = (REPO / "scenarios" / "grid-medium.toml").read_text()
    assert "vehicles_per_hour = 1800" in text
    path = tmp_path_factory.mktemp("scenario") / "grid-busy.toml"
    path.write_text(text.replace("vehicles_per_hour = 1800", "vehicles_per_hour = 3600"))
    return path


@pytest.fixture(scope="module")
def scored(busy_grid: Path) -> ScoreRun:
    return score_scenario(busy_grid, until=SECONDS)


@pytest.fixture(scope="module")
def summary(scored: ScoreRun) -> dict[str, Any]:
    return scored.card.summary()


def test_every_tick_is_scored_with_vehicles_in_view(scored: ScoreRun, summary: dict[str, Any]) -> None:
    assert summary["ticks"] == round(SECONDS / 0.1)
    assert summary["gospa"]["covered"]["vehicles_per_tick"] > 15
    # RSUs 150 m around every junction of 200 m blocks: most, not all, of the city is seen
    assert 0.8 < summary["gospa"]["coverage_share"] < 1.0
    s = scored.card.series()
    assert (s["n_covered"] <= s["n_truth"]).all() and (s["gospa_covered"] <= s["gospa_all"] + 1e-9).all()


def test_tracks_are_closer_than_the_sensor_noise(summary: dict[str, Any]) -> None:
    cov = summary["gospa"]["covered"]
    # the filter must beat a single RSU detection (0.71 m RMS), lamp posts or not
    assert cov["localisation_rms_m"] < 0.7 * RSU_RMS
    # a vehicle is missed only while its track is being confirmed (a few frames after it appears)
    assert cov["missed_share"] < 0.02
    assert cov["false_per_tick"] < 0.3
    # per vehicle, misses and false tracks cost c^2/2 = 50 m^2 each: 1.5 m allows ~4 % of them
    assert cov["rms_per_vehicle_m"] < 1.5
    # unobservable vehicles are all missed: GOSPA over everyone is worse
    assert summary["gospa"]["all"]["rms_per_vehicle_m"] > cov["rms_per_vehicle_m"]


def test_few_identity_switches(summary: dict[str, Any]) -> None:
    ids = summary["id_switches"]
    assert ids["vehicles"] > 30
    assert ids["per_vehicle"] < 0.25
    assert ids["per_tracked_minute"] < 0.3
    assert ids["while_held"] <= 0.05 * ids["vehicles"]


def test_queue_lengths_match_the_truth(summary: dict[str, Any]) -> None:
    q = summary["queue"]
    assert q["samples"] > 500  # lane-ticks with a queue
    # a queued car is 7.5 m of queue: the mean error is a small part of one, most are well below
    assert q["mae_m"] < 1.0
    assert q["p95_m"] < 3.0
    assert abs(q["bias_m"]) < 0.5
    assert q["mae_veh"] < 0.2


def test_connected_buses_and_robotaxis_carry_their_identity(summary: dict[str, Any]) -> None:
    ident = summary["identity"]
    assert ident["vehicles"] >= 5
    for cls in ("bus", "robotaxi"):
        assert ident["by_class"][cls] > 0.95, ident
    assert ident["vehicles_share_ever"] == 1.0


def test_cli_writes_the_summary_and_the_plot(
    busy_grid: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "score"
    assert main(["fusion", "score", str(busy_grid), "--until", "15", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "score.json").read_text())
    assert report["scenario"] == "grid-medium" and report["until_s"] == 15.0 and report["ticks"] == 150
    assert report["gospa"]["c_m"] == 10.0 and report["gospa"]["p"] == 2.0
    assert (out / "score.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "GOSPA observable" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["missing.toml"], "missing.toml: file not found"),
        ([str(REPO / "scenarios" / "grid-medium.toml"), "--until", "-5"], "--until must be"),
        ([str(REPO / "scenarios" / "grid-medium.toml"), "--until", "nan"], "--until must be"),
    ],
)
def test_bad_input_says_what_to_fix(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fusion", "score", *argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xj: error: ") and says in err


def test_out_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "taken"
    f.write_text("")
    argv = ["fusion", "score", str(REPO / "scenarios" / "grid-medium.toml"), "--out", str(f), "--quiet"]
    assert main(argv) == 2
    assert "is a file" in capsys.readouterr().err


def test_scorecard_on_a_hand_made_tick() -> None:
    """Two vehicles, one out of view and followed by a track: neither credited nor blamed."""
    truth = np.zeros(3, dtype=TRUTH_DTYPE)
    truth["vehicle_id"] = ["a", "b", "c"]
    truth["x"] = [0.0, 100.0, 200.0]
    truth["connected"] = [True, False, False]
    truth["cls"] = 4
    tracks = tracks_from_truth(0.0, truth, np.arange(3))
    tracks["x"] += [1.0, 0.0, 0.0]  # 1 m off on a
    tracks["vehicle_id"][1:] = ""
    extra = np.zeros(1, dtype=TRACK_DTYPE)  # a false track far from everything
    extra["track_id"], extra["x"] = 99, 500.0
    card = Scorecard()
    s = card.add(0.0, truth, np.arange(3), [True, False, True], np.concatenate([tracks, extra]))
    assert (s.n_truth, s.n_covered, s.n_tracks, s.missed, s.false) == (3, 2, 4, 0, 1)
    assert s.gospa_covered == pytest.approx(math.sqrt(1.0 + 50.0))
    assert s.gospa_all == pytest.approx(math.sqrt(1.0 + 50.0))
    tracks["track_id"][0] = 7  # a's track replaced under it: a switch while held
    card.add(0.1, truth, np.arange(3), [True, False, True], tracks)
    out = card.summary()
    assert out["id_switches"] == {
        "total": 1,
        "while_held": 1,
        "after_gap": 0,
        "vehicles": 2,
        "per_vehicle": 0.5,
        "per_tracked_minute": pytest.approx(1 / (4 * 0.1 / 60)),  # 4 vehicle-ticks of 0.1 s assigned
    }
    assert out["identity"]["share"] == 1.0 and out["identity"]["by_class"] == {"robotaxi": 1.0}
