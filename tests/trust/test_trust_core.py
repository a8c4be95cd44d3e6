"""Pseudonyms, signed frames and the audit hash chain."""

from __future__ import annotations

import os

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag

import proto
from proto import pb
from trust import (
    AuditChain,
    DeviceKey,
    FrameVerifier,
    KeyRegistry,
    LiveIdentities,
    Pseudonymizer,
    PseudonymVault,
    verify_chain,
)
from trust.signing import generate_key, public_bytes, sign_envelope

DAY = 86_400.0


def test_pseudonyms_stable_within_a_period_and_unlinkable_across() -> None:
    p = Pseudonymizer(os.urandom(32), period_s=int(DAY))
    t0 = 20_000 * DAY + 100.0
    a = p.pseudonym("bus-17", t0)
    assert a == p.pseudonym("bus-17", t0 + 3600) == p.pseudonyms(["bus-17"], t0 + 80_000)[0]
    b = p.pseudonym("bus-17", t0 + DAY)
    assert a != b and a.startswith("p") and len(a) == 17
    # without the master secret another party maps the same id elsewhere
    other = Pseudonymizer(os.urandom(32), period_s=int(DAY))
    assert other.pseudonym("bus-17", t0) != a
    # distinct ids stay distinct
    ids = [f"veh-{i}" for i in range(5000)]
    assert len(set(p.pseudonyms(ids, t0))) == 5000
    assert p.all_pseudonyms("bus-17", t0, t0 + DAY) == [a, b]


def test_vault_round_trip_and_tamper() -> None:
    v = PseudonymVault(os.urandom(32))
    sealed = v.seal("pabc", "粤B12345")
    assert v.open("pabc", sealed) == "粤B12345"
    with pytest.raises(InvalidTag):
        v.open("pxyz", sealed)  # bound to its pseudonym
    with pytest.raises(InvalidTag):
        v.open("pabc", sealed[:-1] + bytes([sealed[-1] ^ 1]))


def _frame(seq: int, sent_ns: int) -> pb.Envelope:
    f = pb.PerceptionFrame(sensor_id="rsu-1", capture_ns=sent_ns, local_id=[1], lat_e7=[281946000], lon_e7=[1129680000])
    return proto.envelope("rsu-1", seq, sent_ns, perception=f)


@pytest.mark.parametrize("alg", ["ed25519", "p256"])
def test_signed_frames_forged_replayed_unsigned(alg: str) -> None:
    key = generate_key(alg)  # type: ignore[arg-type]
    reg = KeyRegistry()
    reg.register("rsu-1", DeviceKey("k1", public_bytes(key)))
    ver = FrameVerifier(reg, max_age_s=30.0)
    now = 1_800_000_000.0
    good = sign_envelope(_frame(1, int(now * 1e9)), key, "k1")
    v = ver.verify("rsu-1", good, now)
    assert v.ok and v.envelope is not None and v.envelope.perception.local_id[0] == 1
    # replayed: the same bytes again
    assert ver.verify("rsu-1", good, now + 0.1).reason == "replay_duplicate"
    # old timestamp
    old = sign_envelope(_frame(2, int((now - 100) * 1e9)), key, "k1")
    assert ver.verify("rsu-1", old, now).reason == "replay_old"
    # forged: content changed after signing
    tampered = bytearray(sign_envelope(_frame(3, int(now * 1e9)), key, "k1"))
    tampered[5] ^= 0x01
    assert ver.verify("rsu-1", bytes(tampered), now).reason in {"bad_signature", "malformed"}
    # signed by another key under the registered key id
    mallory = generate_key(alg)  # type: ignore[arg-type]
    assert ver.verify("rsu-1", sign_envelope(_frame(4, int(now * 1e9)), mallory, "k1"), now).reason == "bad_signature"
    assert ver.verify("rsu-1", sign_envelope(_frame(5, int(now * 1e9)), mallory, "k9"), now).reason == "unknown_key"
    # unsigned from a signing device
    assert ver.verify("rsu-1", _frame(6, int(now * 1e9)).SerializeToString(), now).reason == "unsigned"
    # a device that is not registered as signing may send unsigned frames
    assert ver.verify("rsu-2", _frame(7, int(now * 1e9)).SerializeToString(), now).ok


def test_key_rotation() -> None:
    old, new = generate_key(), generate_key()
    reg = KeyRegistry()
    reg.register("lamp-3", DeviceKey("2026a", public_bytes(old)))
    reg.register("lamp-3", DeviceKey("2026b", public_bytes(new)))
    ver = FrameVerifier(reg)
    now = 1_800_000_000.0
    assert ver.verify("lamp-3", sign_envelope(_frame(1, int(now * 1e9)), old, "2026a"), now).ok
    reg.retire("lamp-3", "2026a", at=now)
    assert ver.verify("lamp-3", sign_envelope(_frame(2, int(now * 1e9)), old, "2026a"), now).reason == "key_not_valid"
    assert ver.verify("lamp-3", sign_envelope(_frame(3, int(now * 1e9)), new, "2026b"), now).ok


def test_audit_chain_detects_edit_delete_insert() -> None:
    chain = AuditChain()
    for i in range(6):
        chain.append(
            when=1000 + i,
            who="op-li",
            role="operator",
            what="override.hold",
            target="J1_1",
            why=f"incident {i}",
            outcome="accepted",
            details={"phase": i},
        )
    assert verify_chain(chain.entries) is None
    edited = [dict(e) for e in chain.entries]
    edited[3]["why"] = "nothing happened"
    brk = verify_chain(edited)
    assert brk is not None and brk.index == 3 and "edited" in brk.reason
    deleted = [dict(e) for i, e in enumerate(chain.entries) if i != 2]
    brk = verify_chain(deleted)
    assert brk is not None and brk.index == 2
    # re-hashing the edited entry alone does not help: the next one no longer fits
    from trust.audit import entry_hash

    edited[3]["hash"] = entry_hash(edited[3]["prev_hash"], edited[3])
    brk = verify_chain(edited)
    assert brk is not None and brk.index == 4


def test_audit_chain_checked_from_an_anchor() -> None:
    chain = AuditChain()
    for i in range(5):
        chain.append(when=i, who="op", role="operator", what="x", target="t", why="w", outcome="ok", details=None)
    kept = chain.entries[2:]  # the first two removed on purpose (retention)
    assert verify_chain(kept) is not None  # not the whole log
    assert verify_chain(kept, anchor=None) is None
    edited = [dict(e) for e in kept]
    edited[1]["outcome"] = "refused"
    brk = verify_chain(edited, anchor=None)
    assert brk is not None and brk.index == 1 and brk.seq == 4


def test_live_identities_pseudonymise_map_back_and_revoke() -> None:
    p = Pseudonymizer(os.urandom(32), period_s=int(DAY))
    ids = LiveIdentities(p)
    t_ns = int(20_000 * DAY * 1e9)
    a = ids.pseudonym("bus-17", t_ns)
    assert a == p.pseudonym("bus-17", t_ns / 1e9) and ids.real_id(a) == "bus-17"
    arr = np.array(["bus-17", "car-2", "bus-17"])
    names, keep = ids.pseudonyms(arr, t_ns)
    assert names[0] == names[2] == a and names[1] != a and keep.all()
    records = ids.take_vault_records()
    assert [r.pseudonym for r in records] == [a, names[1]] and ids.take_vault_records() == []
    assert ids.vault.open(a, records[0].sealed) == "bus-17" and ids.sealed(a) == records[0].sealed
    # the next period: a new pseudonym and a new vault record
    b = ids.pseudonym("bus-17", t_ns + int(DAY * 1e9))
    assert b != a and [r.pseudonym for r in ids.take_vault_records()] == [b]
    tag = ids.revoke("bus-17", p.all_pseudonyms("bus-17", 20_000 * DAY, 20_001 * DAY))
    assert tag == p.revocation_tag("bus-17") and ids.is_revoked("bus-17")
    assert ids.pseudonym("bus-17", t_ns) is None and ids.real_id(a) is None and ids.real_id(b) is None
    names, keep = ids.pseudonyms(arr, t_ns)
    assert keep.tolist() == [False, True, False] and names[0] == ""
    assert {a, b} <= ids.revoked_pseudonyms and ids.revoked_dropped == 3
    # another process learns the revocation from storage
    other = LiveIdentities(p)
    assert other.pseudonym("bus-17", t_ns) == a
    assert other.load_revoked([tag]) == 1 and other.load_revoked([tag]) == 0
    assert other.real_id(a) is None and other.pseudonym("bus-17", t_ns) is None and a in other.revoked_pseudonyms


def test_unregistered_devices_pass_and_restarted_counters_are_no_replay() -> None:
    key = generate_key()
    reg = KeyRegistry()
    reg.register("rsu-1", DeviceKey("k1", public_bytes(key)))
    ver = FrameVerifier(reg, max_age_s=30.0)
    now = 1_800_000_000.0
    # a device with no key may sign or not: nothing to check it against
    assert ver.verify("rsu-9", sign_envelope(_frame(1, int(now * 1e9)), key, "k1"), now).ok
    assert ver.verify("rsu-1", sign_envelope(_frame(1, int(now * 1e9)), key, "k1"), now).ok
    # the device restarts its sequence numbers: new send times, signed by the key holder
    assert ver.verify("rsu-1", sign_envelope(_frame(1, int((now + 1) * 1e9)), key, "k1"), now + 1).ok
    # an exact copy within the window is a replay
    again = sign_envelope(_frame(2, int((now + 2) * 1e9)), key, "k1")
    assert ver.verify("rsu-1", again, now + 2).ok
    assert ver.verify("rsu-1", again, now + 20).reason == "replay_duplicate"
    assert ver.verify("rsu-1", again, now + 40).reason == "replay_old"


def test_public_keys_as_pem_base64_or_der() -> None:
    import base64

    from cryptography.hazmat.primitives import serialization

    from trust.signing import parse_public

    for alg in ("ed25519", "p256"):
        key = generate_key(alg)  # type: ignore[arg-type]
        der = public_bytes(key)
        pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert parse_public(pem.decode()) == parse_public(base64.b64encode(der).decode()) == parse_public(der) == der
        assert DeviceKey("k", der).algorithm == alg
    with pytest.raises(ValueError, match="PEM text or the base64"):
        parse_public("not a key!")
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_der = public_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only Ed25519 and ECDSA P-256"):
        parse_public(rsa_der)
