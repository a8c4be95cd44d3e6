"""The trust stage through the running platform, the real Mosquitto and PostgreSQL: an engineer
registers and rotates a device key and the device's bad frames are rejected and counted; a
vehicle is stored only under its pseudonym and an operator's lookup of it is audited; its owner
revokes consent through the API and nothing of it remains; the audit chain verifies."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiomqtt
import httpx
import numpy as np
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization

import proto
from cloud.auth import Role
from cloud.settings import Settings
from proto import pb, topics
from tests.cloud.helpers import Served, serve, wait_for
from tests.trust.helpers import mentions
from trust import generate_key, sign_envelope
from trust.signing import PrivateKey

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _pem(key: PrivateKey) -> str:
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pub.decode()


def _frame(srv: Served, rsu: str, seq: int, t_ns: int) -> pb.Envelope:
    lat, lon = srv.runtime.net.frame.to_wgs84(np.array([5.0]), np.array([5.0]))
    det = np.zeros(1, dtype=proto.PERCEPTION_DTYPE)
    det["lat"], det["lon"], det["cls"], det["confidence"] = lat, lon, pb.OBJECT_CLASS_CAR, 1.0
    return proto.envelope(rsu, seq, sent_ns=t_ns, perception=proto.array_to_perception(det, rsu, t_ns))


def _bsm(srv: Served, vehicle: str, seq: int, t_ns: int) -> bytes:
    lat, lon = srv.runtime.net.frame.to_wgs84(np.array([0.0]), np.array([float(seq)]))
    b = pb.Bsm(
        vehicle_id=vehicle,
        measured_ns=t_ns,
        lat_e7=round(float(lat[0]) * 1e7),
        lon_e7=round(float(lon[0]) * 1e7),
        speed_002=250,
        object_class=pb.OBJECT_CLASS_BUS,
        length_cm=1200,
        width_cm=250,
    )
    return proto.envelope(vehicle, seq, sent_ns=t_ns, bsm=b).SerializeToString()


async def test_keys_pseudonyms_lookup_revocation_and_audit(
    mqtt_broker: tuple[str, int], pg_url: str, tmp_path: Path, uid: str
) -> None:
    host, port = mqtt_broker
    settings = Settings(mqtt=f"mqtt://{host}:{port}", db=pg_url, spool_dir=tmp_path / "spool")
    rsu, car = f"rsu-{uid}", f"car-{uid}"
    async with (
        serve(settings) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=30) as http,
        aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5) as pub,
    ):
        eng, op = srv.headers(Role.ENGINEER), srv.headers(Role.OPERATOR)

        async def metric(name: str) -> float:
            return _metric((await http.get("/metrics")).text, name)

        async def grew(name: str, before: float) -> bool:
            return await metric(name) > before

        def rejected(reason: str) -> str:
            return f'xj_ingest_messages_rejected_total{{reason="{reason}"}}'

        # -- an RSU registered as signing (engineer), then its frames -------------------------
        old, new = generate_key("ed25519"), generate_key("p256")
        r = await http.post(
            f"/api/v1/devices/{rsu}/keys", json={"key_id": "2026a", "public_key": _pem(old)}, headers=eng
        )
        assert r.status_code == 201 and r.json()["algorithm"] == "ed25519" and r.json()["device"] == f"rsu/{rsu}"
        bad = await http.post(
            f"/api/v1/devices/{rsu}/keys", json={"key_id": "x", "public_key": "nope" * 8}, headers=eng
        )
        assert bad.status_code == 422 and bad.json()["error"]["detail"][0]["where"] == "body.public_key"
        assert (
            await http.post(f"/api/v1/devices/{rsu}/keys", json={"key_id": "y", "public_key": _pem(old)}, headers=op)
        ).status_code == 403
        up = topics.topic("rsu", rsu, "perception", "up")
        now = time.time_ns()
        good = sign_envelope(_frame(srv, rsu, 1, now), old, "2026a")
        await pub.publish(up, good, qos=1)
        await pub.publish(up, good, qos=1)  # replayed
        await pub.publish(up, sign_envelope(_frame(srv, rsu, 2, now), generate_key(), "2026a"), qos=1)  # forged
        await pub.publish(up, _frame(srv, rsu, 3, now).SerializeToString(), qos=1)  # unsigned
        for reason in ("replay_duplicate", "bad_signature", "unsigned"):
            await wait_for(lambda reason=reason: metric(rejected(reason)), 30, f"a {reason} rejection")
        assert await metric('xj_ingest_messages_accepted_total{kind="perception"}') >= 1

        # rotation: the new key, then the old one retired
        r = await http.post(
            f"/api/v1/devices/{rsu}/keys",
            json={"key_id": "2026b", "public_key": _pem(new), "algorithm": "p256"},
            headers=eng,
        )
        assert r.status_code == 201
        assert (await http.delete(f"/api/v1/devices/{rsu}/keys/2026a", headers=eng)).status_code == 200
        assert (await http.delete(f"/api/v1/devices/{rsu}/keys/nope", headers=eng)).status_code == 404
        keys = (await http.get(f"/api/v1/devices/{rsu}/keys", headers=eng)).json()["items"]
        assert [(k["key_id"], k["valid_to"] is None) for k in keys] == [("2026a", False), ("2026b", True)]
        accepted = await metric('xj_ingest_messages_accepted_total{kind="perception"}')
        later = time.time_ns()
        await pub.publish(up, sign_envelope(_frame(srv, rsu, 4, later), old, "2026a"), qos=1)
        await pub.publish(up, sign_envelope(_frame(srv, rsu, 5, later), new, "2026b"), qos=1)
        await wait_for(lambda: metric(rejected("key_not_valid")), 30, "the retired key's frame rejected")
        await wait_for(
            lambda: grew('xj_ingest_messages_accepted_total{kind="perception"}', accepted), 30, "the new key's frame"
        )

        # -- a vehicle: stored under its pseudonym only, resolved by an operator (audited) --------
        keyed = srv.runtime.trust.pseudonymizer
        for seq in range(1, 11):
            await pub.publish(topics.topic("obu", car, "bsm", "up"), _bsm(srv, car, seq, time.time_ns()), qos=1)
            await asyncio.sleep(0.05)
        mine = keyed.pseudonym(car, time.time())

        def stored() -> int:
            with psycopg.connect(pg_url) as c:
                row = c.execute(
                    "SELECT (SELECT count(*) FROM vehicle_reports WHERE vehicle_pseudonym = %s)"
                    " * (SELECT count(*) FROM pseudonym_vault WHERE vehicle_pseudonym = %s)",
                    (mine, mine),
                ).fetchone()
            return int(row[0]) if row else 0

        await wait_for(stored, 60, "the vehicle's reports and vault record in the store", step=0.5)
        with psycopg.connect(pg_url) as c:
            assert mentions(c, [car]) == {}  # the real id is nowhere
        picture = (await http.get("/api/v1/picture", headers=op)).json()
        assert car not in str(picture)

        ask = {"pseudonym": mine, "reason": "incident 42: bus blocked the junction"}
        assert (
            await http.post("/api/v1/identity/resolve", json=ask, headers=srv.headers(Role.VIEWER))
        ).status_code == 403
        r = await http.post("/api/v1/identity/resolve", json=ask, headers=op)
        assert r.status_code == 200 and r.json()["vehicle_id"] == car
        srv.runtime.trust.identities._recent.clear()  # resolve from the database's vault as another process would
        r = await http.post("/api/v1/identity/resolve", json=ask, headers=op)
        assert r.status_code == 200 and r.json()["vehicle_id"] == car
        unknown = {"pseudonym": "p" + "a" * 16, "reason": "curious"}
        assert (await http.post("/api/v1/identity/resolve", json=unknown, headers=op)).status_code == 404

        # -- the owner revokes consent with the vehicle's own OBU token ---------------------------
        obu = srv.headers(Role.OBU, vehicle_id=car)
        assert (
            await http.post("/api/v1/revocations", json={"vehicle_id": "other", "reason": "x" * 3}, headers=obu)
        ).status_code == 403
        r = await http.post(
            "/api/v1/revocations", json={"vehicle_id": car, "reason": "owner withdrew consent"}, headers=obu
        )
        assert r.status_code == 201, r.text
        done = r.json()
        assert (
            done["stored"]
            and done["rows_deleted"]["vehicle_reports"] >= 1
            and done["rows_deleted"]["pseudonym_vault"] >= 1
        )
        revoked_before = await metric(rejected("revoked"))
        await pub.publish(topics.topic("obu", car, "bsm", "up"), _bsm(srv, car, 99, time.time_ns()), qos=1)
        await wait_for(lambda: grew(rejected("revoked"), revoked_before), 30, "the revoked vehicle's BSM dropped")
        await srv.runtime.store.writer.flush(30)  # type: ignore[union-attr]
        searched = keyed.all_pseudonyms(car, time.time() - 400 * 86_400, time.time())
        with psycopg.connect(pg_url) as c:
            assert mentions(c, [car, *searched]) == {}
        assert (await http.post("/api/v1/identity/resolve", json=ask, headers=op)).status_code == 404

        # -- the audit chain: every change and lookup, intact ------------------------------------
        async def chain() -> dict[str, object] | None:
            v = (await http.get("/api/v1/audit/verify", headers=op)).json()
            return v if v["ok"] and v["checked"] >= 8 else None

        verified = await wait_for(chain, 30, "the audit chain with every entry")
        assert verified["head"] and verified["broken"] is None
        with psycopg.connect(pg_url) as c:
            actions = [r[0] for r in c.execute("SELECT action FROM audit ORDER BY seq")]
            lookups = c.execute(
                "SELECT actor, role, target, reason, outcome FROM audit WHERE action = 'identity.resolve' ORDER BY seq"
            ).fetchall()
        assert actions[0] == "config.start"
        assert actions.count("config.device_key.register") == 2 and "config.device_key.retire" in actions
        assert actions.count("privacy.revoke") == 1
        assert [x[4] for x in lookups] == ["resolved", "resolved", "not_found", "not_found"]
        assert lookups[0][:4] == ("test-operator", "operator", keyed.reference(mine), ask["reason"])
