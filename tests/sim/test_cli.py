"""``xj sim``: user mistakes get one clear line, runs write their KPI JSON and truth, the platform plugin."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim.cli
from roadnet import RoadNetwork
from tests.sim.test_devices_standin import Car, StandInEngine, approach_lane

ROOT = Path(__file__).resolve().parents[2]
GRID = ROOT / "scenarios" / "grid-medium.toml"


def xj(*argv: str) -> int:
    """Run ``xj sim ...`` through the sim CLI's own registration."""
    parser = argparse.ArgumentParser(prog="xj")
    sub = parser.add_subparsers(dest="command")
    sim.cli.register(sub)
    args = parser.parse_args(["sim", *argv])
    return int(args.func(args))


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> list[StandInEngine]:
    """Replace the traffic engine by the stand-in (a few cars near J0_0); collects the engines made."""
    made: list[StandInEngine] = []

    def make(net: RoadNetwork, demand: Any, seed: int, dt: float) -> StandInEngine:
        cars = [
            Car("c1", approach_lane(net, "W0-J0_0"), 60.0, 8.0),
            Car("c2", approach_lane(net, "S0-J0_0"), 90.0, 6.0, connected=False),
        ]
        eng = StandInEngine(net, cars, dt=dt)
        made.append(eng)
        return eng

    monkeypatch.setattr(sim.cli, "_engine", make)
    return made


def test_check_summarises_a_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert xj("check", str(GRID), "--until", "300", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["scenario"] == "grid-medium" and info["signal_controllers"] == 16
    assert info["rsus"] == 16 and info["lamp_posts"] > 0 and info["vehicles"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--until", "-3"], "--until must be > 0"),
        (["--speed", "0", "--realtime"], "--speed must be > 0"),
        (["--obu-share", "1.5"], "--obu-share must be between 0 and 1"),
        (["--control", "fixed", "--realtime"], "in real time start the platform separately"),
        (["--mqtt", "http://x", "--realtime"], "is not mqtt://"),
        (["--platform-opt", "novalue"], "is not KEY=VALUE"),
    ],
    ids=["until", "speed", "obu-share", "control-realtime", "mqtt-url", "platform-opt"],
)
def test_user_mistakes_get_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], standin: list[StandInEngine]
) -> None:
    assert xj("run", str(GRID), "--no-progress", *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("xj: error: ") and message in err and err.count("\n") == 1


def test_a_bad_scenario_names_file_section_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "scenario.toml"
    bad.write_text('[map]\ngenerator = "grid"\n[devices]\nobu_share = 3\n')
    assert xj("run", str(bad)) == 2
    assert "scenario.toml: [devices] obu_share must be between 0 and 1" in capsys.readouterr().err
    assert xj("run", str(tmp_path / "missing.toml")) == 2
    assert "missing.toml: file not found" in capsys.readouterr().err


def test_control_without_the_platform_plugin_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], standin: list[StandInEngine]
) -> None:
    monkeypatch.setattr(sim.cli, "PLATFORM_PLUGIN", "cloud.no_such_plugin_for_tests")
    assert xj("run", str(GRID), "--until", "1", "--control", "max-pressure", "--no-progress") == 2
    err = capsys.readouterr().err
    assert "cloud.no_such_plugin_for_tests" in err and "make_platform(net, options)" in err
    assert standin == []  # refused before any engine was built


def test_a_lockstep_run_writes_kpis_and_truth(
    tmp_path: Path, standin: list[StandInEngine], capsys: pytest.CaptureFixture[str]
) -> None:
    kpi = tmp_path / "out" / "kpi.json"
    truth = tmp_path / "truth.npz"
    assert (
        xj(
            "run",
            str(GRID),
            "--until",
            "3",
            "--seed",
            "5",
            "--kpi-out",
            str(kpi),
            "--truth-out",
            str(truth),
            "--no-progress",
        )
        == 0
    )
    report = json.loads(kpi.read_text())
    assert report["scenario"] == "grid-medium" and report["seed"] == 5 and report["mode"] == "lockstep"
    assert report["ticks"] == 30 and report["sim_seconds"] == pytest.approx(3.0)
    assert report["commands_accepted"] == 0 and report["commands_refused"] == 0
    dev = report["devices"]
    assert dev["signal_controllers"] == 16 and dev["rsus"] == 16 and dev["connected_vehicles"] == 1
    with np.load(truth) as z:
        assert len(z["t"]) == 60 and set(z["truth"]["vehicle_id"].tolist()) == {"c1", "c2"}
    out = capsys.readouterr().out
    assert f"wrote {kpi}" in out and f"wrote {truth}" in out


PLUGIN = '''
"""A platform plugin for the CLI test: holds J0_0's green, slows c1, records its calls."""
from proto import pb
from sim.interface import Decisions

CALLS = {"make": [], "ticks": 0}


class Platform:
    def tick(self, obs):
        CALLS["ticks"] += 1
        if CALLS["ticks"] == 5:
            ns = round(obs.t * 1e9)
            return Decisions(
                commands=[pb.SignalCommand(command_id="p1", junction_id="J0_0", kind=pb.COMMAND_KIND_HOLD_PHASE,
                                           expires_ns=ns + 10**10, source="plugin")],
                advisories=[pb.Advisory(advisory_id="a", vehicle_id="c1", expires_ns=ns + 10**10,
                                        speed=pb.SpeedAdvice(speed_002=100))],
            )
        return Decisions()


def make_platform(net, options):
    CALLS["make"].append((len(net.tls_ids), dict(options)))
    return Platform()
'''


def test_platform_options_load_the_plugin_and_run_it_in_lockstep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, standin: list[StandInEngine]
) -> None:
    name = f"xj_test_plugin_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sim.cli, "PLATFORM_PLUGIN", name)
    kpi = tmp_path / "kpi.json"
    argv = ["run", str(GRID), "--until", "2", "--control", "actuated", "--tsp", "--no-glosa", "--kpi-out", str(kpi)]
    argv += ["--platform-opt", "picture=fused", "--platform-opt", 'config={"cycle_s": 90}']
    assert xj(*argv, "--no-progress") == 0
    calls = sys.modules[name].CALLS
    assert calls["ticks"] == 20
    ((n_tls, options),) = calls["make"]
    assert n_tls == 16
    assert options["control"] == "actuated" and options["tsp"] is True and options["glosa"] is False
    assert options["seed"] == 1 and options["dt"] == 0.1 and options["scenario"] == "grid-medium"
    assert options["picture"] == "fused" and options["config"] == {"cycle_s": 90}
    report = json.loads(kpi.read_text())
    assert report["platform"] == {"control": "actuated", "tsp": True, "glosa": False}
    assert report["commands_accepted"] == 1
    assert report["devices"]["glosa_compliant"] + report["devices"]["glosa_noncompliant"] == 1
