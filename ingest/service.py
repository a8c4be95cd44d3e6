"""The async ingest service: MQTT 5 (aiomqtt 2) in, :class:`IngestPipeline` inside, batches out per tick."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from types import TracebackType
from typing import Self

import aiomqtt
from paho.mqtt.client import MQTT_CLEAN_START_FIRST_ONLY
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest import fastread
from ingest.backoff import Backoff
from ingest.batch import Batch
from ingest.deadletter import DEADLETTER_TOPIC, DeadLetter
from ingest.decode import uplink_subscriptions
from ingest.limits import Limits
from ingest.pipeline import LOG, IngestPipeline
from roadnet.frames import Frame

#: Disable Nagle on the client socket: small messages otherwise wait for the peer's delayed ACK.
TCP_NODELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _sink_queue(handler: Callable[[aiomqtt.Message], None]) -> type[asyncio.Queue[aiomqtt.Message]]:
    """An aiomqtt queue type that hands each message to ``handler`` instead of storing it.

    aiomqtt puts every message in its queue from the socket's read callback; taking it there
    saves the task and wake-up its message iterator costs per message. The iterator then only
    waits, and raises when the connection drops.
    """

    class _Sink(asyncio.Queue[aiomqtt.Message]):
        def put_nowait(self, item: aiomqtt.Message) -> None:
            handler(item)

    return _Sink


def _raise_if_cancelling() -> None:
    """Honour a cancellation that was swallowed on the way.

    On Python 3.11, ``asyncio.wait_for`` (inside aiomqtt's QoS 1 publish and disconnect) loses a
    cancellation when the awaited future completes at the same moment; a loop that goes on
    would then wait forever (e.g. for ``connected``) and its task group would never exit.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class IngestService:
    """MQTT ingest: subscribe to the uplinks, feed the pipeline, republish dead letters, reconnect.

    An async context manager that owns an :class:`asyncio.TaskGroup` with two named tasks,
    ``ingest-mqtt`` (connect, subscribe, receive; on loss reconnect with exponential back-off
    and jitter and subscribe again) and ``ingest-deadletters`` (republish rejected payloads).
    Batches are taken with :meth:`drain` or :meth:`batches`.

    Parameters
    ----------
    frame
        The map's local frame; or pass a ready ``pipeline``.
    pipeline
        The synchronous pipeline to feed (built from ``frame`` and ``limits`` when ``None``).
    hostname, port
        The broker.
    identifier
        MQTT client id (the broker makes one up when ``None``).
    username, password
        Credentials (the platform user of ``deploy/mosquitto``).
    subscriptions
        Topic filters; default every uplink of the tree (:func:`ingest.uplink_subscriptions`).
    share
        MQTT 5 shared-subscription group for the default subscriptions (``$share/{share}/...``):
        workers of one group split the messages between them.
    qos
        Subscription QoS.
    deadletter_topic
        Where rejected payloads are republished, ``{reason}`` filled in, with user properties
        ``reason``, ``detail``, ``topic``, ``sender``, ``recv_ns``; ``None`` keeps them only
        in the pipeline's in-memory ring.
    deadletter_queue
        Dead letters waiting to be republished; beyond this they are only counted
        (``dead_letters_unpublished``) and kept in the ring.
    limits
        Bounds of the pipeline built from ``frame``.
    backoff
        Reconnect delays.
    session_expiry_s
        MQTT 5 session expiry: with a fixed ``identifier`` and QoS 1, the broker keeps
        messages for this long while ingest is away. 0: a clean session at every connect.
    protocol
        MQTT 5 (default) or 3.1.1 for brokers without 5; over 3.1.1 there are no shared
        subscriptions, no session expiry, and dead letters carry no user properties (the
        reason is still the last topic level).
    keepalive
        MQTT keepalive, s.
    logger
        Where connection events and rejections go.
    clock
        Platform time in ns (receive times, drains).
    """

    def __init__(
        self,
        *,
        frame: Frame | None = None,
        pipeline: IngestPipeline | None = None,
        hostname: str = "127.0.0.1",
        port: int = 1883,
        identifier: str | None = None,
        username: str | None = None,
        password: str | None = None,
        subscriptions: Sequence[str] | None = None,
        share: str | None = None,
        qos: int = 0,
        deadletter_topic: str | None = DEADLETTER_TOPIC,
        deadletter_queue: int = 1000,
        limits: Limits | None = None,
        backoff: Backoff | None = None,
        session_expiry_s: int = 0,
        protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5,
        keepalive: int = 30,
        logger: logging.Logger | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if pipeline is None:
            if frame is None:
                raise ValueError("IngestService needs frame= or pipeline=")
            pipeline = IngestPipeline(frame=frame, limits=limits, logger=logger)
        self.pipeline = pipeline
        self.hostname, self.port = hostname, port
        self.identifier = identifier
        self.username, self._password = username, password
        self.subscriptions = list(subscriptions) if subscriptions is not None else uplink_subscriptions(share)
        self.qos = qos
        self.deadletter_topic = deadletter_topic
        self.backoff = backoff or Backoff()
        self.session_expiry_s = session_expiry_s
        self.protocol = protocol
        self.keepalive = keepalive
        self.logger = logger or LOG
        self.clock = clock
        #: Set while connected and subscribed.
        self.connected = asyncio.Event()
        #: Successful connections so far (1 + reconnects).
        self.connects = 0
        self._client: aiomqtt.Client | None = None
        self._dlq: asyncio.Queue[DeadLetter] = asyncio.Queue(maxsize=deadletter_queue)
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # never feed our own dead letters back in (a "#" subscription would loop forever)
        self._own_prefix = (deadletter_topic or DEADLETTER_TOPIC).split("{", 1)[0]
        if deadletter_topic is not None:
            pipeline.on_dead_letter = self._enqueue_dead_letter

    # -- lifecycle -----------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        self._tasks = [
            self._tg.create_task(self._run(), name="ingest-mqtt"),
            self._tg.create_task(self._republish(), name="ingest-deadletters"),
        ]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for t in self._tasks:
            t.cancel()
        tg, self._tg = self._tg, None
        if tg is not None:
            await tg.__aexit__(exc_type, exc, tb)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until connected and subscribed (raises :class:`TimeoutError` after ``timeout`` s)."""
        async with asyncio.timeout(timeout):
            await self.connected.wait()

    # -- batches -------------------------------------------------------------------------
    def drain(self, now_ns: int | None = None) -> Batch:
        """One batch of everything received since the last drain (see :meth:`IngestPipeline.drain`)."""
        return self.pipeline.drain(self.clock() if now_ns is None else now_ns)

    async def batches(self, period_s: float = 0.1) -> AsyncGenerator[Batch, None]:
        """A batch every ``period_s`` seconds, on a fixed schedule (a late tick does not shift the next)."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += period_s
            await asyncio.sleep(max(0.0, due - loop.time()))
            yield self.drain()

    def prometheus(self) -> str:
        """Metrics in Prometheus text format, with the service's own gauges."""
        g = self.pipeline.metrics.gauges
        g["connected"] = float(self.connected.is_set())
        g["deadletter_queue"] = self._dlq.qsize()
        self.pipeline.metrics.counters["connects"] = self.connects
        return self.pipeline.prometheus()

    # -- MQTT ----------------------------------------------------------------------------
    def _client_for_attempt(self) -> aiomqtt.Client:
        v5 = self.protocol is aiomqtt.ProtocolVersion.V5
        props = None
        if v5 and self.session_expiry_s:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self.session_expiry_s
        return aiomqtt.Client(
            self.hostname,
            self.port,
            username=self.username,
            password=self._password,
            identifier=self.identifier,
            logger=self.logger,
            protocol=self.protocol,
            keepalive=self.keepalive,
            clean_session=None if v5 else True,
            # paho takes clean_start only over MQTT 5 (FIRST_ONLY is its "not given")
            clean_start=MQTT_CLEAN_START_FIRST_ONLY if props is not None or not v5 else True,
            properties=props,
            queue_type=_sink_queue(self._on_message),
            socket_options=[TCP_NODELAY],
        )

    async def _run(self) -> None:
        attempt = 0
        while True:
            _raise_if_cancelling()
            try:
                client = self._client_for_attempt()
                fastread.install(client._client, self._on_publish)
                async with client:
                    await self._subscribe(client)
                    self._client = client
                    self.connects += 1
                    attempt = 0
                    self.connected.set()
                    self.logger.info("ingest: connected to %s:%d", self.hostname, self.port)
                    async for _ in client.messages:  # the sink takes every message; this waits for a drop
                        pass
            except aiomqtt.MqttError as exc:
                self.logger.warning("ingest: broker %s:%d unavailable: %s", self.hostname, self.port, exc)
            except Exception:  # a bug or a bad setting: log it loudly, keep trying with back-off
                self.logger.exception("ingest: connection to %s:%d failed", self.hostname, self.port)
            finally:
                self._client = None
                self.connected.clear()
            delay = self.backoff.delay(attempt)
            attempt += 1
            self.logger.info("ingest: reconnect attempt %d in %.2f s", attempt, delay)
            await asyncio.sleep(delay)

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        for sub in self.subscriptions:
            codes = await client.subscribe(sub, qos=self.qos)
            failed = [str(c) for c in codes if getattr(c, "is_failure", False)]
            if failed:
                self.logger.error("ingest: broker refused subscription %s: %s", sub, ", ".join(failed))

    def _on_message(self, msg: aiomqtt.Message) -> None:
        """A message paho parsed (QoS 1/2; QoS 0 ones come through :meth:`_on_publish` directly)."""
        payload = msg.payload if isinstance(msg.payload, bytes) else str(msg.payload).encode()
        self._on_publish(msg.topic.value, payload)

    def _on_publish(self, topic: str, payload: bytes) -> None:
        try:
            if topic.startswith(self._own_prefix):
                return
            self.pipeline.feed(topic, payload, self.clock())
        except Exception:  # never let one message take the connection down
            self.logger.exception("ingest: message handler failed")

    # -- dead letters --------------------------------------------------------------------
    def _enqueue_dead_letter(self, dl: DeadLetter) -> None:
        try:
            self._dlq.put_nowait(dl)
        except asyncio.QueueFull:
            self.pipeline.metrics.count("dead_letters_unpublished")

    async def _republish(self) -> None:
        while True:
            _raise_if_cancelling()
            dl = await self._dlq.get()
            await self.connected.wait()
            client = self._client
            props = None
            if self.protocol is aiomqtt.ProtocolVersion.V5:
                props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                props.UserProperty = [
                    ("reason", dl.reason.value),
                    ("detail", dl.detail[:256]),
                    ("topic", dl.topic[:256]),
                    ("sender", dl.sender),
                    ("recv_ns", str(dl.recv_ns)),
                ]
            topic = (self.deadletter_topic or DEADLETTER_TOPIC).format(reason=dl.reason.value)
            try:
                if client is None:
                    raise aiomqtt.MqttError("not connected")
                await client.publish(topic, dl.payload, qos=1, properties=props)
            except aiomqtt.MqttError:
                self.pipeline.metrics.count("dead_letters_unpublished")
