"""``xj sim``: user mistakes get one clear line, runs write their KPI JSON and truth, the platform plugin."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import sim.cli

ROOT = Path(__file__).resolve().parents[2]
GRID = ROOT / "scenarios" / "grid-medium.toml"


def xj(*argv: str) -> int:
    """Run ``xj sim ...`` through the sim CLI's own registration."""
    parser = argparse.ArgumentParser(prog="xj")
    sub = parser.add_subparsers(dest="command")
    sim.cli.register(sub)
    args = parser.parse_args(["sim", *argv])
    return int(args.func(args))


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
def test_user_mistakes_get_one_clear_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
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
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sim.cli, "PLATFORM_PLUGIN", "cloud.no_such_plugin_for_tests")
    made: list[object] = []
    monkeypatch.setattr(sim.cli, "_engine", lambda *a: made.append(a))
    assert xj("run", str(GRID), "--until", "1", "--control", "max-pressure", "--no-progress") == 2
    err = capsys.readouterr().err
    assert "cloud.no_such_plugin_for_tests" in err and "make_platform(net, options)" in err
    assert made == []  # refused before any engine was built


def test_a_lockstep_run_writes_kpis_truth_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kpi = tmp_path / "out" / "kpi.json"
    truth = tmp_path / "truth.npz"
    plots = tmp_path / "plots"
    argv = ["run", str(GRID), "--until", "40", "--seed", "5", "--kpi-out", str(kpi), "--truth-out", str(truth)]
    assert xj(*argv, "--plots", str(plots), "--no-progress") == 0
    report = json.loads(kpi.read_text())
    assert report["scenario"] == "grid-medium" and report["seed"] == 5 and report["mode"] == "lockstep"
    assert report["ticks"] == 400 and report["sim_seconds"] == pytest.approx(40.0)
    assert report["vehicles_inserted"] > 0 and "mean_delay_s" in report and "bus_mean_delay_s" in report
    assert report["glosa_stops_compliant"] is None and report["glosa_stops_noncompliant"] is None  # no GLOSA
    assert report["commands_accepted"] == 0 and report["commands_refused"] == 0
    dev = report["devices"]
    assert dev["signal_controllers"] == 16 and dev["rsus"] == 16 and dev["lamp_posts"] == 24
    assert dev["bsm_sent"] > 0 and dev["frames"] == 400 * 40
    with np.load(truth) as z:
        assert len(z["t"]) > 0 and z["truth"].dtype.names is not None and "vehicle_id" in z["truth"].dtype.names
    assert (plots / "delay_histogram.png").stat().st_size > 0 and (plots / "time_space.png").stat().st_size > 0
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
            )
        if len(obs.reports) and not CALLS.get("advised"):
            CALLS["advised"] = str(obs.reports["vehicle_id"][0])
            ns = round(obs.t * 1e9)
            return Decisions(
                advisories=[pb.Advisory(advisory_id="a", vehicle_id=CALLS["advised"], expires_ns=ns + 10**10,
                                        speed=pb.SpeedAdvice(speed_002=100))],
            )
        return Decisions()


def make_platform(net, options):
    CALLS["make"].append((len(net.tls_ids), dict(options)))
    return Platform()
'''


def test_platform_options_load_the_plugin_and_run_it_in_lockstep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"xj_test_plugin_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sim.cli, "PLATFORM_PLUGIN", name)
    kpi = tmp_path / "kpi.json"
    argv = ["run", str(GRID), "--until", "20", "--control", "actuated", "--tsp", "--no-glosa", "--kpi-out", str(kpi)]
    argv += ["--platform-opt", "picture=fused", "--platform-opt", 'config={"cycle_s": 90}']
    assert xj(*argv, "--no-progress") == 0
    calls = sys.modules[name].CALLS
    assert calls["ticks"] == 200
    ((n_tls, options),) = calls["make"]
    assert n_tls == 16
    assert options["control"] == "actuated" and options["tsp"] is True and options["glosa"] is False
    assert options["seed"] == 1 and options["dt"] == 0.1 and options["scenario"] == "grid-medium"
    assert options["picture"] == "fused" and options["config"] == {"cycle_s": 90}
    report = json.loads(kpi.read_text())
    assert report["platform"] == {"control": "actuated", "tsp": True, "glosa": False}
    assert report["commands_accepted"] == 1
    assert report["devices"]["glosa_compliant"] + report["devices"]["glosa_noncompliant"] == 1


def test_the_platform_plugin_runs_control_tsp_and_glosa_with_the_simulator(tmp_path: Path) -> None:
    """The documented plugin point with the platform's own plugin: the KPI JSON the control issue asks for."""
    kpi = tmp_path / "kpi.json"
    corridor = ROOT / "scenarios" / "corridor-bus.toml"
    argv = ["run", str(corridor), "--until", "120", "--control", "actuated", "--tsp", "--glosa", "--kpi-out", str(kpi)]
    assert xj(*argv, "--no-progress") == 0
    report = json.loads(kpi.read_text())
    for key in ("bus_mean_delay_s", "glosa_stops_compliant", "glosa_stops_noncompliant", "mean_delay_s"):
        assert key in report
    assert report["platform"] == {"control": "actuated", "tsp": True, "glosa": True}
    assert report["commands_accepted"] > 0
    dev = report["devices"]
    assert dev["glosa_compliant"] + dev["glosa_noncompliant"] > 0
    assert dev["advisories"].get("speed_applied", 0) > 0
