"""The signature step ingest runs before decoding: which registry entry a topic's device is, and
the verdict as a reason code ingest counts.

Devices are registered as ``{kind}/{device_id}`` (``rsu/rsu-J1_1``, ``lamp/lp-7``,
``tsc/J1_1``), the way ingest names a sender. An OBU publishes under its vehicle's real id,
which storage must not hold: its keys are registered as ``obu/{tag}``, with the vehicle's keyed
revocation tag (:meth:`trust.Pseudonymizer.revocation_tag`), so a revocation removes them too.
"""

from __future__ import annotations

from proto import pb
from trust.identities import LiveIdentities
from trust.signing import FrameVerifier

#: Registered OBU references kept per process (each is one HMAC to compute).
_REF_CACHE = 100_000


def device_name(kind: str, device_id: str) -> str:
    """The registry name of a roadside device (``{kind}/{device_id}``)."""
    return f"{kind}/{device_id}"


def obu_name(tag: str) -> str:
    """The registry name of an OBU whose vehicle has revocation tag ``tag``."""
    return f"obu/{tag}"


class SignedFrames:
    """Checks each uplink's signature and freshness with a :class:`trust.FrameVerifier`.

    Parameters
    ----------
    verifier
        The verifier (its registry may be replaced at any time to take new keys).
    identities
        Maps an OBU's vehicle id to its keyed reference.
    """

    def __init__(self, verifier: FrameVerifier, identities: LiveIdentities) -> None:
        self.verifier = verifier
        self.identities = identities
        self._obu: dict[str, str] = {}

    def registry_name(self, kind: str, device_id: str) -> str:
        """Under which name ``kind``/``device_id`` is registered."""
        if kind != "obu":
            return device_name(kind, device_id)
        name = self._obu.get(device_id)
        if name is None:
            if len(self._obu) >= _REF_CACHE:
                self._obu.clear()
            name = self._obu[device_id] = obu_name(self.identities.device_ref(device_id))
        return name

    def check(self, kind: str, device_id: str, payload: bytes, recv_ns: int) -> tuple[str, pb.Envelope | None]:
        """``("", envelope)`` when the frame may pass, else ``(reason, envelope or None)``.

        Reasons: ``unsigned``, ``unknown_key``, ``key_not_valid``, ``bad_signature``,
        ``replay_old``, ``replay_duplicate``, ``malformed`` (not an envelope).
        """
        v = self.verifier.verify(self.registry_name(kind, device_id), payload, recv_ns / 1e9)
        return ("" if v.ok else v.reason), v.envelope
