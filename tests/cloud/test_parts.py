"""The small parts: metrics exposition and quantiles, the stand-in city and its controllers,
the stand-in override checks, and the JSON snapshot."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cloud.citysim import CityModel
from cloud.contracts import OverrideRequest
from cloud.metrics import Registry
from cloud.standins import OVERRIDE_KINDS, StandinOverrideGate
from proto import pb
from roadnet import grid


def test_metrics_exposition_and_quantiles() -> None:
    reg = Registry()
    c = reg.counter("xj_things_total", "Things.", ("reason",))
    c.inc(2, "bad_topic")
    c.inc(1, 'we"ird')
    h = reg.histogram("xj_lat_seconds", "Latency.", (0.01, 0.02, 0.05))
    for v in (0.005,) * 50 + (0.015,) * 49 + (0.04,):
        h.observe(v)
    reg.gauge("xj_depth", "Depth.", fn=lambda: 7)
    text = reg.render()
    assert 'xj_things_total{reason="bad_topic"} 2' in text
    assert 'xj_things_total{reason="we\\"ird"} 1' in text
    assert 'xj_lat_seconds_bucket{le="+Inf"} 100' in text and "xj_depth 7" in text
    assert h.quantile(0.5) == pytest.approx(0.01)
    assert 0.02 < h.quantile(0.995) <= 0.05
    assert math.isnan(reg.histogram("xj_empty", "Empty.").quantile(0.5))


def test_city_model_moves_stops_at_red_and_obeys_all_red() -> None:
    net = grid(3, 3)
    m = CityModel(net, demand_veh_h=6000, seed=2)
    for _ in range(600):
        m.step(0.1)
    assert len(m.veh) > 10
    x0, _, _ = m.positions()
    ids0 = m.veh["vid"].copy()
    m.step(0.1)
    x1, _, _ = m.positions()
    same = np.isin(m.veh["vid"], ids0)
    assert np.any(np.abs(x1[same] - x0[np.isin(ids0, m.veh["vid"])]) > 0)
    m.command(pb.SignalCommand(junction_id="J1_1", kind=pb.COMMAND_KIND_ALL_RED, duration_s=60))
    for _ in range(150):  # amber and clearance run out first
        m.step(0.1)
    spat = {s.junction_id: s for s in m.spat(0)}
    assert set(spat["J1_1"].link_state) == {"r"} and spat["J1_1"].mode == pb.CONTROL_MODE_OVERRIDE
    assert "G" in spat["J0_0"].link_state or "g" in spat["J0_0"].link_state or "y" in spat["J0_0"].link_state


@pytest.mark.parametrize(
    ("kind", "phase", "duration", "ok"),
    [
        ("force", 0, 30, True),
        ("force", 1, 30, False),
        ("force", 9, 30, False),
        ("hold", 0, 0.5, False),
        ("all_red", 0, 60, True),
    ],
    ids=["force-green", "force-amber", "force-unknown", "too-short", "all-red"],
)
def test_standin_gate_checks(kind: str, phase: int, duration: float, ok: bool) -> None:
    gate = StandinOverrideGate(grid(2, 2))
    out = gate.submit(OverrideRequest("J0_0", OVERRIDE_KINDS[kind], phase, "", duration, "test", "op"), 1000.0)
    assert out.accepted is ok
    assert (gate.active(1001.0) == ["J0_0"]) is ok
    assert len(gate.take_pending()) == int(ok)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["serve", "--map", "/no/such/city.xjmap"], "file not found"),
        (["serve", "--mqtt", "http://broker"], "mqtt://"),
    ],
    ids=["missing-map", "bad-broker-url"],
)
def test_serve_user_errors(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    from cloud.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("xj: error:") and says in err


def test_serve_refuses_dev_secret_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cloud.cli import main

    monkeypatch.setenv("XJ_ENVIRONMENT", "production")
    assert main(["serve"]) == 2
    assert "XJ_TOKEN_SECRET" in capsys.readouterr().err
