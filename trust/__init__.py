"""Trust: pseudonymous identities, signed device frames, a tamper-evident audit log."""

from trust.audit import AuditChain, ChainBreak, entry_hash, verify_chain
from trust.frames import SignedFrames
from trust.identities import LiveIdentities, VaultRecord
from trust.pseudonyms import Pseudonymizer, PseudonymVault
from trust.signing import (
    DeviceKey,
    FrameVerifier,
    KeyRegistry,
    Verdict,
    generate_key,
    parse_public,
    public_bytes,
    sign_envelope,
)

__all__ = [
    "AuditChain",
    "ChainBreak",
    "DeviceKey",
    "FrameVerifier",
    "KeyRegistry",
    "LiveIdentities",
    "PseudonymVault",
    "Pseudonymizer",
    "SignedFrames",
    "VaultRecord",
    "Verdict",
    "entry_hash",
    "generate_key",
    "parse_public",
    "public_bytes",
    "sign_envelope",
    "verify_chain",
]
