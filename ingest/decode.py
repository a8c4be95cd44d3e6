"""The synchronous decoder/validator: (topic, payload bytes, receive time) -> Decoded or Rejection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from google.protobuf.message import DecodeError

from ingest import bodies
from ingest.clock import ClockOffsets
from ingest.items import Decoded, Rejection, Route
from ingest.limits import Limits
from ingest.reasons import Reason
from proto import SCHEMA_VERSION, TopicError, pb, topics

#: Envelope body names allowed on each (device kind, channel) uplink that ingest consumes.
CHANNEL_BODIES: Final[dict[tuple[str, str], frozenset[str]]] = {
    ("rsu", "perception"): frozenset({"perception"}),
    ("lamp", "perception"): frozenset({"perception"}),
    ("lamp", "parking"): frozenset({"parking"}),
    ("lamp", "status"): frozenset({"lamp_status"}),
    ("obu", "bsm"): frozenset({"bsm", "bsm_batch"}),
    ("obu", "srm"): frozenset({"priority_request"}),
    ("tsc", "spat"): frozenset({"spat"}),
}
#: The uplink carrying a vendor RSU-to-centre frame of standard V2X messages (no envelope).
STD_CHANNEL: Final = ("rsu", "frame")

_Check = Callable[[Route, Any, int, int, int, int, Limits], bodies.Outcome]
_CHECKS: Final[dict[str, _Check]] = {
    "perception": bodies.perception,
    "bsm": bodies.bsm,
    "bsm_batch": bodies.bsm_batch,
    "spat": bodies.spat,
    "parking": bodies.parking,
    "lamp_status": bodies.lamp_status,
    "priority_request": bodies.priority_request,
}


def uplink_subscriptions(share: str | None = None) -> list[str]:
    """Wildcard subscriptions for every uplink ingest consumes (MQTT 5 ``$share/{share}/...`` if given)."""
    chans = sorted([*CHANNEL_BODIES, STD_CHANNEL])
    return [topics.subscription(kind, channel, "up", share) for kind, channel in chans]


class Decoder:
    """Decode and validate one message at a time; no I/O, never raises on bad input.

    Checks, in order: topic (``bad_topic``), size (``too_large``), protobuf (``decode_error``),
    schema version, sender id against the topic (``sender_mismatch``), body against the channel
    (``unknown_body``), sent time within the skew window (``clock_skew``), then the body's own
    checks (:mod:`ingest.bodies`). Every envelope from an authenticated topic feeds the
    sender's clock-offset estimate, also one that later fails its skew check, so a sender with
    a wrong clock shows its offset.

    Parameters
    ----------
    limits
        The bounds to apply.
    clocks
        Per-sender clock-offset estimator (a new one from ``limits`` when ``None``).
    topic_cache
        Parsed topics kept; the cache is cleared when it grows beyond this.
    """

    def __init__(
        self, *, limits: Limits | None = None, clocks: ClockOffsets | None = None, topic_cache: int = 100_000
    ) -> None:
        self.limits = limits or Limits()
        self.clocks = clocks or ClockOffsets(
            window=self.limits.clock_window, deadband_ns=int(self.limits.clock_deadband_s * 1e9)
        )
        self._routes: dict[str, Route | str] = {}
        self._cache_max = topic_cache

    def route(self, topic: str) -> Route | str:
        """Parse an uplink topic; returns the :class:`Route` or the reason text of ``bad_topic``."""
        r = self._routes.get(topic)
        if r is not None:
            return r
        r = self._parse(topic)
        if len(self._routes) >= self._cache_max:
            self._routes.clear()
        self._routes[topic] = r
        return r

    @staticmethod
    def _parse(topic: str) -> Route | str:
        try:
            t = topics.parse(topic)
        except TopicError as exc:
            return str(exc)
        key = (t.kind, t.channel)
        if t.direction != "up":
            return f"topic {topic!r} is a downlink"
        if key == STD_CHANNEL:
            return Route(topic, t.kind, t.device_id, t.channel, f"{t.kind}/{t.device_id}", frozenset(), std=True)
        allowed = CHANNEL_BODIES.get(key)
        if allowed is None:
            return f"topic {topic!r}: ingest does not consume {t.kind}/{t.channel}"
        return Route(topic, t.kind, t.device_id, t.channel, f"{t.kind}/{t.device_id}", allowed)

    def decode(self, topic: str, payload: bytes, recv_ns: int) -> Decoded | Rejection:
        """Route, decode and validate one envelope message.

        Parameters
        ----------
        topic
            The MQTT topic name it arrived on.
        payload
            The raw MQTT payload.
        recv_ns
            Platform receive time, ns since the epoch.

        Returns
        -------
        Decoded or Rejection
            Standard-message frames are rejected here (``unknown_body``): they need the codec,
            which :class:`ingest.IngestPipeline` routes to.
        """
        route = self.route(topic)
        if isinstance(route, str):
            return Rejection(Reason.BAD_TOPIC, route, topic)
        if route.std:
            return Rejection(Reason.UNKNOWN_BODY, "a standard-message frame, not an envelope", topic, route.sender)
        return self.decode_routed(route, payload, recv_ns)

    def decode_routed(
        self, route: Route, payload: bytes, recv_ns: int, envelope: pb.Envelope | None = None
    ) -> Decoded | Rejection:
        """Decode and validate an envelope on an already routed topic (see :meth:`decode`).

        ``envelope`` is the payload already parsed (by a signature check), to skip parsing it again.
        """
        r = self._decode(route, payload, recv_ns, envelope)
        if isinstance(r, Decoded):
            return r
        return Rejection(r[0], r[1], route.topic, route.sender)

    def _decode(self, route: Route, payload: bytes, recv_ns: int, env: pb.Envelope | None) -> bodies.Outcome:
        lim = self.limits
        if len(payload) > lim.max_payload_bytes:
            return Reason.TOO_LARGE, f"{len(payload)} bytes > {lim.max_payload_bytes}"
        if env is None:
            try:
                env = pb.Envelope.FromString(payload)
            except DecodeError as exc:
                return Reason.DECODE_ERROR, str(exc)
        if env.schema_version != SCHEMA_VERSION:
            return Reason.SCHEMA_VERSION, f"schema_version {env.schema_version}, this build reads {SCHEMA_VERSION}"
        if env.sender_id != route.device_id:
            return Reason.SENDER_MISMATCH, f"sender_id {env.sender_id!r} on the topic of {route.device_id!r}"
        name = env.WhichOneof("body")
        if name not in route.bodies:
            return Reason.UNKNOWN_BODY, f"body {name!r} on {route.kind}/{route.channel}"
        sent = env.sent_ns
        late = recv_ns - sent
        offset = self.clocks.observe(route.sender, late)
        if late > lim.max_age_ns or late < -lim.max_future_ns:
            return Reason.CLOCK_SKEW, f"sent {late / 1e9:+.3f} s before receipt"
        return _CHECKS[name](route, getattr(env, name), env.seq, sent, recv_ns, self.clocks.correction_ns(offset), lim)
