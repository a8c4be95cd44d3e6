"""The live pipeline: ingest -> every tick drain -> fusion -> picture -> control -> MQTT publish
-> live state for the API -> store (off the hot path).

Runs on the process's event loop (uvloop under ``xj serve``). One tick is synchronous CPU work
(the :class:`cloud.core.PlatformCore`); the publish awaits the broker; the store only queues.
Sender-to-decision latency (sender time of the newest input of the tick to the moment its last
decision was handed to the broker) goes into a histogram, with the time of each stage.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

import numpy as np

from cloud.core import PlatformCore, TickResult
from cloud.metrics import Registry
from cloud.mqtt import Publisher, make_ingest
from cloud.persist import StoreSink
from cloud.settings import Settings
from cloud.state import LiveState
from cloud.trustwiring import PlatformTrust
from ingest import Batch, IngestService
from proto import envelope, pb, topic

LOG = logging.getLogger("xiangjiang.cloud.pipeline")
#: Sender id of everything the platform publishes.
PLATFORM_SENDER = "xj-platform"


class PipelineMetrics:
    """The pipeline's Prometheus series."""

    def __init__(self, reg: Registry) -> None:
        self.ticks = reg.counter("xj_ticks_total", "Ticks run.")
        self.tick_errors = reg.counter("xj_tick_errors_total", "Ticks that failed, by stage.", ("stage",))
        self.tick_late = reg.counter("xj_ticks_late_total", "Ticks that started more than one period late.")
        self.tick_seconds = reg.histogram("xj_tick_seconds", "Wall time of one tick (fusion+picture+control).")
        self.stage_seconds = {
            s: reg.histogram(f"xj_{s}_seconds", f"Wall time of the {s} stage per tick.")
            for s in ("fusion", "picture", "control", "spat")
        }
        self.publish_seconds = reg.histogram(
            "xj_publish_seconds", "Wall time to hand a tick's decisions to the broker."
        )
        self.latency = reg.histogram(
            "xj_sender_to_decision_seconds", "Sender time of the newest input of a tick to its decisions published."
        )
        self.published = reg.counter("xj_published_total", "Messages published, by channel.", ("channel",))
        self.publish_errors = reg.counter("xj_publish_errors_total", "Messages not published, by reason.", ("reason",))
        self.tracks = reg.gauge("xj_tracks", "Confirmed tracks in the picture.")
        self.detections = reg.counter("xj_detections_total", "Detections fused.")
        self.reports = reg.counter("xj_vehicle_reports_total", "Vehicle reports fused.")
        self.advisories = reg.counter("xj_advisories_total", "Advisories decided.")
        self.commands = reg.counter("xj_commands_total", "Signal commands decided.")


def rsu_id(junction_id: str) -> str:
    """The RSU at a junction (the simulator's and the stand-in city's naming: ``rsu-{junction}``)."""
    return f"rsu-{junction_id}"


class SpatThrottle:
    """Sends a controller's SPaT to its RSU when it changes, else at most every ``period_s``."""

    def __init__(self, period_s: float = 1.0) -> None:
        self.period_s = period_s
        self._last: dict[str, tuple[bytes, float]] = {}
        self._seen: dict[str, tuple[pb.Spat, bytes]] = {}

    def _key(self, s: pb.Spat) -> bytes:
        """What a change is judged by: the groups and the phase (the same message object: its key)."""
        seen = self._seen.get(s.junction_id)
        if seen is not None and seen[0] is s:
            return seen[1]
        key = b"".join(g.SerializeToString(deterministic=True) for g in s.groups) + bytes([s.phase_index & 0xFF])
        self._seen[s.junction_id] = (s, key)
        return key

    def due(self, s: pb.Spat, now: float) -> bool:
        """Whether ``s`` should go out now (remembers it when it does)."""
        key = self._key(s)
        last = self._last.get(s.junction_id)
        if last is not None and last[0] == key and now - last[1] < self.period_s:
            return False
        self._last[s.junction_id] = (key, now)
        return True


def decision_downlinks(
    result: TickResult, seq: int, address: Callable[[str], str | None] | None = None
) -> list[tuple[str, str, bytes]]:
    """Encode a tick's decisions as ``(channel, topic, payload)``: commands to controllers,
    advisories to vehicles.

    ``address`` maps the pseudonym control addressed to the vehicle's real id (its topic, and the
    id in the advisory it receives); an advisory it cannot address (the vehicle is gone or
    revoked) is left out.
    """
    out: list[tuple[str, str, bytes]] = []
    for c in result.commands:
        env = envelope(PLATFORM_SENDER, seq, command=c)
        out.append(("command", topic("tsc", c.junction_id, "command", "down"), env.SerializeToString()))
    for a in result.advisories:
        if address is not None:
            real = address(a.vehicle_id)
            if not real:
                continue
            a = pb.Advisory.FromString(a.SerializeToString())  # noqa: PLW2901 - the vehicle's own copy
            a.vehicle_id = real
        env = envelope(PLATFORM_SENDER, seq, advisory=a)
        out.append(("advisory", topic("obu", a.vehicle_id, "advisory", "down"), env.SerializeToString()))
    return out


def spat_downlinks(
    spats: Iterable[pb.Spat], seq: int, rsu_of: Callable[[str], str], spat_due: Callable[[pb.Spat], bool]
) -> list[tuple[str, str, bytes]]:
    """Encode the SPaT that is due to each junction's RSU as ``(channel, topic, payload)``."""
    out: list[tuple[str, str, bytes]] = []
    for s in spats:
        if spat_due(s):
            env = envelope(PLATFORM_SENDER, seq, spat=s)
            out.append(("spat", topic("rsu", rsu_of(s.junction_id), "spat", "down"), env.SerializeToString()))
    return out


def scrub_batch(batch: Batch, trust: PlatformTrust) -> Batch:
    """Drop what ingest batched for vehicles revoked since (their reports, priority requests)."""
    if not trust.identities.revoked_pseudonyms:
        return batch
    gone = trust.revoked_mask(batch.reports["vehicle_id"])
    requests = [r for r in batch.priority_requests if r.vehicle_id not in trust.identities.revoked_pseudonyms]
    if not gone.any() and len(requests) == len(batch.priority_requests):
        return batch
    return dataclasses.replace(batch, reports=batch.reports[~gone], priority_requests=requests)


def scrub_revoked(result: TickResult, trust: PlatformTrust) -> None:
    """Forget vehicles revoked while fusion still holds them: their tracks lose the pseudonym
    (kept as anonymous traffic), advisories to them are dropped. Nothing to do most ticks."""
    if not trust.identities.revoked_pseudonyms:
        return
    tr = result.picture.tracks
    if len(tr):
        gone = trust.revoked_mask(tr["vehicle_id"])
        if gone.any():
            tr = tr.copy()
            tr["vehicle_id"][gone] = ""
            result.picture.tracks = tr
    if result.advisories:
        keep = ~trust.revoked_mask(np.array([a.vehicle_id for a in result.advisories]))
        result.advisories = [a for a, k in zip(result.advisories, keep.tolist(), strict=True) if k]


class LivePipeline:
    """Ingest, tick loop and publisher as one async context manager.

    Parameters
    ----------
    settings
        Broker, tick period, region.
    core
        The in-process platform tick.
    state
        Where results go for the API.
    registry
        Prometheus registry (ingest's and the store's text are added to it).
    store
        Store sink, or None without persistence.
    ingest
        A ready ingest service (made from the settings when None).
    trust
        Pseudonyms at ingest, signed frames, and the real topic of each pseudonym for downlinks
        (None: vehicle ids pass through as they are).
    """

    def __init__(
        self,
        settings: Settings,
        core: PlatformCore,
        state: LiveState,
        registry: Registry,
        *,
        store: StoreSink | None = None,
        ingest: IngestService | None = None,
        trust: PlatformTrust | None = None,
    ) -> None:
        self.settings = settings
        self.core = core
        self.state = state
        self.store = store
        self.trust = trust
        self.metrics = PipelineMetrics(registry)
        self.ingest = ingest or make_ingest(settings, core.net, trust=trust)
        self.publisher = Publisher(settings, self.metrics.published, self.metrics.publish_errors)
        self.rsu_of: Callable[[str], str] = rsu_id
        self._spat = SpatThrottle()
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self._pub_task: asyncio.Task[None] | None = None
        registry.extra.append(self.ingest.prometheus)
        registry.gauge(
            "xj_ingest_pending", "Messages waiting for the next tick.", fn=lambda: self.ingest.pipeline.batcher.pending
        )

    async def __aenter__(self) -> Self:
        await self.ingest.__aenter__()
        self._pub_task = asyncio.create_task(self.publisher.run(), name="xj-publisher")
        self._task = asyncio.create_task(self._run(), name="xj-ticks")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.publisher.close()
        await self.ingest.__aexit__(exc_type, exc, tb)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.settings.tick_s
        due = loop.time()
        while True:
            due += period
            delay = due - loop.time()
            if delay < -period:
                self.metrics.tick_late.inc()
                due = loop.time()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))
            self.state.readiness.broker = self.ingest.connected.is_set() and self.publisher.connected
            await self.tick_once()

    async def tick_once(self) -> TickResult | None:
        """Drain ingest and run one tick now; errors are counted by stage and logged, never raised."""
        m = self.metrics
        try:
            batch = self.ingest.drain()
        except Exception:
            m.tick_errors.inc(1, "ingest")
            LOG.exception("tick: ingest drain failed")
            return None
        if self.trust is not None:
            batch = scrub_batch(batch, self.trust)
        c0 = time.perf_counter()
        try:
            result = self.core.tick(
                batch.t,
                batch.detections,
                batch.reports,
                batch.spat,
                batch.parking,
                batch.priority_requests,
            )
        except Exception:
            m.tick_errors.inc(1, "core")
            LOG.exception("tick: fusion/picture/control failed")
            return None
        m.tick_seconds.observe(time.perf_counter() - c0)
        for stage, s in result.stage_s.items():
            m.stage_seconds[stage].observe(s)
        if self.trust is not None:
            scrub_revoked(result, self.trust)
        self._seq += 1
        await self._publish(result)
        # the SPaT after the decisions: vehicles and controllers do not wait for it
        s0 = time.perf_counter()
        try:
            result.rsu_spat = self.core.rsu_spat(batch.t, batch.spat)
        except Exception:
            m.tick_errors.inc(1, "spat")
            LOG.exception("tick: SPaT prediction failed")
        m.stage_seconds["spat"].observe(time.perf_counter() - s0)
        await self._publish_spat(result)
        self._account(batch, result)
        return result

    async def _publish(self, result: TickResult) -> None:
        """Publish the tick's commands and advisories."""
        m = self.metrics
        try:
            address = self.trust.identities.real_id if self.trust is not None else None
            msgs = decision_downlinks(result, self._seq, address)
        except Exception:
            m.tick_errors.inc(1, "encode")
            LOG.exception("tick: encoding decisions failed")
            return
        unaddressed = len(result.advisories) - sum(1 for c, _, _ in msgs if c == "advisory")
        if unaddressed:
            m.publish_errors.inc(unaddressed, "unknown_vehicle")
        basis_ns = _basis_ns(result)
        p0 = time.perf_counter()
        sent = await self.publisher.publish(msgs, basis_ns)
        m.publish_seconds.observe(time.perf_counter() - p0)
        if sent and basis_ns and (result.commands or result.advisories):
            m.latency.observe(time.time() - result.basis_t)

    async def _publish_spat(self, result: TickResult) -> None:
        """Publish the tick's SPaT for the RSUs (those due: :class:`SpatThrottle`)."""
        now = result.picture.t
        try:
            msgs = spat_downlinks(result.rsu_spat, self._seq, self.rsu_of, lambda s: self._spat.due(s, now))
        except Exception:
            self.metrics.tick_errors.inc(1, "encode")
            LOG.exception("tick: encoding SPaT failed")
            return
        await self.publisher.publish(msgs, _basis_ns(result))

    def _account(self, batch: Batch, result: TickResult) -> None:
        m = self.metrics
        m.ticks.inc()
        m.tracks.set(len(result.picture.tracks))
        m.detections.inc(len(batch.detections))
        m.reports.inc(len(batch.reports))
        m.advisories.inc(len(result.advisories))
        m.commands.inc(len(result.commands))
        try:
            self.state.update(result)
        except Exception:
            m.tick_errors.inc(1, "state")
            LOG.exception("tick: live state update failed")
        if self.store is not None:
            try:
                self.store.offer(batch, result)
            except Exception:
                m.tick_errors.inc(1, "store")
                LOG.exception("tick: store offer failed")


def _basis_ns(result: TickResult) -> int:
    """Sender time of the newest input behind a tick's messages, ns (0 when unknown)."""
    return int(result.basis_t * 1e9) if math.isfinite(result.basis_t) else 0
