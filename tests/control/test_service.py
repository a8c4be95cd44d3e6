"""The facade against the simulator's field controllers (sim.devices.signals, a separate
implementation with its own limits): every strategy's commands are accepted there, predictions
match what the field does, TSP and overrides go through."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from control import ControlConfig, ControlService, Picture
from control.config import TspConfig
from control.overrides import KINDS, OverrideRequest
from proto import VEHICLE_REPORT_DTYPE, empty_lane_states, pb
from roadnet import RoadNetwork
from sim.devices.signals import SignalControllers
from sim.interface import LOCKSTEP_EPOCH
from tests.control.test_tsp import bus

EPOCH_NS = round(LOCKSTEP_EPOCH * 1e9)


def _run(
    net: RoadNetwork, svc: ControlService, seconds: float, reports: np.ndarray | None = None, seed: int = 0
) -> tuple[SignalControllers, Counter[str]]:
    field = SignalControllers(net, epoch_ns=EPOCH_NS)
    rng = np.random.default_rng(seed)
    lanes = empty_lane_states(len(net.lane_ids))
    outcomes: Counter[str] = Counter()
    veh = np.zeros(0, dtype=VEHICLE_REPORT_DTYPE) if reports is None else reports
    for k in range(int(seconds * 10)):
        ts = k * 0.1
        field.advance(ts)
        if k % 10 == 0:
            lanes["count"] = rng.poisson(3, len(lanes))
            lanes["queue_veh"] = rng.poisson(1, len(lanes))
            lanes["gap_s"] = rng.exponential(4, len(lanes))
            lanes["flow"] = rng.uniform(0, 0.3, len(lanes))
        now = LOCKSTEP_EPOCH + ts
        cmds, _ = svc.decide(now, Picture(now, lanes, vehicles=veh), field.spat())
        for c in cmds:
            r = field.apply(c)
            outcomes["accepted" if r.accepted else f"refused: {r.reason}"] += 1
    return field, outcomes


@pytest.mark.parametrize("strategy", ["fixed", "actuated", "max-pressure"])
@pytest.mark.parametrize("name", ["grid", "pasubio"])
def test_field_controllers_accept_every_strategy_command(
    name: str, strategy: str, nets: dict[str, RoadNetwork]
) -> None:
    net = nets[name]
    cfg = ControlConfig(strategy=strategy)  # type: ignore[arg-type]
    svc = ControlService(net, cfg)
    _, outcomes = _run(net, svc, 240.0)
    refused = {k: v for k, v in outcomes.items() if k != "accepted"}
    assert refused == {}
    assert outcomes["accepted"] > 0
    assert svc.safety.counts["rejected"] == 0


def test_fixed_time_predictions_match_the_field(grid_net: RoadNetwork) -> None:
    """Each group's predicted next change (made a second or more ahead) against the field's change."""
    svc = ControlService(grid_net, ControlConfig(strategy="fixed"))
    field = SignalControllers(grid_net, epoch_ns=EPOCH_NS)
    lanes = empty_lane_states(len(grid_net.lane_ids))
    predicted: dict[tuple[str, int], tuple[float, float]] = {}  # -> (made at, change at)
    shown: dict[tuple[str, int], int] = {}
    errors: list[float] = []
    for k in range(1500):
        ts = k * 0.1
        field.advance(ts)
        now = LOCKSTEP_EPOCH + ts
        spats = field.spat()
        for sp in spats:
            for g in sp.groups:
                key = (sp.junction_id, g.group_id)
                if key in shown and shown[key] != g.state and key in predicted:
                    made, at = predicted[key]
                    if now - made >= 1.0:
                        errors.append(abs(at - now))
                    del predicted[key]
                shown[key] = g.state
        cmds, _ = svc.decide(now, Picture(now, lanes), spats)
        for c in cmds:
            assert field.apply(c).accepted
        for sp in svc.spat(now):
            for g in sp.groups:
                key = (sp.junction_id, g.group_id)
                if g.confidence_pct == 100 and key not in predicted:
                    predicted[key] = (now, g.likely_end_ns / 1e9)
    assert len(errors) > 50
    assert np.median(errors) < 0.15 and np.percentile(errors, 90) < 0.25


def test_bus_priority_reaches_the_field(grid_net: RoadNetwork) -> None:
    svc = ControlService(grid_net, ControlConfig(strategy="actuated", tsp=TspConfig(budget_s_per_cycle=60.0)))
    b = bus(grid_net, "J0_1-J1_1_0", 60.0, 9.0, late=120.0)
    _, outcomes = _run(grid_net, svc, 90.0, reports=b)
    assert svc.tsp.counts["granted"] >= 1
    assert svc.stats["accepted:tsp"] + svc.stats["corrected:tsp"] >= 1
    assert all(k == "accepted" for k in outcomes)


def test_an_operator_override_reaches_the_field_and_strategies_stand_back(grid_net: RoadNetwork) -> None:
    svc = ControlService(grid_net, ControlConfig(strategy="actuated"))
    field = SignalControllers(grid_net, epoch_ns=EPOCH_NS)
    lanes = empty_lane_states(len(grid_net.lane_ids))
    t = grid_net.tls_index_of["J1_1"]
    sent: list[pb.SignalCommand] = []
    for k in range(600):
        ts = k * 0.1
        field.advance(ts)
        now = LOCKSTEP_EPOCH + ts
        if k == 200:
            out = svc.overrides.submit(OverrideRequest("J1_1", KINDS["all_red"], "crash", "alice", 20.0), now)
            assert out.accepted
        cmds, _ = svc.decide(now, Picture(now, lanes), field.spat())
        for c in cmds:
            assert field.apply(c).accepted
            if c.junction_id == "J1_1" and k >= 200:
                sent.append(c)
    assert sent and sent[0].kind == pb.COMMAND_KIND_ALL_RED
    assert all(c.source.startswith("operator:") for c in sent if c.issued_ns < sent[0].expires_ns)
    assert field.state[t] is not None


def test_the_cloud_picture_and_spat_mapping_are_accepted(grid_net: RoadNetwork) -> None:
    """``decide`` fits ``cloud.contracts.Decider``: the cloud's picture (tracks) and SPaT by id."""
    from cloud.contracts import Picture as CloudPicture
    from fusion.tracks import TRACK_DTYPE

    svc = ControlService(grid_net, ControlConfig(strategy="max-pressure"))
    field = SignalControllers(grid_net, epoch_ns=EPOCH_NS)
    b = bus(grid_net, "J0_1-J1_1_1", 120.0, 12.0, 0.0, vid="car7")
    tracks = np.zeros(1, dtype=TRACK_DTYPE)
    for c in ("x", "y", "vx", "vy"):
        tracks[c] = b[c]
    tracks["vehicle_id"], tracks["cls"] = "car7", 1
    lanes = empty_lane_states(len(grid_net.lane_ids))
    advised = False
    for k in range(30):
        field.advance(k * 0.1)
        now = LOCKSTEP_EPOCH + k * 0.1
        spat = {s.junction_id: s for s in field.spat()}
        pic = CloudPicture(now, tracks, np.full(1, -1), np.full(1, np.nan), lanes, [], spat, {})
        cmds, advs = svc.decide(now, pic, spat, [])
        advised |= any(a.vehicle_id == "car7" and a.WhichOneof("kind") == "speed" for a in advs)
        for c in cmds:
            assert field.apply(c).accepted
    assert advised
