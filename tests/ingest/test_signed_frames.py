"""Signed device frames and pseudonymous vehicles through the real Mosquitto: a signing RSU's good
frames pass while its forged, replayed and unsigned ones are rejected and counted by reason; a
BSM's vehicle id is replaced by its pseudonym before batching; a revoked vehicle's BSMs are
dropped and counted."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import pytest

from ingest import IngestPipeline, IngestService, Limits, Reason
from proto import topics
from tests.ingest.messages import FRAME, bsm_env, obu_topic, perception_env
from trust import DeviceKey, FrameVerifier, KeyRegistry, LiveIdentities, Pseudonymizer, SignedFrames
from trust.signing import generate_key, public_bytes, sign_envelope

pytestmark = pytest.mark.mqtt
TIMEOUT = 60.0


async def _until_received(svc: IngestService, n: int) -> None:
    async with asyncio.timeout(TIMEOUT):
        while svc.pipeline.metrics.received < n:
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("algorithm", ["ed25519", "p256"])
async def test_signing_device_through_mosquitto(mqtt_broker: tuple[str, int], uid: str, algorithm: str) -> None:
    host, port = mqtt_broker
    rsu, other = f"{uid}-rsu", f"{uid}-plain"
    key = generate_key(algorithm)  # type: ignore[arg-type]
    reg = KeyRegistry()
    reg.register(f"rsu/{rsu}", DeviceKey("k1", public_bytes(key)))
    keyed = Pseudonymizer(b"k" * 32)
    pipeline = IngestPipeline(
        frame=FRAME,
        limits=Limits(max_age_s=60.0),
        signatures=SignedFrames(FrameVerifier(reg, max_age_s=30.0), LiveIdentities(keyed)),
    )
    subs = [topics.topic("rsu", d, "perception", "up") for d in (rsu, other)]
    async with IngestService(pipeline=pipeline, hostname=host, port=port, subscriptions=subs, qos=1) as svc:
        await svc.wait_connected(TIMEOUT)
        now = time.time_ns()
        good = [sign_envelope(perception_env(rsu, seq, now + seq), key, "k1") for seq in range(1, 6)]
        forged = bytearray(sign_envelope(perception_env(rsu, 10, now), key, "k1"))
        forged[forged.index(rsu.encode()) + 1] ^= 0x01  # the frame altered after signing (the sender id)
        stolen_id = sign_envelope(perception_env(rsu, 11, now), generate_key(algorithm), "k1")  # type: ignore[arg-type]
        old = sign_envelope(perception_env(rsu, 12, now - 120 * 10**9), key, "k1")
        unsigned = perception_env(rsu, 13, now).SerializeToString()
        plain = perception_env(other, 1, now).SerializeToString()  # not a signing device
        async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5) as pub:
            sent = [*good, bytes(forged), stolen_id, good[0], good[3], old, unsigned]
            for payload in sent:
                await pub.publish(subs[0], payload, qos=1)
            await pub.publish(subs[1], plain, qos=1)
        await _until_received(svc, len(sent) + 1)
        batch = svc.drain()
    m = pipeline.metrics
    assert m.accepted.get("perception") == len(good) + 1
    assert len(batch.detections) == 2 * (len(good) + 1)
    assert m.rejected[Reason.BAD_SIGNATURE] + m.rejected[Reason.DECODE_ERROR] == 2  # altered bytes may not parse
    assert m.rejected[Reason.REPLAY_DUPLICATE] == 2
    assert m.rejected[Reason.REPLAY_OLD] == 1 and m.rejected[Reason.UNSIGNED] == 1
    text = pipeline.prometheus()
    for reason in ("bad_signature", "replay_duplicate", "replay_old", "unsigned"):
        assert f'xj_ingest_messages_rejected_total{{reason="{reason}"}}' in text
    kept = {d.reason for d in pipeline.dead_letters.recent(20)}
    assert {Reason.REPLAY_DUPLICATE, Reason.UNSIGNED, Reason.REPLAY_OLD} <= kept  # evidence kept aside


async def test_vehicle_ids_become_pseudonyms_and_revoked_vehicles_are_dropped(
    mqtt_broker: tuple[str, int], uid: str
) -> None:
    host, port = mqtt_broker
    car, gone = f"{uid}-car", f"{uid}-gone"
    keyed = Pseudonymizer(b"k" * 32)
    ids = LiveIdentities(keyed)
    ids.revoke(gone, [])
    pipeline = IngestPipeline(frame=FRAME, limits=Limits(max_age_s=60.0), identities=ids)
    subs = [obu_topic(v) for v in (car, gone)]
    async with IngestService(pipeline=pipeline, hostname=host, port=port, subscriptions=subs, qos=1) as svc:
        await svc.wait_connected(TIMEOUT)
        now = time.time_ns()
        async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5) as pub:
            for seq in range(1, 4):
                await pub.publish(subs[0], bsm_env(car, seq, now + seq).SerializeToString(), qos=1)
                await pub.publish(subs[1], bsm_env(gone, seq, now + seq).SerializeToString(), qos=1)
        await _until_received(svc, 6)
        batch = svc.drain()
    names = set(batch.reports["vehicle_id"].tolist())
    assert names == {keyed.pseudonym(car, now / 1e9)}  # not the id, and nothing of the revoked one
    assert ids.real_id(next(iter(names))) == car  # the downlink can still reach it
    assert pipeline.metrics.rejected[Reason.REVOKED] == 3
    assert pipeline.dead_letters.recent(reason=Reason.REVOKED) == []
    assert [r.pseudonym for r in ids.take_vault_records()] == list(names)
