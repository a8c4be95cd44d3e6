"""Keyed pseudonyms for vehicle and OBU identities, with a rotating secret.

A pseudonym is ``HMAC-SHA256(period_key, vehicle_id)`` truncated to 80 bits and written in
lower-case base32 (16 characters, ``"p"`` prefix). The period key is itself derived from a master
secret and the rotation period's index (``HMAC-SHA256(master, "xj-pseudonym-period:" + index)``),
so pseudonyms are stable within a period and unlinkable across periods without the master secret.
The platform keeps the master secret; whoever holds only stored data cannot go back to an id.

Going back (an operator handling an incident) needs the id itself: :class:`PseudonymVault`
keeps an encrypted pseudonym -> id map (AES-GCM under a key derived from the master secret) that
only the resolver role may open, and every lookup is audited by the caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: default rotation period, seconds (one day)
DEFAULT_PERIOD_S = 86_400


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


@dataclass
class Pseudonymizer:
    """Maps real vehicle ids to keyed pseudonyms.

    Parameters
    ----------
    master
        The master secret (32+ random bytes); keep it out of the database.
    period_s
        Rotation period, seconds: pseudonyms change when ``floor(t / period_s)`` changes.
    """

    master: bytes
    period_s: int = DEFAULT_PERIOD_S
    _keys: dict[int, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.master) < 16:
            raise ValueError("the pseudonym master secret must be at least 16 bytes")
        if self.period_s <= 0:
            raise ValueError("the rotation period must be positive")

    def period(self, t: float) -> int:
        """Index of the rotation period containing time ``t`` (s since the epoch)."""
        return int(t // self.period_s)

    def period_key(self, period: int) -> bytes:
        """The HMAC key of one rotation period."""
        k = self._keys.get(period)
        if k is None:
            k = hmac.new(self.master, f"xj-pseudonym-period:{period}".encode(), hashlib.sha256).digest()
            if len(self._keys) > 64:
                self._keys.clear()
            self._keys[period] = k
        return k

    def pseudonym(self, vehicle_id: str, t: float) -> str:
        """The pseudonym of ``vehicle_id`` in the period containing ``t``."""
        return self.pseudonym_in(vehicle_id, self.period(t))

    def pseudonym_in(self, vehicle_id: str, period: int) -> str:
        """The pseudonym of ``vehicle_id`` in rotation period ``period``."""
        mac = hmac.new(self.period_key(period), vehicle_id.encode("utf-8"), hashlib.sha256).digest()
        return "p" + _b32(mac[:10])

    def pseudonyms(self, vehicle_ids: list[str], t: float) -> list[str]:
        """Pseudonyms of many ids in the period containing ``t``."""
        key = self.period_key(self.period(t))
        return ["p" + _b32(hmac.new(key, v.encode("utf-8"), hashlib.sha256).digest()[:10]) for v in vehicle_ids]

    def all_pseudonyms(self, vehicle_id: str, t_from: float, t_to: float) -> list[str]:
        """Every pseudonym ``vehicle_id`` had between two times (for revocation)."""
        return [self.pseudonym_in(vehicle_id, p) for p in range(self.period(t_from), self.period(t_to) + 1)]

    def revocation_tag(self, vehicle_id: str) -> str:
        """A period-independent keyed tag of an id, to remember a revocation without keeping the id.

        The same tag names an OBU's signing keys in storage (a device registry keyed by the
        vehicle id would keep the id in clear).
        """
        mac = hmac.new(self.master, b"xj-revoked:" + vehicle_id.encode("utf-8"), hashlib.sha256).digest()
        return _b32(mac[:16])

    def reference(self, pseudonym: str) -> str:
        """A keyed reference to a pseudonym, for the audit log of identity lookups.

        The audit log cannot be edited (:mod:`trust.audit`), so it must not hold a pseudonym that
        a revocation has to erase; whoever holds the master secret can still tell which
        pseudonym an entry names, by computing its reference.
        """
        mac = hmac.new(self.master, b"xj-lookup:" + pseudonym.encode("utf-8"), hashlib.sha256).digest()
        return "r" + _b32(mac[:10])


@dataclass
class PseudonymVault:
    """Encrypted pseudonym -> id records (AES-GCM), opened only by the resolver role.

    The records themselves (nonce + ciphertext) can sit in the database; the key is derived from
    the master secret and never stored with them.
    """

    master: bytes

    @property
    def _aead(self) -> AESGCM:
        key = hmac.new(self.master, b"xj-pseudonym-vault", hashlib.sha256).digest()
        return AESGCM(key)

    def seal(self, pseudonym: str, vehicle_id: str) -> bytes:
        """Encrypt ``vehicle_id`` bound to its pseudonym (associated data)."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, vehicle_id.encode("utf-8"), pseudonym.encode("ascii"))

    def open(self, pseudonym: str, sealed: bytes) -> str:
        """Decrypt a record; raises ``cryptography.exceptions.InvalidTag`` if it was tampered with."""
        return self._aead.decrypt(sealed[:12], sealed[12:], pseudonym.encode("ascii")).decode("utf-8")
