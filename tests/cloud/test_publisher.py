"""The downlink publisher through the real Mosquitto: a tick's messages, encoded as one buffer,
arrive whole, in order, on their topics, with the ``xj-basis-ns`` user property over MQTT 5."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import pytest

from cloud.metrics import Counter
from cloud.mqtt import Publisher
from cloud.settings import Settings
from tests.cloud.helpers import wait_for

pytestmark = [pytest.mark.mqtt]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_a_tick_arrives_whole_in_order_with_its_basis(
    mqtt_broker: tuple[str, int], uid: str, protocol: str
) -> None:
    host, port = mqtt_broker
    settings = Settings.model_validate({"mqtt": f"mqtt://{host}:{port}", "mqtt_protocol": protocol})
    sent, errors = Counter("sent", "", ("channel",)), Counter("errors", "", ("reason",))
    pub = Publisher(settings, sent, errors)
    got: list[tuple[str, bytes, list[tuple[str, str]]]] = []
    ready = asyncio.Event()

    async def listen() -> None:
        async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5) as c:
            await c.subscribe(f"xjpub/{uid}/#")
            ready.set()
            async for m in c.messages:
                props = getattr(m.properties, "UserProperty", None) or []
                got.append((m.topic.value, bytes(m.payload), list(props)))

    listener = asyncio.create_task(listen())
    runner = asyncio.create_task(pub.run())
    try:
        await asyncio.wait_for(ready.wait(), 10)
        await wait_for(lambda: pub.connected, 10, "the publisher to connect")
        msgs = [
            ("advisory" if i % 3 else "spat", f"xjpub/{uid}/{i % 5}", bytes([i % 256]) * (i * 300)) for i in range(60)
        ]
        assert await pub.publish(msgs, basis_ns=1_700_000_000_123_456_789) == len(msgs)
        # more than the socket takes at once: the rest goes out when it is writable, in order
        big = [("spat", f"xjpub/{uid}/big", bytes([i]) * 1_000_000) for i in range(8)]
        assert await pub.publish(big, basis_ns=1) == len(big)
        assert await pub.publish(msgs[:3], basis_ns=1_700_000_000_123_456_789) == 3
        await wait_for(lambda: len(got) >= len(msgs) + len(big) + 3, 20, "every message at the subscriber")
        # and the writer is gone once all is written (a writer left behind spins the loop)
        c0 = time.process_time()
        await asyncio.sleep(1.0)
        assert time.process_time() - c0 < 0.5
    finally:
        runner.cancel()
        listener.cancel()
        await pub.close()
    assert [(t, p) for t, p, _ in got] == [(t, p) for _, t, p in msgs + big + msgs[:3]]
    want = [("xj-basis-ns", "1700000000123456789")] if protocol == "5" else []
    assert all(props == want for _, _, props in got[: len(msgs)])
    assert sent.get("advisory") == 42 and sent.get("spat") == 29 and errors.get("publish") == 0
