"""The bulk reader: QoS 0 PUBLISH packets parsed in bulk, everything else through paho, in order."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud.mqtt import publish_packet
from ingest import IngestService, fastread
from roadnet.frames import Frame

FRAME = Frame("+proj=utm +zone=49 +datum=WGS84 +units=m +no_defs", (-400_000.0, -3_100_000.0))


def _reader(v5: bool) -> tuple[paho.Client, socket.socket, list[tuple[str, bytes]]]:
    proto = MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311
    c = paho.Client(CallbackAPIVersion.VERSION2, protocol=proto)
    a, b = socket.socketpair()
    a.setblocking(False)
    c._sock = a
    got: list[tuple[str, bytes]] = []
    fastread.install(c, lambda t, p: got.append((t, p)))
    return c, b, got


def test_packets_split_anywhere_arrive_whole_and_in_order() -> None:
    for v5 in (True, False):
        props = b"\x06\x26\x00\x01k\x00\x00" if v5 else b""
        msgs = [(f"v2x/v1/rsu/r{i}/perception/up", bytes([i]) * (i * 37)) for i in range(40)]
        stream = b"".join(publish_packet(t, p, props) for t, p in msgs)
        stream += b"\xd0\x00"  # a PINGRESP: paho's to handle
        c, peer, got = _reader(v5)
        c._ping_t = 123.0  # a ping in flight; PINGRESP clears it
        for k in range(0, len(stream), 7):  # seven bytes at a time: lengths and bodies split
            peer.sendall(stream[k : k + 7])
            assert c.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
        assert got == msgs
        assert c._ping_t == 0
        peer.close()
        c.loop_read()
        assert c._sock is None  # the end of the stream reached paho: connection lost


def test_large_payloads_span_several_reads() -> None:
    c, peer, got = _reader(True)
    big = bytes(range(256)) * 2000  # 512 kB: more than one recv and one wake-up
    stream = publish_packet("a/b", big, b"\x00") * 3
    peer.setblocking(False)
    sent = 0
    while len(got) < 3:
        if sent < len(stream):
            with contextlib.suppress(BlockingIOError):
                sent += peer.send(stream[sent : sent + 200_000])
        c.loop_read()
    assert got == [("a/b", big)] * 3


async def test_qos0_and_qos1_with_properties_through_the_broker(mqtt_broker: tuple[str, int], uid: str) -> None:
    host, port = mqtt_broker
    got: list[tuple[str, bytes]] = []
    svc = IngestService(frame=FRAME, hostname=host, port=port, subscriptions=[f"xjtest/{uid}/#"], qos=1)
    svc.pipeline.feed = lambda t, p, now: got.append((t, p)) or None  # type: ignore[method-assign,func-returns-value]
    sent: list[tuple[str, bytes]] = []
    async with svc:
        await svc.wait_connected(10)
        pub = paho.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        pub.connect(host, port)
        pub.loop_start()
        try:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.UserProperty = [("xj-basis-ns", "1")]
            for i in range(300):
                t, p = f"xjtest/{uid}/{i % 7}", bytes([i % 256]) * (i * 50) + i.to_bytes(2, "big")
                sent.append((t, p))
                pub.publish(t, p, qos=i % 2, properties=props if i % 3 == 0 else None).wait_for_publish(5)
            for _ in range(200):
                if len(got) >= len(sent):
                    break
                await asyncio.sleep(0.05)
        finally:
            pub.loop_stop()
            pub.disconnect()
    # each topic keeps its order per QoS (Mosquitto may pass a QoS 0 message ahead of a QoS 1 one)
    for k in range(14):
        same = [m for i, m in enumerate(sent) if i % 14 == k]
        assert [m for m in got if m in same] == same
    assert sorted(got) == sorted(sent)
