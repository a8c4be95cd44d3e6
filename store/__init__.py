"""Persistence: schema and migrations, the batched binary-COPY writer with its outage spool,
partitions and retention, revocation, and history queries (``store.queries``)."""

from store.batch import BatchError
from store.devices import upsert_devices
from store.migrate import MigrationError, apply_migrations
from store.partitions import ensure_partitions
from store.privacy import Pseudonymizer, delete_vehicle_history
from store.retention import RetentionPolicy, enforce_retention, maintain
from store.schema import TABLES
from store.writer import Offer, StoreWriter, WriterClosed, WriterMetrics

__all__ = [
    "TABLES",
    "BatchError",
    "MigrationError",
    "Offer",
    "Pseudonymizer",
    "RetentionPolicy",
    "StoreWriter",
    "WriterClosed",
    "WriterMetrics",
    "apply_migrations",
    "delete_vehicle_history",
    "enforce_retention",
    "ensure_partitions",
    "maintain",
    "upsert_devices",
]
