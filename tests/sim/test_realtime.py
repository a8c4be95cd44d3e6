"""Real-time mode against the real Mosquitto: valid envelopes out, commands and advisories in.

Device ids carry the test's ``uid`` as a prefix, so the shared broker's other traffic is ignored.
Nothing asserts on durations: the tests wait for conditions with generous timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from proto import envelope, now_ns, pb, perception_to_array, topic
from proto.topics import parse
from proto.units import speed_from_002
from roadnet import RoadNetwork, classes, grid
from sim.devices import DeviceConfig, FieldDevices, ObuParams
from sim.realtime import RealtimeRunner
from tests.sim.test_devices_standin import Car, StandInEngine, approach_lane
from tests.support import free_port

pytestmark = [pytest.mark.mqtt, pytest.mark.timeout(180)]

BODY_OF_CHANNEL = {
    "perception": "perception",
    "spat": "spat",
    "bsm": "bsm",
    "parking": "parking",
    "status": "lamp_status",
    "srm": "priority_request",
}


def _world(speed: float = 12.0) -> tuple[RoadNetwork, StandInEngine, FieldDevices]:
    net = grid(2, 2, spacing=600.0)
    cars = [
        Car("c1", approach_lane(net, "W0-J0_0"), 460.0, speed),
        Car("c2", approach_lane(net, "S0-J0_0"), 480.0, 3.0, connected=False),
        Car("bus#7", approach_lane(net, "J0_0-J1_0"), 20.0, 6.0, cls=classes.BUS, bus_line="B7"),
    ]
    eng = StandInEngine(net, cars)
    devices = FieldDevices(net, DeviceConfig(obu=ObuParams(compliance=1.0)), epoch_ns=now_ns(), seed=1)
    return net, eng, devices


class Listener:
    """Collects every message under our prefix from the real broker."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.msgs: list[tuple[str, pb.Envelope]] = []
        self.bad: list[str] = []

    async def run(self, client: aiomqtt.Client) -> None:
        async for m in client.messages:
            name = str(m.topic)
            if name.split("/")[3].startswith(self.prefix) and name.endswith("/up"):
                try:
                    self.msgs.append((name, pb.Envelope.FromString(bytes(m.payload))))
                except Exception as exc:
                    self.bad.append(f"{name}: {exc}")

    def of(self, channel: str) -> list[tuple[str, pb.Envelope]]:
        return [(n, e) for n, e in self.msgs if n.split("/")[4] == channel]


@contextlib.asynccontextmanager
async def listening(host: str, port: int, prefix: str) -> AsyncIterator[tuple[Listener, aiomqtt.Client]]:
    lst = Listener(prefix)
    async with aiomqtt.Client(host, port) as client:
        await client.subscribe("v2x/v1/#")
        task = asyncio.create_task(lst.run(client))
        try:
            yield lst, client
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def advise(client: aiomqtt.Client, vehicle: str, advisory_id: str, *, speed_002: int) -> None:
    """Publish a SpeedAdvice to ``vehicle`` on its advisory topic, as the platform would."""
    t_ns = now_ns()
    adv = pb.Advisory(
        advisory_id=advisory_id,
        vehicle_id=vehicle,
        issued_ns=t_ns,
        expires_ns=t_ns + 600 * 10**9,
        speed=pb.SpeedAdvice(speed_002=speed_002),
    )
    env = envelope("platform", 1, advisory=adv)
    await client.publish(topic("obu", vehicle, "advisory", "down"), env.SerializeToString())


async def wait_for(cond: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_publishes_valid_envelopes_with_increasing_seq(mqtt_broker: tuple[str, int], uid: str) -> None:
    host, port = mqtt_broker
    prefix = f"{uid}-"
    net, eng, devices = _world()
    runner = RealtimeRunner(eng, devices, host=host, port=port, speed=4.0, id_prefix=prefix)
    async with listening(host, port, prefix) as (lst, _):
        res = await runner.run(6.0)
        n_pub = sum(res.extra["mqtt"]["published"].values())
        await wait_for(lambda: len(lst.msgs) >= n_pub, 30.0, "every published message")
    assert lst.bad == [] and len(lst.msgs) == n_pub
    assert res.sim_seconds == pytest.approx(6.0) and res.ticks == 60
    seqs: dict[str, list[int]] = defaultdict(list)
    for name, env in lst.msgs:
        t = parse(name)
        assert env.schema_version == 1
        assert env.sender_id == t.device_id
        assert env.WhichOneof("body") == BODY_OF_CHANNEL[t.channel]
        assert abs(env.sent_ns - now_ns()) < 120 * 10**9
        seqs[env.sender_id].append(env.seq)
    for sender, s in seqs.items():
        assert s == list(range(1, len(s) + 1)), sender
    # every controller's SPaT at 10 Hz, every RSU's frames, the connected vehicles' BSMs
    spat_senders = {e.sender_id for _, e in lst.of("spat")}
    assert spat_senders == {prefix + t for t in net.tls_ids}
    assert len(lst.of("spat")) == 60 * len(net.tls_ids)
    rsu_senders = {e.sender_id for n, e in lst.of("perception") if parse(n).kind == "rsu"}
    assert rsu_senders == {prefix + "rsu-" + t for t in net.tls_ids}
    bsm_ids = {e.bsm.vehicle_id for _, e in lst.of("bsm")}
    assert bsm_ids == {prefix + "c1", prefix + "bus_7"}
    assert {e.sender_id for _, e in lst.of("parking")} <= {prefix + "lamp-" + a for a in net.parking_ids}
    assert len(lst.of("parking")) == len(net.parking_ids)
    # perception frames decode, and carry positions near the truth
    rows = [perception_to_array(e.perception) for n, e in lst.of("perception") if e.sender_id == prefix + "rsu-J0_0"]
    last = rows[-1]
    x, _ = net.frame.to_local(last["lat"], last["lon"])
    c1 = eng.truth()
    assert np.min(np.abs(x - c1["x"][c1["vehicle_id"] == "c1"][0])) < 10.0


async def test_a_vehicle_reacts_to_an_advisory_and_a_controller_to_a_command(
    mqtt_broker: tuple[str, int], uid: str
) -> None:
    host, port = mqtt_broker
    prefix = f"{uid}-"
    _, eng, devices = _world(speed=3.0)
    runner = RealtimeRunner(eng, devices, host=host, port=port, speed=2.0, id_prefix=prefix)
    async with listening(host, port, prefix) as (lst, client):
        task = asyncio.create_task(runner.run(600.0))
        try:
            await asyncio.wait_for(runner.connected.wait(), 30.0)

            def bsm_speed(vid: str) -> float | None:
                got = [e.bsm.speed_002 for _, e in lst.of("bsm") if e.bsm.vehicle_id == prefix + vid]
                return float(speed_from_002(got[-1])) if got else None

            await wait_for(lambda: bsm_speed("c1") is not None, 30.0, "c1's BSMs")
            assert bsm_speed("c1") == pytest.approx(3.0, abs=0.05)
            await advise(client, prefix + "c1", "a1", speed_002=75)  # 1.5 m/s
            await wait_for(
                lambda: abs((bsm_speed("c1") or 0.0) - 1.5) < 0.05, 60.0, "c1 slowing to the advised 1.5 m/s"
            )
            assert eng.speed_of("c1") == pytest.approx(1.5)
            # a command: hold J0_0's green; its SPaT reports the cloud mode
            cmd = pb.SignalCommand(
                command_id="k1",
                junction_id=prefix + "J0_0",
                kind=pb.COMMAND_KIND_HOLD_PHASE,
                issued_ns=now_ns(),
                expires_ns=now_ns() + 60 * 10**9,
                source="test",
            )
            name = topic("tsc", prefix + "J0_0", "command", "down")
            await client.publish(name, envelope("platform", 2, command=cmd).SerializeToString())
            await client.publish(name, b"\xff\xfe not protobuf")
            await wait_for(
                lambda: any(
                    e.spat.mode == pb.CONTROL_MODE_CLOUD for _, e in lst.of("spat") if e.sender_id == prefix + "J0_0"
                ),
                60.0,
                "J0_0's SPaT in cloud mode",
            )
            await wait_for(lambda: runner.stats.rejected["decode"] == 1, 30.0, "the bad payload set aside")
        finally:
            runner.stop()
            res = await asyncio.wait_for(task, 60.0)
    assert [(r.command_id, r.accepted) for r in res.command_results] == [("k1", True)]
    assert res.groups == {"c1": "glosa_compliant"}
    assert res.extra["mqtt"]["received"] == {"advisory": 1, "command": 1}


# ---------------------------------------------------------------------------- reconnect


class ThrowawayBroker:
    """A plain Mosquitto on a free port that the test may stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20.0
        import socket

        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("mosquitto did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def throwaway_broker(tmp_path: Path, mqtt_broker: tuple[str, int]) -> Iterator[ThrowawayBroker]:
    b = ThrowawayBroker(tmp_path)
    b.start()
    try:
        yield b
    finally:
        b.stop()


async def test_reconnects_after_the_broker_restarts(throwaway_broker: ThrowawayBroker) -> None:
    _, eng, devices = _world(speed=3.0)
    runner = RealtimeRunner(eng, devices, port=throwaway_broker.port, speed=2.0)
    task = asyncio.create_task(runner.run(600.0))
    try:
        await wait_for(lambda: runner.stats.published["spat"] > 20, 30.0, "first SPaT")
        throwaway_broker.stop()
        await wait_for(lambda: runner.stats.disconnects >= 1, 30.0, "the runner noticing the broker went away")
        before = runner.stats.published["spat"]
        throwaway_broker.start()
        await wait_for(lambda: runner.stats.connects >= 2, 60.0, "the runner reconnecting")
        await wait_for(lambda: runner.stats.published["spat"] > before + 20, 30.0, "publishing again")
    finally:
        runner.stop()
        await asyncio.wait_for(task, 60.0)


# ---------------------------------------------------------------------------- with the real engine


async def test_a_vehicle_of_the_real_engine_slows_to_an_advised_speed(mqtt_broker: tuple[str, int], uid: str) -> None:
    from roadnet import corridor
    from sim.demand import DemandBuilder
    from sim.engine import Engine

    host, port = mqtt_broker
    prefix = f"{uid}-"
    net = corridor(6)
    b = DemandBuilder()
    main = ["CW-C0", *(f"C{i}-C{i + 1}" for i in range(5)), "C5-CE"]
    path = [net.edge_index_of[e] for e in main]
    b.add("taxi1", 1.0, b.vtypes.index("robotaxi"), path, speed_factor=1.0)  # robotaxis carry an OBU
    b.add("car1", 3.0, b.vtypes.index("car"), path, speed_factor=1.0)
    eng = Engine(net, b.build(), seed=1, dt=0.1)
    devices = FieldDevices(net, DeviceConfig(obu=ObuParams(compliance=1.0)), epoch_ns=now_ns(), seed=1)
    runner = RealtimeRunner(eng, devices, host=host, port=port, speed=2.0, id_prefix=prefix)
    async with listening(host, port, prefix) as (lst, client):
        task = asyncio.create_task(runner.run(400.0))
        try:

            def speeds() -> list[float]:
                got = [e.bsm.speed_002 for _, e in lst.of("bsm") if e.bsm.vehicle_id == prefix + "taxi1"]
                return [float(v) for v in speed_from_002(got)] if got else []

            await wait_for(lambda: any(v > 8.0 for v in speeds()), 60.0, "taxi1 driving at speed")
            assert {e.bsm.vehicle_id for _, e in lst.of("bsm")} == {prefix + "taxi1"}  # car1 has no OBU
            t_ns = now_ns()
            adv = pb.Advisory(
                advisory_id="glosa-1",
                vehicle_id=prefix + "taxi1",
                issued_ns=t_ns,
                expires_ns=t_ns + 600 * 10**9,
                speed=pb.SpeedAdvice(junction_id="C1", speed_002=200),  # 4 m/s
            )
            n_before = len(speeds())
            await client.publish(
                topic("obu", prefix + "taxi1", "advisory", "down"),
                envelope("platform", 1, advisory=adv).SerializeToString(),
            )
            await wait_for(lambda: abs(speeds()[-1] - 4.0) < 0.2, 90.0, "taxi1 at the advised 4 m/s")
            n_at = len(speeds())
            await wait_for(lambda: len(speeds()) > n_at + 30, 60.0, "three more seconds of BSMs")
            after = speeds()[n_at:]
            assert max(after) < 4.3  # it stays under the advised cap
            assert max(speeds()[:n_before]) > 8.0
        finally:
            runner.stop()
            res = await asyncio.wait_for(task, 60.0)
    assert res.groups == {"taxi1": "glosa_compliant"}
    applied = [r for r in res.advisory_results if r.advisory_id == "glosa-1"]
    assert len(applied) == 1 and applied[0].applied
