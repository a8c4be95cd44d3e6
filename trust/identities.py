"""Live vehicle identities at ingest: real id -> pseudonym, revocations, the vault's new records.

:class:`LiveIdentities` is what ingest calls for every message that names a vehicle (a BSM, a
BSM batch, a priority request). It answers the vehicle's pseudonym in the rotation period of the
message, or ``None`` when the owner revoked consent, so nothing after ingest (fusion, control,
the API, the store) ever sees a real id. It remembers, in memory only:

- pseudonym -> real id of the vehicles seen in the last ``live_ttl_s`` (so a downlink addressed
  to a pseudonym reaches the vehicle's own topic);
- for each (vehicle, period) first seen by this process, a sealed vault record
  (:class:`trust.PseudonymVault`) waiting to be stored, taken with :meth:`take_vault_records`;
- the revocation tags of revoked vehicles (loaded from storage and added by :meth:`revoke`).

No I/O; one process's event loop owns it (no locks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from trust.pseudonyms import Pseudonymizer, PseudonymVault

#: How many sealed records of this process are kept in memory for lookups without a database.
RECENT_RECORDS = 100_000


@dataclass(frozen=True, slots=True)
class VaultRecord:
    """One pseudonym's sealed real id: ``t`` first seen (s since the epoch), ``sealed`` AES-GCM."""

    t: float
    pseudonym: str
    sealed: bytes


class LiveIdentities:
    """Pseudonyms for ingest, the live reverse map for downlinks, revocations.

    Parameters
    ----------
    pseudonymizer
        The platform's one pseudonymiser (its master secret seals the vault records too).
    live_ttl_s
        A vehicle not heard from for this long leaves the reverse map (downlinks to it stop).
    """

    def __init__(self, pseudonymizer: Pseudonymizer, *, live_ttl_s: float = 300.0) -> None:
        self.pseudonymizer = pseudonymizer
        self.vault = PseudonymVault(pseudonymizer.master)
        self.live_ttl_ns = int(live_ttl_s * 1e9)
        self._period_ns = pseudonymizer.period_s * 1_000_000_000
        #: real id -> (period, pseudonym); pseudonym "" when the vehicle is revoked
        self._cache: dict[str, tuple[int, str]] = {}
        self._live: dict[str, tuple[str, int]] = {}  # pseudonym -> (real id, last seen ns)
        self._pending: list[VaultRecord] = []
        self._recent: dict[str, bytes] = {}
        self._revoked_tags: set[str] = set()
        #: pseudonyms of vehicles revoked while this process ran (what fusion may still hold)
        self.revoked_pseudonyms: set[str] = set()
        self._next_prune_ns = 0
        #: messages (or BSM batch rows) dropped because their vehicle is revoked
        self.revoked_dropped = 0

    # -- ingest ------------------------------------------------------------------------------
    def pseudonym(self, vehicle_id: str, t_ns: int) -> str | None:
        """The pseudonym of ``vehicle_id`` at ``t_ns`` (ns since the epoch); None when revoked."""
        period = t_ns // self._period_ns
        hit = self._cache.get(vehicle_id)
        p = hit[1] if hit is not None and hit[0] == period else self._new_period(vehicle_id, period, t_ns)
        if not p:
            self.revoked_dropped += 1
            return None
        self._live[p] = (vehicle_id, t_ns)
        if t_ns >= self._next_prune_ns:
            self.prune(t_ns)
        return p

    def pseudonyms(
        self, vehicle_ids: npt.NDArray[Any], t_ns: int
    ) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.bool_]]:
        """Pseudonyms of an array of ids, shape (N,), and the mask of rows to keep (not revoked).

        One lookup per distinct id; revoked rows get ``""`` and ``False``.
        """
        ids = np.asarray(vehicle_ids)
        uniq, inverse = np.unique(ids, return_inverse=True)
        mapped = [self.pseudonym(str(u), t_ns) for u in uniq.tolist()]
        out = np.array([m or "" for m in mapped], dtype="U40")[inverse.reshape(-1)] if len(uniq) else np.zeros(0, "U40")
        keep = out != ""
        # pseudonym() counted each distinct revoked id once; count rows instead
        revoked_ids = sum(1 for m in mapped if m is None)
        self.revoked_dropped += int(np.count_nonzero(~keep)) - revoked_ids
        return out, keep

    def _new_period(self, vehicle_id: str, period: int, t_ns: int) -> str:
        if self.pseudonymizer.revocation_tag(vehicle_id) in self._revoked_tags:
            p = ""
        else:
            p = self.pseudonymizer.pseudonym_in(vehicle_id, period)
            record = VaultRecord(t_ns / 1e9, p, self.vault.seal(p, vehicle_id))
            self._pending.append(record)
            if len(self._recent) >= RECENT_RECORDS:
                self._recent.clear()
            self._recent[p] = record.sealed
        if len(self._cache) > 4 * RECENT_RECORDS:
            self._cache.clear()
        self._cache[vehicle_id] = (period, p)
        return p

    def prune(self, now_ns: int) -> int:
        """Forget vehicles not heard from within ``live_ttl_s``; returns how many."""
        self._next_prune_ns = now_ns + 10_000_000_000
        cut = now_ns - self.live_ttl_ns
        stale = [p for p, (_, t) in self._live.items() if t < cut]
        for p in stale:
            del self._live[p]
        return len(stale)

    # -- downlinks and the API ---------------------------------------------------------------
    def real_id(self, pseudonym: str) -> str | None:
        """The real id behind a pseudonym of a live vehicle (None when not seen lately)."""
        hit = self._live.get(pseudonym)
        return hit[0] if hit is not None else None

    def current(self, vehicle_id: str, t: float, *, back_s: float = 0.0) -> list[str]:
        """The pseudonyms ``vehicle_id`` has had from ``t - back_s`` to ``t`` (s), newest last."""
        return self.pseudonymizer.all_pseudonyms(vehicle_id, t - back_s, t)

    def sealed(self, pseudonym: str) -> bytes | None:
        """This process's sealed record of ``pseudonym`` (None when it never made one)."""
        return self._recent.get(pseudonym)

    def take_vault_records(self) -> list[VaultRecord]:
        """The records made since the last call (to store), oldest first."""
        out, self._pending = self._pending, []
        return out

    @property
    def live(self) -> int:
        """Vehicles in the reverse map."""
        return len(self._live)

    # -- revocation --------------------------------------------------------------------------
    def device_ref(self, vehicle_id: str) -> str:
        """The keyed reference under which an OBU's signing keys are registered."""
        return self.pseudonymizer.revocation_tag(vehicle_id)

    def revoke(self, vehicle_id: str, pseudonyms: Iterable[str]) -> str:
        """Stop mapping ``vehicle_id``: forget it everywhere in memory; returns its revocation tag.

        Parameters
        ----------
        vehicle_id
            The real id.
        pseudonyms
            Every pseudonym it had within the retention horizon (their pending vault records
            and live entries go; the newest ones are remembered in :attr:`revoked_pseudonyms`
            so rows fusion still holds are not stored under them).
        """
        tag = self.pseudonymizer.revocation_tag(vehicle_id)
        self._revoked_tags.add(tag)
        searched = list(pseudonyms)
        live = {p for p, (v, _) in self._live.items() if v == vehicle_id}
        gone = set(searched) | live
        for p in gone:
            self._live.pop(p, None)
            self._recent.pop(p, None)
        self._pending = [r for r in self._pending if r.pseudonym not in gone]
        self._cache.pop(vehicle_id, None)
        # what fusion may still hold: the live ones and those of the newest two periods
        self.revoked_pseudonyms |= live | set(searched[-2:])
        return tag

    def load_revoked(self, tags: Iterable[str]) -> int:
        """Adopt the stored revocation tags (all processes' revocations); returns how many are new.

        Live vehicles whose tag is among the new ones are dropped from every map at once.
        """
        new = set(tags) - self._revoked_tags
        if not new:
            return 0
        self._revoked_tags |= new
        tag_of = self.pseudonymizer.revocation_tag
        for vid in [v for v in self._cache if tag_of(v) in new]:
            _, p = self._cache.pop(vid)
            if p:
                self.revoked_pseudonyms.add(p)
                self._live.pop(p, None)
                self._recent.pop(p, None)
        self._pending = [r for r in self._pending if r.pseudonym not in self.revoked_pseudonyms]
        return len(new)

    def is_revoked(self, vehicle_id: str) -> bool:
        """Whether the owner of ``vehicle_id`` revoked consent."""
        return self.pseudonymizer.revocation_tag(vehicle_id) in self._revoked_tags
