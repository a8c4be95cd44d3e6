"""Operator overrides pass the safety layer and every step is audited (who, what, when, why, outcome)."""

from __future__ import annotations

import pytest

from control.machine import SignalMachine
from control.overrides import KINDS, AuditEntry, OverrideManager, OverrideRequest
from control.plan import ControllerPlan
from control.safety import SafetyLayer
from roadnet import RoadNetwork

T0 = 1000.0


@pytest.fixture
def rig(
    grid_net: RoadNetwork, plans: dict[str, list[ControllerPlan]]
) -> tuple[OverrideManager, SignalMachine, list[AuditEntry]]:
    pl = plans["grid"]
    t = grid_net.tls_index_of["J1_1"]
    m = SignalMachine.start(pl[t], int(grid_net.tls_active_program[t]), 0, T0)
    sink: list[AuditEntry] = []
    mgr = OverrideManager(SafetyLayer(pl), lambda jid: m if jid == "J1_1" else None, sink.append)
    return mgr, m, sink


def test_an_accepted_override_is_sent_audited_and_expires(
    rig: tuple[OverrideManager, SignalMachine, list[AuditEntry]],
) -> None:
    mgr, _, sink = rig
    now = T0 + 20.0
    out = mgr.submit(OverrideRequest("J1_1", KINDS["force"], "ambulance on the north approach", "alice", 60.0, 3), now)
    assert out.accepted and out.command is not None
    assert out.command.source == "operator:alice" and out.command.expires_ns == round((now + 60) * 1e9)
    assert mgr.controls("J1_1", now)
    assert [c.command_id for c in mgr.active(now)] == [out.override_id]
    sent = mgr.due(now)
    assert [c.command_id for c in sent] == [out.override_id]
    assert mgr.due(now + 1) == []
    mgr.due(now + 61)
    assert not mgr.controls("J1_1", now + 61)
    outcomes = [e.outcome for e in sink]
    assert outcomes == ["accepted", "applied", "expired"]
    first = sink[0]
    assert first.who == "alice" and first.why == "ambulance on the north approach"
    assert first.when_ns == round(now * 1e9) and "force phase 3 at J1_1" in first.what


def test_an_override_before_the_minimum_green_is_queued_then_applied(
    rig: tuple[OverrideManager, SignalMachine, list[AuditEntry]],
) -> None:
    mgr, _, sink = rig
    out = mgr.submit(OverrideRequest("J1_1", KINDS["force"], "clear the junction", "bob", 60.0, 3), T0 + 2.0)
    assert out.accepted and out.queued and out.command is None
    assert mgr.due(T0 + 4.0) == []  # still within the 8 s minimum green
    sent = mgr.due(T0 + 8.5)
    assert len(sent) == 1 and sent[0].phase_index == 3
    assert [e.outcome for e in sink] == ["queued", "accepted", "applied"]
    assert "retry in 6.0 s" in sink[0].detail


def test_a_queued_override_lapses_when_its_time_runs_out(
    rig: tuple[OverrideManager, SignalMachine, list[AuditEntry]],
) -> None:
    mgr, _, sink = rig
    out = mgr.submit(OverrideRequest("J1_1", KINDS["force"], "test", "carol", 7.5, 3), T0 + 1.0)
    assert out.queued
    mgr.due(T0 + 9.0)
    assert [e.outcome for e in sink] == ["queued", "lapsed"]


@pytest.mark.parametrize(
    ("req", "why"),
    [
        (OverrideRequest("J1_1", KINDS["force"], "", "alice", 60.0, 3), "reason"),
        (OverrideRequest("J1_1", KINDS["force"], "x", "", 60.0, 3), "operator"),
        (OverrideRequest("J9_9", KINDS["force"], "x", "alice", 60.0, 3), "unknown signal controller"),
        (OverrideRequest("J1_1", KINDS["force"], "x", "alice", 60.0, 1), "transition phase"),
        (OverrideRequest("J1_1", KINDS["program"], "x", "alice", 60.0, 0, "night"), "no program"),
        (OverrideRequest("J1_1", 5, "x", "alice", 60.0), "operators may"),
        (OverrideRequest("J1_1", KINDS["hold"], "x", "alice", -1.0), "positive"),
    ],
    ids=["no-reason", "no-operator", "unknown-junction", "transition-phase", "unknown-program", "tsp-kind", "duration"],
)
def test_bad_overrides_are_refused_and_audited(
    rig: tuple[OverrideManager, SignalMachine, list[AuditEntry]], req: OverrideRequest, why: str
) -> None:
    mgr, _, sink = rig
    out = mgr.submit(req, T0 + 20.0)
    assert not out.accepted and why in out.reason
    assert len(sink) == 1 and sink[0].outcome == "refused" and why in sink[0].detail


def test_all_red_and_release(rig: tuple[OverrideManager, SignalMachine, list[AuditEntry]]) -> None:
    mgr, m, sink = rig
    now = T0 + 20.0
    out = mgr.submit(OverrideRequest("J1_1", KINDS["all_red"], "crash in the junction", "dave", 30.0), now)
    assert out.accepted and out.command is not None
    m.apply(out.command, now)
    mgr.due(now)
    assert mgr.controls("J1_1", now + 10)
    rel = mgr.submit(OverrideRequest("J1_1", KINDS["release"], "cleared", "dave", 10.0), now + 10.0)
    assert rel.accepted
    mgr.due(now + 10.0)
    assert not mgr.controls("J1_1", now + 10.0)
    assert [e.outcome for e in sink] == ["accepted", "applied", "accepted", "applied"]


def test_a_long_hold_is_corrected_to_the_maximum_green(
    rig: tuple[OverrideManager, SignalMachine, list[AuditEntry]],
) -> None:
    mgr, _, sink = rig
    now = T0 + 20.0
    out = mgr.submit(OverrideRequest("J1_1", KINDS["hold"], "parade", "erin", 300.0), now)
    assert out.accepted and out.command is not None
    assert out.command.expires_ns == round((T0 + 60.0) * 1e9)  # maxDur 60 s of the stage
    assert sink[0].outcome == "corrected" and "stage end moved" in sink[0].detail
