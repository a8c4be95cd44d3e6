"""Signed device frames: Ed25519 or ECDSA P-256 signatures over the envelope.

Wire form (see ``proto/xiangjiang.proto``): the sender serialises the envelope *without* fields
100 (``key_id``) and 101 (``signature``), signs those bytes, and sends them followed by the
encoded fields 100 and 101 (protobuf concatenation, so the result is still one valid envelope).
The verifier strips exactly that trailer and checks the signature over the rest, so no
re-serialisation is involved.

:class:`KeyRegistry` holds each device's public keys (with validity windows, for rotation) and
whether the device must sign; :class:`FrameVerifier` rejects unsigned frames from signing devices,
unknown or expired keys, bad signatures and replays (an old timestamp or a sequence number seen
before), each with a reason code that ingest counts.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from proto import pb

Algorithm = Literal["ed25519", "p256"]
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

#: rejection reasons
UNSIGNED = "unsigned"
UNKNOWN_KEY = "unknown_key"
KEY_NOT_VALID = "key_not_valid"
BAD_SIGNATURE = "bad_signature"
REPLAY_OLD = "replay_old"
REPLAY_DUPLICATE = "replay_duplicate"
MALFORMED = "malformed"


def generate_key(algorithm: Algorithm = "ed25519") -> PrivateKey:
    """A new private key."""
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def public_bytes(key: PrivateKey | PublicKey) -> bytes:
    """The public key in DER SubjectPublicKeyInfo form (what the registry stores)."""
    pub = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) else key
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(der: bytes) -> PublicKey:
    """Load a DER SubjectPublicKeyInfo public key (Ed25519 or P-256)."""
    key = serialization.load_der_public_key(der)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ValueError("only Ed25519 and ECDSA P-256 public keys are accepted")


def _sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _verify(key: PublicKey, sig: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, data)
        else:
            key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _trailer(key_id: str, signature: bytes) -> bytes:
    return pb.Envelope(key_id=key_id, signature=signature).SerializeToString()


def sign_envelope(env: pb.Envelope, key: PrivateKey, key_id: str) -> bytes:
    """Serialise ``env`` signed with ``key``; returns the payload to publish."""
    env = pb.Envelope.FromString(env.SerializeToString())
    env.ClearField("key_id")
    env.ClearField("signature")
    body = env.SerializeToString()
    return body + _trailer(key_id, _sign(key, body))


@dataclass
class DeviceKey:
    """One registered public key of a device, valid in [valid_from, valid_to) (s since the epoch)."""

    key_id: str
    public_der: bytes
    valid_from: float = 0.0
    valid_to: float = float("inf")

    def __post_init__(self) -> None:
        self.public: PublicKey = load_public(self.public_der)


@dataclass
class KeyRegistry:
    """Devices' public keys and whether each must sign."""

    keys: dict[str, dict[str, DeviceKey]] = field(default_factory=dict)
    signing: set[str] = field(default_factory=set)

    def register(self, device_id: str, key: DeviceKey, *, require_signing: bool = True) -> None:
        """Add a key (a rotation adds the new key; retire the old one with :meth:`retire`)."""
        self.keys.setdefault(device_id, {})[key.key_id] = key
        if require_signing:
            self.signing.add(device_id)

    def retire(self, device_id: str, key_id: str, at: float | None = None) -> None:
        """End a key's validity (now by default)."""
        k = self.keys.get(device_id, {}).get(key_id)
        if k is not None:
            k.valid_to = time.time() if at is None else at

    def key(self, device_id: str, key_id: str) -> DeviceKey | None:
        """A device's key by id."""
        return self.keys.get(device_id, {}).get(key_id)


@dataclass
class Verdict:
    """Outcome of verifying one frame: ``ok`` and, when not, the reason code."""

    ok: bool
    reason: str = ""
    envelope: pb.Envelope | None = None


class FrameVerifier:
    """Verifies signatures and rejects replays, per device.

    Parameters
    ----------
    registry
        Public keys and signing requirements.
    max_age_s
        A frame whose ``sent_ns`` is older than this (against the receive time) is a replay.
    window
        How many recent sequence numbers per device are remembered to catch repeats.
    """

    def __init__(self, registry: KeyRegistry, *, max_age_s: float = 30.0, window: int = 1024) -> None:
        self.registry = registry
        self.max_age_s = max_age_s
        self.window = window
        self._seen: dict[str, tuple[set[int], deque[int]]] = {}

    def verify(self, device_id: str, payload: bytes, now_s: float | None = None) -> Verdict:
        """Check one payload published by ``device_id``."""
        now = time.time() if now_s is None else now_s
        try:
            env = pb.Envelope.FromString(payload)
        except Exception:  # protobuf raises DecodeError and others on garbage
            return Verdict(False, MALFORMED)
        must = device_id in self.registry.signing
        if not env.signature:
            return Verdict(not must, UNSIGNED if must else "", env)
        key = self.registry.key(device_id, env.key_id)
        if key is None:
            return Verdict(False, UNKNOWN_KEY, env)
        sent = env.sent_ns / 1e9
        if not key.valid_from <= sent < key.valid_to:
            return Verdict(False, KEY_NOT_VALID, env)
        trailer = _trailer(env.key_id, env.signature)
        if payload.endswith(trailer):
            body = payload[: -len(trailer)]
        else:  # a sender that did not put the signature last: verify the canonical re-serialisation
            clean = pb.Envelope.FromString(payload)
            clean.ClearField("key_id")
            clean.ClearField("signature")
            body = clean.SerializeToString(deterministic=True)
        if not _verify(key.public, env.signature, body):
            return Verdict(False, BAD_SIGNATURE, env)
        if now - sent > self.max_age_s:
            return Verdict(False, REPLAY_OLD, env)
        seen, order = self._seen.setdefault(device_id, (set(), deque()))
        if env.seq in seen:
            return Verdict(False, REPLAY_DUPLICATE, env)
        seen.add(env.seq)
        order.append(env.seq)
        if len(order) > self.window:
            seen.discard(order.popleft())
        return Verdict(True, "", env)
