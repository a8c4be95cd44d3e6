"""Trust: pseudonymous identities, signed device frames, a tamper-evident audit log."""

from trust.audit import AuditChain, ChainBreak, entry_hash, verify_chain
from trust.pseudonyms import Pseudonymizer, PseudonymVault
from trust.signing import DeviceKey, FrameVerifier, KeyRegistry, Verdict, generate_key, public_bytes, sign_envelope

__all__ = [
    "AuditChain",
    "ChainBreak",
    "DeviceKey",
    "FrameVerifier",
    "KeyRegistry",
    "PseudonymVault",
    "Pseudonymizer",
    "Verdict",
    "entry_hash",
    "generate_key",
    "public_bytes",
    "sign_envelope",
    "verify_chain",
]
