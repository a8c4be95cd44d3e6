"""IngestService through a real Mosquitto: batches end to end, reconnects, dead letters, shared subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import aiomqtt
import numpy as np
import pytest

import proto
from fusion import Tracker
from ingest import Backoff, Batch, IngestService, Limits, Reason
from proto import topics
from tests.ingest.broker import PrivateBroker
from tests.ingest.conftest import PLATFORM
from tests.ingest.messages import FRAME, perception_env
from tests.ingest.scene import Scene

pytestmark = pytest.mark.mqtt
TIMEOUT = 60.0
PERIOD_NS = 100_000_000


async def _until(cond: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Wait for ``cond`` (polled), failing with ``what`` after ``timeout`` s."""
    try:
        async with asyncio.timeout(timeout):
            while not cond():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def _client(host: str, port: int, user: str | None = None, password: str | None = None) -> aiomqtt.Client:
    return aiomqtt.Client(
        host, port, username=user, password=password, protocol=aiomqtt.ProtocolVersion.V5, timeout=TIMEOUT
    )


async def _publish_scene(host: str, port: int, scene: Scene, sensors: tuple[str, ...], n: int, t0: int) -> None:
    """Publish ``n`` frames of each sensor, paced at 10 Hz, captured at ``t0 + k * 100 ms``."""
    async with _client(host, port) as pub:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for k in range(n):
            await asyncio.sleep(max(0.0, start + k * 0.1 - loop.time()))
            for i, sid in enumerate(sensors):
                f = proto.array_to_perception(scene.frame(i, k * 0.1), sid, t0 + k * PERIOD_NS)
                env = proto.envelope(sid, k, perception=f)  # sent now, on the publisher's clock
                await pub.publish(topics.topic("rsu", sid, "perception", "up"), env.SerializeToString(), qos=1)


async def test_published_frames_arrive_in_order_and_become_tracks(mqtt_broker: tuple[str, int], uid: str) -> None:
    host, port = mqtt_broker
    scene, n = Scene.lanes(), 30  # 3 s of two sensors at 10 Hz
    sensors = (f"{uid}-a", f"{uid}-b")
    expected = sum(len(scene.visible(i, k * 0.1)) for k in range(n) for i in range(2))
    subs = [topics.topic("rsu", s, "perception", "up") for s in sensors]
    t0 = time.time_ns()
    batches: list[Batch] = []
    tracker = Tracker()
    limits = Limits(max_age_s=60.0)  # a stalled CI machine must not turn frames stale
    async with IngestService(frame=FRAME, hostname=host, port=port, subscriptions=subs, qos=1, limits=limits) as svc:
        await svc.wait_connected(TIMEOUT)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(_publish_scene(host, port, scene, sensors, n, t0))
            async with contextlib.aclosing(svc.batches(0.1)) as ticks, asyncio.timeout(TIMEOUT):
                async for b in ticks:
                    batches.append(b)
                    tracks = tracker.step(b.t, b.detections, b.reports)
                    if sum(len(x.detections) for x in batches) >= expected:
                        break
        metrics = svc.pipeline.metrics
    det = np.concatenate([b.detections for b in batches])
    assert len(det) == expected and metrics.rejected_total == 0
    names = batches[-1].sensors
    assert sorted(names) == sorted(f"rsu/{s}" for s in sensors)
    # positions and velocities are the scene's truth at each capture time, in the local frame
    k = np.rint((det["t"] * 1e9 - t0) / PERIOD_NS).astype(int)
    car = det["local_id"].astype(int)
    x, y = scene.x0[car] + scene.vx[car] * k * 0.1, scene.y[car]
    np.testing.assert_allclose(det["x"], x, atol=0.05)
    np.testing.assert_allclose(det["y"], y, atol=0.05)
    np.testing.assert_allclose(det["vx"], scene.vx[car], atol=0.05)
    np.testing.assert_allclose(det["vy"], 0.0, atol=0.05)
    # every sensor's frames come out in capture order, each frame once
    for s in range(2):
        ks = k[det["sensor"] == s]
        assert np.all(np.diff(ks) >= 0) and len(np.unique(ks)) == n
    # fed to fusion tick by tick, the four cars are four confirmed tracks where the cars are
    tau = batches[-1].t - t0 / 1e9
    truth_x, truth_y = scene.x0 + scene.vx * tau, scene.y
    assert len(tracks) == len(scene.x0)
    dist = np.hypot(tracks["x"][:, None] - truth_x[None, :], tracks["y"][:, None] - truth_y[None, :])
    nearest = dist.argmin(axis=1)
    assert sorted(nearest) == list(range(len(scene.x0)))  # one track per car, none doubled by the overlap
    assert dist.min(axis=1).max() < 1.0
    np.testing.assert_allclose(tracks["vx"], scene.vx[nearest], atol=0.5)


async def test_reconnects_and_resubscribes_after_a_broker_restart(
    private_broker: PrivateBroker, devices: tuple[str, str]
) -> None:
    dev = devices[0]
    topic = topics.topic("rsu", dev, "perception", "up")
    svc = IngestService(
        frame=FRAME,
        hostname=private_broker.host,
        port=private_broker.port,
        username=PLATFORM,
        password=private_broker.users[PLATFORM],
        subscriptions=[topic],
        qos=1,
        backoff=Backoff(initial_s=0.05, max_s=0.5),
    )

    async def publish(seq: int) -> None:
        async with _client(private_broker.host, private_broker.port, dev, private_broker.users[dev]) as c:
            await c.publish(topic, perception_env(dev, seq, time.time_ns()).SerializeToString(), qos=1)

    def accepted() -> int:
        return svc.pipeline.metrics.accepted.get("perception", 0)

    async with svc:
        await svc.wait_connected(TIMEOUT)
        await publish(0)
        await _until(lambda: accepted() == 1, "the first frame")
        await asyncio.to_thread(private_broker.stop)
        await _until(lambda: not svc.connected.is_set(), "the service to notice the broker is gone")
        await asyncio.to_thread(private_broker.start)
        await svc.wait_connected(TIMEOUT)
        await publish(1)
        await _until(lambda: accepted() == 2, "a frame after the restart (resubscribed)")
    assert svc.connects == 2 and svc.pipeline.metrics.rejected_total == 0


@pytest.mark.parametrize(
    "protocol", [aiomqtt.ProtocolVersion.V5, aiomqtt.ProtocolVersion.V311], ids=["mqtt5", "mqtt311"]
)
async def test_rejected_payloads_are_republished_as_dead_letters(
    private_broker: PrivateBroker, devices: tuple[str, str], protocol: aiomqtt.ProtocolVersion
) -> None:
    a, b = devices
    host, port, users = private_broker.host, private_broker.port, private_broker.users
    topic = topics.topic("rsu", a, "perception", "up")
    spoofed = perception_env(b, 1, time.time_ns()).SerializeToString()  # b's frame on a's topic
    async with (
        IngestService(
            frame=FRAME,
            hostname=host,
            port=port,
            username=PLATFORM,
            password=users[PLATFORM],
            subscriptions=[topic],
            protocol=protocol,
        ) as svc,
        _client(host, port, PLATFORM, users[PLATFORM]) as watcher,
    ):
        await watcher.subscribe("v2x/v1/deadletter/#", qos=1)
        await svc.wait_connected(TIMEOUT)
        async with _client(host, port, a, users[a]) as dev:
            await dev.publish(topic, b"\xff\x00garbage", qos=1)
            await dev.publish(topic, spoofed, qos=1)
        got = []
        async with asyncio.timeout(TIMEOUT):
            async for msg in watcher.messages:
                props = dict(getattr(msg.properties, "UserProperty", []))
                got.append((msg.topic.value, msg.payload, props))
                if len(got) == 2:
                    break
    assert [(t, p) for t, p, _ in got] == [
        ("v2x/v1/deadletter/decode_error", b"\xff\x00garbage"),
        ("v2x/v1/deadletter/sender_mismatch", spoofed),
    ]
    props = got[1][2]
    if protocol is aiomqtt.ProtocolVersion.V5:
        assert props["reason"] == "sender_mismatch" and props["topic"] == topic and props["sender"] == f"rsu/{a}"
        assert int(props["recv_ns"]) > 0 and b in props["detail"]
    else:
        assert props == {}  # MQTT 3.1.1 has no user properties: the reason is the topic's last level
    assert svc.pipeline.metrics.rejected[Reason.SENDER_MISMATCH] == 1
    assert [d.reason for d in svc.pipeline.dead_letters.recent()] == [Reason.SENDER_MISMATCH, Reason.DECODE_ERROR]


async def test_own_dead_letters_are_not_fed_back(mqtt_broker: tuple[str, int], uid: str) -> None:
    host, port = mqtt_broker
    topic = topics.topic("rsu", uid, "perception", "up")
    svc = IngestService(frame=FRAME, hostname=host, port=port, subscriptions=[topic, "v2x/v1/deadletter/#"], qos=1)
    async with svc, _client(host, port) as watcher:
        await watcher.subscribe("v2x/v1/deadletter/decode_error", qos=1)
        await svc.wait_connected(TIMEOUT)
        async with _client(host, port) as pub:
            await pub.publish(topic, b"\xff" + uid.encode(), qos=1)
            async with asyncio.timeout(TIMEOUT):
                async for msg in watcher.messages:  # the broker has handed the dead letter out
                    if msg.payload == b"\xff" + uid.encode():
                        break
            await pub.publish(topic, perception_env(uid, 1, time.time_ns()).SerializeToString(), qos=1)
        await _until(lambda: svc.pipeline.metrics.accepted.get("perception", 0) == 1, "the frame after it")
    # the dead letter reached ingest's socket before the frame did, and was skipped
    assert svc.pipeline.metrics.received == 2 and svc.pipeline.metrics.rejected_total == 1


async def test_shared_subscription_splits_messages_between_workers(mqtt_broker: tuple[str, int], uid: str) -> None:
    host, port = mqtt_broker
    sensor, n = f"{uid}-s", 40
    topic = topics.topic("rsu", sensor, "perception", "up")
    sub = f"$share/{uid}/{topic}"
    kw = {"frame": FRAME, "hostname": host, "port": port, "subscriptions": [sub], "qos": 1}
    async with IngestService(**kw) as w1, IngestService(**kw) as w2:  # type: ignore[arg-type]
        await w1.wait_connected(TIMEOUT)
        await w2.wait_connected(TIMEOUT)
        async with _client(host, port) as pub:
            for seq in range(n):
                await pub.publish(topic, perception_env(sensor, seq, time.time_ns()).SerializeToString(), qos=1)

        def counts() -> tuple[int, int]:
            return tuple(w.pipeline.metrics.accepted.get("perception", 0) for w in (w1, w2))  # type: ignore[return-value]

        await _until(lambda: sum(counts()) == n, f"{n} frames across both workers")
    assert min(counts()) > 0  # each worker took a share, none was delivered twice
    assert w1.pipeline.metrics.rejected_total + w2.pipeline.metrics.rejected_total == 0
