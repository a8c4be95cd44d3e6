"""MQTT clients of the platform: the ingest service on the settings' broker, and the downlink
publisher (commands, advisories, RSU broadcasts) with its per-message counters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

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
            max_queued_outgoing_messages=100_000,
            timeout=5.0,
        )
        # a tick hands over hundreds of QoS 0 messages at once: not a backlog worth a warning
        client.pending_calls_threshold = 100_000
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

    def properties(self, basis_ns: int) -> Properties | None:
        """MQTT 5 user property ``xj-basis-ns``: sender time of the newest input behind a decision."""
        if not self.v5 or basis_ns <= 0:
            return None
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.UserProperty = [("xj-basis-ns", str(basis_ns))]
        return props

    async def publish(self, messages: list[tuple[str, str, bytes]], basis_ns: int = 0) -> int:
        """Publish ``(channel, topic, payload)`` triples at QoS 0; returns how many went out.

        All of a tick's messages are handed to the client in one go (``gather``): awaiting them
        one by one would let every incoming message queued meanwhile be processed between two
        downlinks of the same tick.
        """
        client = self._client
        if not messages or client is None:
            if messages:
                self.errors.inc(len(messages), "not_connected")
            return 0
        props = self.properties(basis_ns)
        results = await asyncio.gather(
            *(client.publish(topic, payload, qos=0, properties=props) for _, topic, payload in messages),
            return_exceptions=True,
        )
        n = 0
        failed: BaseException | None = None
        for (channel, _, _), r in zip(messages, results, strict=True):
            if isinstance(r, BaseException):
                failed = r
                self.errors.inc(1, "publish")
            else:
                self.sent.inc(1, channel)
                n += 1
        if isinstance(failed, aiomqtt.MqttError):
            LOG.warning("publisher: %s; reconnecting", failed)
            self._client = None
            self._lost.set()
        elif failed is not None:
            raise failed
        return n
