"""Persistence: schema and migrations, the batched binary-COPY writer with its outage spool,
partitions and retention, revocation, the hash-chained audit trail, device keys, and history
queries (``store.queries``)."""

from store.auditlog import AuditWriter, Verification
from store.batch import BatchError
from store.devices import upsert_devices
from store.keys import StoredKey, list_keys, register_key, retire_key
from store.migrate import MigrationError, apply_migrations
from store.partitions import ensure_partitions
from store.privacy import Pseudonymizer, Revocation, delete_vehicle_history, revoke_vehicle, revoked_tags
from store.retention import RetentionPolicy, enforce_retention, maintain
from store.schema import TABLES
from store.writer import Offer, StoreWriter, WriterClosed, WriterMetrics

__all__ = [
    "TABLES",
    "AuditWriter",
    "BatchError",
    "MigrationError",
    "Offer",
    "Pseudonymizer",
    "RetentionPolicy",
    "Revocation",
    "StoreWriter",
    "StoredKey",
    "Verification",
    "WriterClosed",
    "WriterMetrics",
    "apply_migrations",
    "delete_vehicle_history",
    "enforce_retention",
    "ensure_partitions",
    "list_keys",
    "maintain",
    "register_key",
    "retire_key",
    "revoke_vehicle",
    "revoked_tags",
    "upsert_devices",
]
