"""The real-time runner's inbox: what arrives on the downlink topics is queued or set aside with a reason."""

from __future__ import annotations

import pytest

from proto import envelope, pb, topic
from roadnet import grid
from sim.devices import FieldDevices
from sim.realtime import RealtimeRunner
from tests.sim.test_devices_standin import StandInEngine

PREFIX = "city7-"


@pytest.fixture
def runner() -> RealtimeRunner:
    net = grid(2, 2)
    return RealtimeRunner(StandInEngine(net, []), FieldDevices(net, epoch_ns=0), id_prefix=PREFIX)


def cmd(junction: str) -> bytes:
    c = pb.SignalCommand(command_id="c", junction_id=junction, kind=pb.COMMAND_KIND_HOLD_PHASE, expires_ns=10**18)
    return envelope("platform", 1, command=c).SerializeToString()


def test_commands_and_advisories_are_queued_with_the_prefix_stripped(runner: RealtimeRunner) -> None:
    runner.handle(topic("tsc", PREFIX + "J0_1", "command", "down"), cmd(PREFIX + "J0_1"))
    runner.handle(topic("tsc", PREFIX + "J1_1", "command", "down"), cmd(""))  # id from the topic
    adv = pb.Advisory(advisory_id="a", speed=pb.SpeedAdvice(speed_002=100))
    runner.handle(topic("obu", PREFIX + "v_9", "advisory", "down"), envelope("p", 2, advisory=adv).SerializeToString())
    assert [c.junction_id for c in runner._commands] == ["J0_1", "J1_1"]
    assert [a.vehicle_id for a in runner._advisories] == ["v_9"]
    assert runner.stats.received == {"command": 2, "advisory": 1}
    assert not runner.stats.rejected


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("v2x/v1/tsc/city7-J0_0/command", cmd("J0_0"), "topic"),
        (topic("tsc", PREFIX + "J0_0", "command", "down"), b"\x08\xff\xff", "decode"),
        (
            topic("tsc", PREFIX + "J0_0", "command", "down"),
            envelope("p", 1, spat=pb.Spat()).SerializeToString(),
            "body",
        ),
        (topic("tsc", PREFIX + "J0_0", "command", "down"), cmd(PREFIX + "J1_1"), "mismatch"),
        (topic("tsc", PREFIX + "J9_9", "command", "down"), cmd(""), "unknown"),
        (topic("tsc", PREFIX + "J0_0", "spat", "up"), cmd(""), "channel"),
    ],
    ids=["topic", "decode", "body", "mismatch", "unknown", "channel"],
)
def test_unusable_messages_are_set_aside_with_a_reason(
    runner: RealtimeRunner, name: str, payload: bytes, reason: str
) -> None:
    runner.handle(name, payload)
    assert runner.stats.rejected == {reason: 1}
    assert runner.stats.set_aside[-1][0] == name
    assert runner._commands == [] and runner._advisories == []


def test_other_cities_are_ignored_quietly(runner: RealtimeRunner) -> None:
    runner.handle(topic("tsc", "elsewhere-J0_0", "command", "down"), cmd("elsewhere-J0_0"))
    assert runner.stats.received == {"other_city": 1} and not runner.stats.rejected
