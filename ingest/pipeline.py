"""The synchronous ingest pipeline: route, rate-limit, decode, validate, sequence, batch; no I/O."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal

import numpy as np
from google.protobuf.message import Message

from ingest import bodies
from ingest.batch import Batch, Batcher
from ingest.deadletter import DeadLetter, DeadLetterRing
from ingest.decode import Decoder
from ingest.hooks import FrameCheck, VehicleIds
from ingest.items import Decoded, Kind, Rejection, Route
from ingest.limits import Limits
from ingest.logthrottle import RejectionLog
from ingest.metrics import Metrics, render_prometheus
from ingest.ratelimit import RateLimiter
from ingest.reasons import Reason
from ingest.sensors import SensorRegistry
from ingest.sequence import SequenceTracker
from ingest.stdframe import StdDecoder, load_std_decoder
from proto import pb
from roadnet.frames import Frame

LOG = logging.getLogger("xiangjiang.ingest")

#: Reasons whose messages are counted and logged but not kept as dead letters: a flooding
#: sender must not flush the ring or double the broker's load; a revoked vehicle's message
#: names the vehicle and must not be kept anywhere.
NOT_KEPT: Final = frozenset({Reason.RATE_LIMITED, Reason.REVOKED})

#: Signature check codes (:class:`ingest.hooks.FrameCheck`) -> reasons; others are decode errors.
_SIGNATURE_REASONS: Final = {
    r.value: r
    for r in (
        Reason.UNSIGNED,
        Reason.BAD_SIGNATURE,
        Reason.UNKNOWN_KEY,
        Reason.KEY_NOT_VALID,
        Reason.REPLAY_OLD,
        Reason.REPLAY_DUPLICATE,
    )
}
#: Where a revoked vehicle's rejection is said to come from (its topic names the vehicle).
_REDACTED: Final = "(revoked vehicle)"

#: Bytes kept of a ``too_large`` payload.
TOO_LARGE_KEPT: Final = 1024

_STD_CHECKS: Final[dict[type[Message], Callable[..., bodies.Outcome]]] = {
    pb.PerceptionFrame: bodies.perception,
    pb.Bsm: lambda *a: bodies.bsm(*a, pinned=False),
    pb.Spat: lambda *a: bodies.spat(*a, pinned=False),
}
_KIND_NAMES: Final = {k: k.name.lower() for k in Kind}
#: Kinds whose body names a vehicle (``vehicle_id``): pseudonymised before batching.
_NAMED: Final = frozenset({Kind.BSM, Kind.BSM_BATCH, Kind.PRIORITY_REQUEST})
#: Standard messages ingest passes over without error (MAP, RSI: not part of the live picture).
_STD_IGNORED: Final = (pb.MapData, pb.RoadsideInfo)


class IngestPipeline:
    """Everything ingest does to a message, synchronously: :meth:`feed` one, :meth:`drain` a tick.

    ``feed`` never raises: each message is either accepted (maybe held for reordering) or
    rejected, counted by reason in :attr:`metrics`, logged (throttled) and kept in
    :attr:`dead_letters`; ``on_dead_letter`` (set by the service) sees each one kept.

    Parameters
    ----------
    frame
        The map's local frame (positions and headings of the batches).
    limits
        Bounds (skew, reorder, rate, ranges).
    std_decoder
        Decoder for standard-message frames; ``"auto"`` uses the ``codec`` package when it is
        importable (see :mod:`ingest.stdframe`).
    sensors
        Sensor-index registry to share (a new one when ``None``).
    dead_letter_ring
        Dead letters kept in memory.
    state_ttl_s
        SPaT / parking / lamp entries older than this are dropped from the batches.
    signatures
        Checks each envelope's signature and freshness before decoding (signing devices);
        rejections are counted by reason (``unsigned``, ``bad_signature``, ``unknown_key``,
        ``key_not_valid``, ``replay_old``, ``replay_duplicate``). None: no check.
    identities
        Replaces the vehicle ids of BSMs, BSM batches and priority requests by pseudonyms before
        batching; a revoked vehicle's message is rejected as ``revoked`` (a batch loses only its
        rows, counted as ``revoked_rows``) and never kept. None: ids pass as they are.
    logger
        Where rejections (throttled) and internal errors go.
    """

    def __init__(
        self,
        *,
        frame: Frame,
        limits: Limits | None = None,
        std_decoder: StdDecoder | Literal["auto"] | None = "auto",
        sensors: SensorRegistry | None = None,
        dead_letter_ring: int = 1000,
        state_ttl_s: float = 60.0,
        signatures: FrameCheck | None = None,
        identities: VehicleIds | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.signatures = signatures
        self.identities = identities
        self.limits = limits or Limits()
        self.decoder = Decoder(limits=self.limits)
        self.rate = RateLimiter(rate_per_s=self.limits.rate_per_s, burst=self.limits.burst)
        self.batcher = Batcher(frame, sensors=sensors, state_ttl_s=state_ttl_s)
        self.std_decoder = load_std_decoder() if std_decoder == "auto" else std_decoder
        #: Sequence trackers by topic, i.e. per sender and channel: a device that numbers each
        #: channel on its own loses nothing (one counter shared by its channels only shows as gaps).
        self.trackers: dict[str, SequenceTracker[Decoded]] = {}
        self.metrics = Metrics()
        self.dead_letters = DeadLetterRing(dead_letter_ring)
        self.on_dead_letter: Callable[[DeadLetter], None] | None = None
        self.logger = logger or LOG
        self._log = RejectionLog(self.logger)
        self._holding: set[str] = set()
        self._hold_ns = int(self.limits.reorder_hold_s * 1e9)

    # -- per message ---------------------------------------------------------------------
    def feed(self, topic: str, payload: bytes, recv_ns: int) -> Rejection | None:
        """Take one MQTT message.

        Parameters
        ----------
        topic
            Topic name it arrived on.
        payload
            Raw payload.
        recv_ns
            Platform receive time, ns since the epoch.

        Returns
        -------
        Rejection or None
            The rejection (already counted, logged and kept), or ``None`` when accepted.
        """
        self.metrics.received += 1
        try:
            route = self.decoder.route(topic)
            if isinstance(route, str):
                return self._reject(Rejection(Reason.BAD_TOPIC, route, topic), payload, recv_ns)
            if not self.rate.allow(route.sender, recv_ns):
                rej = Rejection(Reason.RATE_LIMITED, f"above {self.limits.rate_per_s:g} msg/s", topic, route.sender)
                return self._reject(rej, payload, recv_ns)
            if route.std:
                return self._feed_std(route, payload, recv_ns)
            env = None
            if self.signatures is not None and len(payload) <= self.limits.max_payload_bytes:
                code, env = self.signatures.check(route.kind, route.device_id, payload, recv_ns)
                if code:
                    why = _SIGNATURE_REASONS.get(code, Reason.DECODE_ERROR)
                    return self._reject(
                        Rejection(why, f"signature check: {code}", topic, route.sender), payload, recv_ns
                    )
            d = self.decoder.decode_routed(route, payload, recv_ns, env)
            if isinstance(d, Rejection):
                return self._reject(d, payload, recv_ns)
            if self.identities is not None and d.kind in _NAMED and not self._pseudonymise(d):
                rej = Rejection(Reason.REVOKED, "the owner revoked consent", _REDACTED, _REDACTED)
                return self._reject(rej, b"", recv_ns)
            tracker = self.trackers.get(topic)
            if tracker is None:
                tracker = self.trackers[topic] = SequenceTracker(
                    window=self.limits.reorder_window,
                    hold_ns=self._hold_ns,
                    history=self.limits.duplicate_history,
                )
            out = tracker.offer(d.seq, recv_ns, d)
            if isinstance(out, Reason):
                rej = Rejection(out, f"seq {d.seq}, next expected {tracker.expected}", topic, d.sender)
                return self._reject(rej, payload, recv_ns)
            if tracker.held:
                self._holding.add(topic)
            add = self.batcher.add
            for item in out:
                add(item)
            self.metrics.accept(_KIND_NAMES[d.kind], (recv_ns - d.sent_ns) / 1e6)
            return None
        except Exception as exc:  # a bug in ingest: keep the message and the service alive
            self.logger.exception("ingest: internal error on %s", topic)
            return self._reject(Rejection(Reason.INTERNAL_ERROR, repr(exc), topic), payload, recv_ns)

    def _feed_std(self, route: Route, payload: bytes, recv_ns: int) -> Rejection | None:
        if self.std_decoder is None:
            rej = Rejection(Reason.STD_UNAVAILABLE, "no standard codec installed", route.topic, route.sender)
            return self._reject(rej, payload, recv_ns)
        if len(payload) > self.limits.max_payload_bytes:
            rej = Rejection(Reason.TOO_LARGE, f"{len(payload)} bytes", route.topic, route.sender)
            return self._reject(rej, payload, recv_ns)
        try:
            msgs = self.std_decoder(payload)
        except ValueError as exc:  # codec.CodecError; its .reason says what kind of problem
            detail = f"{getattr(exc, 'reason', type(exc).__name__)}: {exc}"
            return self._reject(Rejection(Reason.STD_DECODE_ERROR, detail, route.topic, route.sender), payload, recv_ns)
        items: list[Decoded] = []
        for msg in msgs:
            check = _STD_CHECKS.get(type(msg))
            if check is None:
                if isinstance(msg, _STD_IGNORED):
                    self.metrics.count("std_ignored")
                    continue
                rej = Rejection(
                    Reason.UNKNOWN_BODY, f"standard message decoded to {type(msg).__name__}", route.topic, route.sender
                )
                return self._reject(rej, payload, recv_ns)
            r = check(route, msg, -1, recv_ns, recv_ns, 0, self.limits)
            if not isinstance(r, Decoded):
                return self._reject(Rejection(r[0], r[1], route.topic, route.sender), payload, recv_ns)
            if self.identities is not None and r.kind in _NAMED and not self._pseudonymise(r):
                self.metrics.count("revoked_rows")  # one relayed message of a revoked vehicle: dropped
                continue
            items.append(r)
        for item in items:
            self.batcher.add(item)
        self.metrics.accept("std_frame", None)
        return None

    def _pseudonymise(self, d: Decoded) -> bool:
        """Replace the vehicle id(s) of ``d`` by pseudonyms; False when ``d`` is wholly revoked."""
        ids = self.identities
        assert ids is not None
        body: Any = d.body
        if d.kind is Kind.BSM_BATCH:
            names, keep = ids.pseudonyms(body["vehicle_id"], d.recv_ns)
            body["vehicle_id"] = names
            if not keep.all():
                self.metrics.count("revoked_rows", int(np.count_nonzero(~keep)))
                d.body = body[keep]
                return bool(keep.any())
            return True
        p = ids.pseudonym(body.vehicle_id, d.recv_ns)
        if p is None:
            return False
        body.vehicle_id = p
        return True

    def _reject(self, rej: Rejection, payload: bytes, recv_ns: int) -> Rejection:
        self.metrics.rejected[rej.reason] += 1
        self._log(rej, recv_ns)
        if rej.reason not in NOT_KEPT:
            if rej.reason is Reason.TOO_LARGE:  # keep its head: the whole may not fit a broker packet
                payload = payload[:TOO_LARGE_KEPT]
            dl = DeadLetter(rej.reason, rej.detail, rej.topic, rej.sender, payload, recv_ns)
            self.dead_letters.add(dl)
            if self.on_dead_letter is not None:
                self.on_dead_letter(dl)
        return rej

    # -- per tick ------------------------------------------------------------------------
    def drain(self, now_ns: int | None = None) -> Batch:
        """Release held messages whose hold expired, then everything collected as one :class:`Batch`.

        Parameters
        ----------
        now_ns
            Platform time, ns since the epoch (now when ``None``).
        """
        now = time.time_ns() if now_ns is None else now_ns
        for key in list(self._holding):
            tracker = self.trackers[key]
            for item in tracker.release(now):
                self.batcher.add(item)
            if not tracker.held:
                self._holding.discard(key)
        batch = self.batcher.drain(now)
        m = self.metrics
        m.tick(now)
        m.count("detections", len(batch.detections))
        m.count("vehicle_reports", len(batch.reports))
        return batch

    @property
    def held(self) -> int:
        """Messages held for reordering."""
        return sum(self.trackers[s].held for s in self._holding)

    def sequence_stats(self) -> dict[str, int]:
        """Totals over all senders: ``gaps``, ``reordered``, ``resets`` (duplicates and stale are rejections)."""
        trs: Iterable[SequenceTracker[Any]] = self.trackers.values()
        stats = {"gaps": 0, "reordered": 0, "resets": 0}
        for t in trs:
            stats["gaps"] += t.gaps
            stats["reordered"] += t.reordered
            stats["resets"] += t.resets
        return stats

    def prometheus(self, *, prefix: str = "xj_ingest") -> str:
        """The metrics in Prometheus text format, with sequence totals, queue depths and sensor clock offsets."""
        m = self.metrics
        for k, v in self.sequence_stats().items():
            m.counters[f"sequence_{k}"] = v
        m.counters["dead_letters"] = self.dead_letters.total
        m.gauges["held_for_reorder"] = self.held
        m.gauges["pending_for_batch"] = self.batcher.pending
        m.gauges["senders"] = len(self.rate)
        m.gauges["sensors"] = len(self.batcher.sensors)
        # offsets of the sensors' devices only: one gauge per OBU would swamp the exposition
        devices = {name.partition(":")[0] for name in self.batcher.sensors.names}
        offsets = {k: v for k, v in self.decoder.clocks.snapshot().items() if k in devices}
        return render_prometheus(m, prefix=prefix, clock_offsets_s=offsets)
