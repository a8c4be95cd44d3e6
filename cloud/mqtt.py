"""MQTT clients of the platform: the ingest service on the settings' broker, and the downlink
publisher (commands, advisories, RSU broadcasts) with its per-message counters."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import socket
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties, VariableByteIntegers

from cloud.metrics import Counter
from cloud.settings import Settings
from cloud.trustwiring import PlatformTrust
from ingest import IngestPipeline, IngestService
from ingest.service import TCP_NODELAY, _sink_queue
from roadnet.model import RoadNetwork

LOG = logging.getLogger("xiangjiang.cloud.mqtt")


def protocol_of(settings: Settings) -> aiomqtt.ProtocolVersion:
    """The MQTT protocol version the settings ask for."""
    return aiomqtt.ProtocolVersion.V5 if settings.mqtt_protocol == "5" else aiomqtt.ProtocolVersion.V311


class _V311IngestService(IngestService):
    """Ingest over MQTT 3.1.1, for brokers without MQTT 5 (the embedded demo broker).

    Until ``ingest`` takes a protocol option this overrides its client factory: same queue sink,
    same socket options, no MQTT 5 session properties.
    """

    def _client_for_attempt(self) -> aiomqtt.Client:
        return aiomqtt.Client(
            self.hostname,
            self.port,
            username=self.username,
            password=self._password,
            identifier=self.identifier,
            logger=self.logger,
            protocol=aiomqtt.ProtocolVersion.V311,
            keepalive=self.keepalive,
            clean_session=True,
            queue_type=_sink_queue(self._on_message),
            socket_options=[TCP_NODELAY],
        )


def make_ingest(
    settings: Settings, net: RoadNetwork, *, trust: PlatformTrust | None = None, **kw: Any
) -> IngestService:
    """The ingest service for the settings' broker and the map's frame; with ``trust``, frames are
    checked against registered device keys and vehicle ids become pseudonyms before batching."""
    url = settings.mqtt_url
    cls = IngestService if settings.mqtt_protocol == "5" else _V311IngestService
    pipeline = IngestPipeline(
        frame=net.frame,
        limits=kw.pop("limits", None),
        logger=kw.get("logger"),
        signatures=trust.frames if trust is not None else None,
        identities=trust.identities if trust is not None else None,
    )
    return cls(
        pipeline=pipeline,
        hostname=url.host,
        port=url.port,
        username=url.username,
        password=url.password,
        identifier=f"xj-ingest-{settings.region_id}-{socket.gethostname()}"[:64],
        **kw,
    )


class Publisher:
    """Publishes downlinks on one aiomqtt client; a background task (:meth:`run`) keeps it
    connected with back-off, so a broker outage never stalls a tick: messages published while
    disconnected are dropped and counted (``not_connected``).

    Parameters
    ----------
    settings
        Broker URL and protocol.
    sent, errors
        Counters labelled by channel (``command``, ``advisory``, ``spat``, ...) and by reason.
    """

    def __init__(self, settings: Settings, sent: Counter, errors: Counter) -> None:
        self.settings = settings
        self.sent, self.errors = sent, errors
        self._client: aiomqtt.Client | None = None
        self._lost = asyncio.Event()
        self.v5 = settings.mqtt_protocol == "5"

    @property
    def connected(self) -> bool:
        """Whether downlinks can go out now."""
        return self._client is not None

    def _new_client(self) -> aiomqtt.Client:
        url = self.settings.mqtt_url
        client = aiomqtt.Client(
            url.host,
            url.port,
            username=url.username,
            password=url.password,
            identifier=None,
            protocol=protocol_of(self.settings),
            socket_options=[TCP_NODELAY],
            timeout=5.0,
        )
        return client

    async def run(self) -> None:
        """Connect, and reconnect with back-off (0.2 s doubling to 5 s, with jitter) when lost."""
        delay = 0.2
        while True:
            client = self._new_client()
            try:
                await client.__aenter__()
            except aiomqtt.MqttError as exc:
                self.errors.inc(1, "connect")
                LOG.warning("publisher: broker unavailable (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay * (1.0 + 0.2 * random.random()))
                delay = min(delay * 2.0, 5.0)
                continue
            delay = 0.2
            self._lost.clear()
            self._client = client
            try:
                await self._lost.wait()
            finally:
                await self.close()

    async def close(self) -> None:
        """Disconnect."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)

    def properties(self, basis_ns: int) -> bytes:
        """The PUBLISH properties of a tick's downlinks, encoded (MQTT 5 only, else empty): the
        user property ``xj-basis-ns``, sender time of the newest input behind the decisions."""
        if not self.v5:
            return b""
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if basis_ns > 0:
            props.UserProperty = [("xj-basis-ns", str(basis_ns))]
        packed: bytes = props.pack()  # type: ignore[no-untyped-call]
        return packed

    async def publish(self, messages: list[tuple[str, str, bytes]], basis_ns: int = 0) -> int:
        """Publish ``(channel, topic, payload)`` triples at QoS 0; returns how many went out.

        A tick's messages are encoded here as MQTT PUBLISH packets (the properties once for all)
        and written as one buffer (:func:`write_now`): one socket write per tick instead of a
        task, a paho message, its properties and a write per message.
        """
        client = self._client
        if not messages or client is None:
            if messages:
                self.errors.inc(len(messages), "not_connected")
            return 0
        props = self.properties(basis_ns)
        buf = b"".join(publish_packet(t, payload, props) for _, t, payload in messages)
        rc = write_now(client._client, buf)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            self.errors.inc(len(messages), "publish")
            LOG.warning("publisher: %s; reconnecting", mqtt.error_string(rc))
            self._client = None
            self._lost.set()
            return 0
        for channel, n in collections.Counter(c for c, _, _ in messages).items():
            self.sent.inc(n, channel)
        return len(messages)


def write_now(client: mqtt.Client, buf: bytes) -> MQTTErrorCode:
    """Write ``buf`` (whole MQTT packets) on ``client``'s connection, in order with its own packets.

    When paho has nothing queued the bytes go to the socket at once; what the socket does not
    take (or everything, behind paho's queued packets) joins paho's outgoing queue as one raw
    packet that its writer sends when the socket is writable. Never asks for the writer and
    drops it in the same turn of the loop: aiomqtt adds the writer later (``call_soon``), so a
    writer dropped before it was added would stay, writable, forever.
    """
    if client._sock is None:
        return mqtt.MQTT_ERR_NO_CONN
    if not client._out_packet:
        try:
            n = client._sock_send(buf)
        except BlockingIOError:
            n = 0
        except OSError:
            return mqtt.MQTT_ERR_CONN_LOST
        client._last_msg_out = mqtt.time_func()
        if n >= len(buf):
            return mqtt.MQTT_ERR_SUCCESS
        buf = buf[n:]
    # command 0: paho's writer only sends the bytes (no on_publish, no message info)
    client._out_packet.append(
        {"command": 0, "mid": 0, "qos": 0, "pos": 0, "to_process": len(buf), "packet": buf, "info": None}
    )
    client._call_socket_register_write()
    return mqtt.MQTT_ERR_SUCCESS


def publish_packet(topic: str, payload: bytes, props: bytes = b"") -> bytes:
    """One MQTT PUBLISH packet at QoS 0 (no retain); ``props`` is the encoded property block
    (MQTT 5, length included) or empty (3.1.1)."""
    t = topic.encode()
    n = 2 + len(t) + len(props) + len(payload)
    length: bytes = VariableByteIntegers.encode(n)  # type: ignore[no-untyped-call]
    return b"\x30" + length + len(t).to_bytes(2, "big") + t + props + payload
