"""The trust stage in the platform process: pseudonyms at ingest, the pseudonym vault, owners'
revocations, device signing keys.

:class:`PlatformTrust` holds the one :class:`trust.Pseudonymizer` (from ``XJ_PSEUDONYM_SECRET``),
the :class:`trust.LiveIdentities` ingest pseudonymises with, and the :class:`trust.FrameVerifier`
behind ingest's signature step. Its database work (sync psycopg) runs in threads with a short-lived
connection each; in-memory state is changed on the event loop only. Without a database it keeps
keys and revocations in memory (a demo), and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import psycopg
from cryptography.exceptions import InvalidTag

from cloud.settings import Settings
from store.keys import StoredKey, list_keys, register_key, retire_key
from store.privacy import Revocation, revoke_vehicle, revoked_tags
from trust import DeviceKey, FrameVerifier, KeyRegistry, LiveIdentities, SignedFrames
from trust.frames import obu_name

LOG = logging.getLogger("xiangjiang.cloud.trust")
T = TypeVar("T")


@dataclass(frozen=True)
class Resolution:
    """The outcome of an identity lookup: ``resolved`` (with the id), ``not_found`` or ``tampered``."""

    outcome: str
    vehicle_id: str | None = None


class PlatformTrust:
    """Pseudonyms, the vault, revocations and device keys of one platform process.

    Parameters
    ----------
    settings
        The secret, rotation period, retention (the revocation horizon), replay window, database.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = settings.db
        self.pseudonymizer = settings.pseudonymizer()
        self.identities = LiveIdentities(self.pseudonymizer)
        self.verifier = FrameVerifier(KeyRegistry(), max_age_s=settings.signing_max_age_s)
        self.frames = SignedFrames(self.verifier, self.identities)
        self.horizon_s = settings.retention.policy().vehicle_horizon.total_seconds()
        #: the registry's source: (device, key id) -> key
        self.keys: dict[tuple[str, str], StoredKey] = {}

    # -- database ----------------------------------------------------------------------------
    async def _db(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        url = self.db
        assert url is not None

        def run() -> T:
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                return fn(conn)

        return await asyncio.to_thread(run)

    async def refresh(self) -> None:
        """Adopt every process's revocations and keys from the database (no-op without one)."""
        if self.db is None:
            return
        tags, keys = await self._db(lambda c: (revoked_tags(c), list_keys(c)))
        new = self.identities.load_revoked(tags)
        if new:
            LOG.info("trust: %d revocation(s) adopted from the database", new)
        self.adopt(keys)

    async def run_refresh(self, period_s: float) -> None:
        """Refresh every ``period_s`` seconds until cancelled (failures logged, retried)."""
        while True:
            await asyncio.sleep(period_s)
            try:
                await self.refresh()
            except Exception as exc:
                LOG.warning("trust: refresh from the database failed: %s", exc)

    # -- device keys -------------------------------------------------------------------------
    def adopt(self, keys: Iterable[StoredKey]) -> None:
        """Replace the verifier's registry with ``keys`` (replay memory is kept)."""
        reg = KeyRegistry()
        table: dict[tuple[str, str], StoredKey] = {}
        for k in keys:
            reg.register(
                k.device, DeviceKey(k.key_id, k.public_key, k.valid_from, k.valid_to), require_signing=k.require_signing
            )
            table[(k.device, k.key_id)] = k
        self.verifier.registry = reg
        self.keys = table

    def device(self, kind: str, device_id: str) -> str:
        """The registry name of a device (an OBU: its keyed tag, never its id)."""
        return self.frames.registry_name(kind, device_id)

    async def register_key(self, key: StoredKey) -> bool:
        """Register (or replace) a key; True when new. Takes effect at once in this process."""
        if self.db is None:
            new = (key.device, key.key_id) not in self.keys
            self.adopt([*(k for k in self.keys.values() if (k.device, k.key_id) != (key.device, key.key_id)), key])
            return new
        new = await self._db(lambda c: register_key(c, key))
        await self.refresh()
        return new

    async def retire_key(self, device: str, key_id: str, at: float) -> bool:
        """End a key's validity at ``at``; False when there is no such key."""
        if self.db is None:
            old = self.keys.get((device, key_id))
            if old is None:
                return False
            retired = dataclasses.replace(old, valid_to=min(old.valid_to, at))
            self.adopt([*(k for k in self.keys.values() if k is not old), retired])
            return True
        done = await self._db(lambda c: retire_key(c, device, key_id, at))
        await self.refresh()
        return done

    def device_keys(self, device: str) -> list[StoredKey]:
        """The keys registered for ``device``, by validity."""
        return sorted((k for k in self.keys.values() if k.device == device), key=lambda k: (k.valid_from, k.key_id))

    # -- identities --------------------------------------------------------------------------
    def reference(self, pseudonym: str) -> str:
        """What the audit log records of a looked-up pseudonym (a keyed reference)."""
        return self.pseudonymizer.reference(pseudonym)

    async def resolve(self, pseudonym: str) -> Resolution:
        """Open the vault record of ``pseudonym`` (this process's, else the database's)."""
        sealed: list[bytes] = []
        mine = self.identities.sealed(pseudonym)
        if mine is not None:
            sealed.append(mine)
        if not sealed and self.db is not None:
            rows = await self._db(
                lambda c: c.execute(
                    "SELECT sealed FROM pseudonym_vault WHERE vehicle_pseudonym = %s ORDER BY time", (pseudonym,)
                ).fetchall()
            )
            sealed = [bytes(r[0]) for r in rows]
        if not sealed:
            return Resolution("not_found")
        for s in sealed:
            with contextlib.suppress(InvalidTag, ValueError):
                return Resolution("resolved", self.identities.vault.open(pseudonym, s))
        return Resolution("tampered")

    def pseudonyms_of(self, vehicle_id: str, now: float, *, back_s: float = 0.0) -> list[str]:
        """The pseudonyms ``vehicle_id`` has had over the last ``back_s`` seconds, newest last."""
        return self.pseudonymizer.all_pseudonyms(vehicle_id, now - back_s, now)

    async def revoke(
        self,
        vehicle_id: str,
        audit: dict[str, Any],
        *,
        before_delete: Callable[[], Awaitable[object]] | None = None,
    ) -> Revocation:
        """An owner's revocation: stop ingesting the vehicle at once, then delete its history.

        Parameters
        ----------
        vehicle_id
            The real id.
        audit
            Appended to the chain in the same transaction as the deletion (its target should be
            the revocation tag); without a database only the in-memory state changes.
        before_delete
            Awaited between the two steps: the store writer's flush, so rows already queued are
            in the database when the deletion runs.
        """
        now = time.time()
        names = self.pseudonyms_of(vehicle_id, now, back_s=self.horizon_s)
        tag = self.identities.revoke(vehicle_id, names)
        gone = obu_name(tag)
        self.adopt([k for k in self.keys.values() if k.device != gone])
        if self.db is None:
            return Revocation(tag, names)
        if before_delete is not None:
            await before_delete()
        horizon = self.horizon_s
        return await self._db(
            lambda c: revoke_vehicle(c, self.pseudonymizer, vehicle_id, now=now, horizon_s=horizon, audit=audit)
        )

    def revoked_mask(self, pseudonyms: np.ndarray) -> np.ndarray:
        """Which of ``pseudonyms`` (shape (N,)) belong to vehicles revoked while this process ran."""
        gone = self.identities.revoked_pseudonyms
        if not gone or not len(pseudonyms):
            return np.zeros(len(pseudonyms), dtype=bool)
        return np.isin(pseudonyms, list(gone))
