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

import base64
import binascii
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
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
    """Load a DER SubjectPublicKeyInfo public key (Ed25519 or P-256); ValueError otherwise."""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a DER public key: {exc}") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ValueError("only Ed25519 and ECDSA P-256 public keys are accepted")


def parse_public(data: str | bytes) -> bytes:
    """The DER form of a public key given as PEM text, base64 of its DER, or DER bytes.

    Raises
    ------
    ValueError
        Not a key in any of those forms, or neither Ed25519 nor P-256; the text says which.
    """
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    if raw.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(raw.strip())
        except ValueError as exc:
            raise ValueError(f"not a PEM public key: {exc}") from None
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    elif isinstance(data, str):
        try:
            der = base64.b64decode(data.strip(), validate=True)
        except binascii.Error:
            raise ValueError("a public key is PEM text or the base64 of its DER form") from None
    else:
        der = raw
    load_public(der)
    return der


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

    @property
    def algorithm(self) -> Algorithm:
        """``ed25519`` or ``p256``."""
        return "ed25519" if isinstance(self.public, ed25519.Ed25519PublicKey) else "p256"


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

    A replay is a frame whose ``sent_ns`` is older than ``max_age_s`` (against the receive time),
    or whose (``seq``, ``sent_ns``) was already accepted from that device: the same signed bytes
    again. A device that restarts its sequence numbers signs new times, so it is not taken for
    a replay; only the key holder can make a new pair.

    Parameters
    ----------
    registry
        Public keys and signing requirements (replace it to refresh: the replay memory stays).
    max_age_s
        A frame whose ``sent_ns`` is older than this (against the receive time) is a replay.
    window
        At most this many recent (seq, sent time) pairs per device are remembered; pairs older
        than ``max_age_s`` are forgotten anyway (their frames are rejected as old).
    """

    def __init__(self, registry: KeyRegistry, *, max_age_s: float = 30.0, window: int = 65_536) -> None:
        self.registry = registry
        self.max_age_s = max_age_s
        self.window = window
        self._seen: dict[str, tuple[set[tuple[int, int]], deque[tuple[int, int]]]] = {}

    def verify(self, device_id: str, payload: bytes, now_s: float | None = None) -> Verdict:
        """Check one payload published by ``device_id``.

        A device with no registered key that is not required to sign passes, signed or not
        (its signature cannot be checked and proves nothing either way).
        """
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
            if not must and device_id not in self.registry.keys:
                return Verdict(True, "", env)
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
        pair = (env.seq, env.sent_ns)
        if pair in seen:
            return Verdict(False, REPLAY_DUPLICATE, env)
        oldest = int((now - self.max_age_s) * 1e9)
        while order and (order[0][1] < oldest or len(order) >= self.window):
            seen.discard(order.popleft())
        seen.add(pair)
        order.append(pair)
        return Verdict(True, "", env)
