"""Ingest: MQTT uplinks in; decode, validate, reorder, rate-limit; numpy batches out.

The pure, synchronous part (:class:`IngestPipeline` = :class:`Decoder` + :class:`SequenceTracker`
+ :class:`RateLimiter` + :class:`ClockOffsets` + :class:`Batcher`) is testable without a broker;
:class:`IngestService` wires it to MQTT (aiomqtt 2, MQTT 5) with reconnects and dead letters.
"""

from ingest.backoff import Backoff
from ingest.batch import Batch, Batcher
from ingest.clock import ClockOffsets
from ingest.deadletter import DEADLETTER_TOPIC, DeadLetter, DeadLetterRing
from ingest.decode import CHANNEL_BODIES, Decoder, uplink_subscriptions
from ingest.items import Decoded, Kind, Rejection, Route
from ingest.limits import Limits
from ingest.metrics import LATENESS_BUCKETS_MS, Metrics, render_prometheus
from ingest.pipeline import IngestPipeline
from ingest.ratelimit import RateLimiter
from ingest.reasons import Reason
from ingest.sensors import SensorRegistry
from ingest.sequence import SequenceTracker
from ingest.service import IngestService
from ingest.stdframe import StdDecoder, load_std_decoder

__all__ = [
    "CHANNEL_BODIES",
    "DEADLETTER_TOPIC",
    "LATENESS_BUCKETS_MS",
    "Backoff",
    "Batch",
    "Batcher",
    "ClockOffsets",
    "DeadLetter",
    "DeadLetterRing",
    "Decoded",
    "Decoder",
    "IngestPipeline",
    "IngestService",
    "Kind",
    "Limits",
    "Metrics",
    "RateLimiter",
    "Reason",
    "Rejection",
    "Route",
    "SensorRegistry",
    "SequenceTracker",
    "StdDecoder",
    "load_std_decoder",
    "render_prometheus",
    "uplink_subscriptions",
]
