"""deploy/mosquitto: a real Mosquitto with the shipped config pins every device to its own topics."""

from __future__ import annotations

import asyncio
import re

import aiomqtt
import pytest

from proto import topics
from tests.ingest.broker import DEPLOY, PrivateBroker, credentials_module
from tests.ingest.conftest import PLATFORM

TIMEOUT = 30.0


def _client(broker: PrivateBroker, user: str | None, password: str | None = None) -> aiomqtt.Client:
    return aiomqtt.Client(
        broker.host,
        broker.port,
        username=user,
        password=password if password is not None else broker.users.get(user or ""),
        protocol=aiomqtt.ProtocolVersion.V5,
        timeout=TIMEOUT,
    )


async def _collect_until(client: aiomqtt.Client, last: bytes) -> list[tuple[str, bytes]]:
    got: list[tuple[str, bytes]] = []
    async with asyncio.timeout(TIMEOUT):
        async for msg in client.messages:
            assert isinstance(msg.payload, bytes)
            got.append((msg.topic.value, msg.payload))
            if msg.payload == last:
                return got
    raise AssertionError("unreachable")


def test_acl_lets_devices_publish_every_uplink_of_the_contract() -> None:
    acl = (DEPLOY / "acl").read_text()
    writes = set(re.findall(r"^pattern write v2x/v1/(\w+)/%u/(\w+)/up$", acl, re.M))
    assert writes == {(k, c) for k, c, d in topics.CHANNELS if d == "up"}
    conf = (DEPLOY / "mosquitto.conf").read_text()
    for line in ("set_tcp_nodelay true", "allow_anonymous false", "per_listener_settings false"):
        assert re.search(rf"^{line}$", conf, re.M), line
    assert int(re.search(r"^max_queued_messages (\d+)$", conf, re.M).group(1)) > 1000  # type: ignore[union-attr]


def test_password_hash_has_mosquittos_format() -> None:
    cred = credentials_module()
    h = cred.hash_password("secret", salt=b"\x00" * 12)
    assert re.fullmatch(r"\$7\$101\$A{16}\$[A-Za-z0-9+/]{86}==", h)
    with pytest.raises(ValueError, match="holds one of"):
        cred.check_username("a/b")


@pytest.mark.mqtt
async def test_device_cannot_publish_as_another(private_broker: PrivateBroker, devices: tuple[str, str]) -> None:
    a, b = devices
    own, other = topics.topic("rsu", a, "perception", "up"), topics.topic("rsu", b, "perception", "up")
    async with _client(private_broker, PLATFORM) as platform, _client(private_broker, a) as dev_a:
        await platform.subscribe(topics.subscription("rsu", "perception"), qos=1)
        await dev_a.publish(own, b"first", qos=1)
        await dev_a.publish(other, b"spoofed", qos=1)  # the broker drops it (ACL)
        await dev_a.publish(topics.topic("tsc", a, "command", "down"), b"spoofed-down", qos=1)
        await dev_a.publish(own, b"last", qos=1)
        got = await _collect_until(platform, b"last")
    # one connection keeps its order: had "spoofed" been delivered, it would precede "last"
    assert got == [(own, b"first"), (own, b"last")]


@pytest.mark.mqtt
async def test_device_cannot_read_anothers_downlink(private_broker: PrivateBroker, devices: tuple[str, str]) -> None:
    a, b = devices
    down_a, down_b = topics.topic("obu", a, "advisory", "down"), topics.topic("obu", b, "advisory", "down")
    async with (
        _client(private_broker, PLATFORM) as platform,
        _client(private_broker, a) as dev_a,
        _client(private_broker, b) as dev_b,
    ):
        await dev_a.subscribe("v2x/v1/obu/+/advisory/down", qos=1)  # tries to read everyone's
        await dev_b.subscribe(down_b, qos=1)
        await platform.publish(down_b, b"for-b", qos=1)
        await platform.publish(down_a, b"for-a", qos=1)
        got_a = await _collect_until(dev_a, b"for-a")
        got_b = await _collect_until(dev_b, b"for-b")
    assert got_a == [(down_a, b"for-a")]
    assert got_b == [(down_b, b"for-b")]


@pytest.mark.mqtt
@pytest.mark.parametrize("who", ["wrong-password", "anonymous", "unknown-user"])
async def test_unauthenticated_clients_are_refused(
    private_broker: PrivateBroker, devices: tuple[str, str], who: str
) -> None:
    user, password = {
        "wrong-password": (devices[0], "not-the-password"),
        "anonymous": (None, None),
        "unknown-user": ("intruder", "x"),
    }[who]
    with pytest.raises(aiomqtt.MqttError):
        async with _client(private_broker, user, password):
            pass
