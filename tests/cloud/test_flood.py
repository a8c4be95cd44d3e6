"""A malformed-message flood on every topic of the tree leaves the platform healthy, ticking,
and counting what it set aside by reason."""

from __future__ import annotations

import asyncio
import os
import random

import aiomqtt
import httpx
import pytest

from cloud.settings import Settings
from proto import envelope, pb
from proto.topics import CHANNELS, ROOT, topic
from tests.cloud.helpers import serve, wait_for

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]


def _rejected(metrics: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in metrics.splitlines():
        if line.startswith("xj_ingest_messages_rejected_total{"):
            reason = line.split('reason="', 1)[1].split('"', 1)[0]
            out[reason] = float(line.rsplit(" ", 1)[1])
    return out


def _garbage(uid: str, rng: random.Random) -> list[tuple[str, bytes]]:
    msgs: list[tuple[str, bytes]] = []
    for i in range(40):
        for kind, channel, direction in sorted(CHANNELS):
            t = topic(kind, f"{uid}-{i % 7}", channel, direction)
            msgs.append((t, os.urandom(rng.randint(0, 600))))
    # right shape, wrong content: a body on the wrong channel, a sender that is not the topic's id,
    # a wrong schema version, an empty id level
    spat = envelope(f"{uid}-x", 1, spat=pb.Spat(junction_id=f"{uid}-x"))
    msgs += [(topic("rsu", f"{uid}-x", "perception", "up"), spat.SerializeToString())] * 20
    other = envelope("someone-else", 1, bsm=pb.Bsm(vehicle_id="someone-else"))
    msgs += [(topic("obu", f"{uid}-y", "bsm", "up"), other.SerializeToString())] * 20
    old = envelope(f"{uid}-z", 1, bsm=pb.Bsm(vehicle_id=f"{uid}-z"))
    old.schema_version = 99
    msgs += [(topic("obu", f"{uid}-z", "bsm", "up"), old.SerializeToString())] * 20
    msgs += [(f"{ROOT}/rsu//perception/up", b"\x00\x01")] * 20
    # one sender far above its rate
    msgs += [(topic("lamp", f"{uid}-flood", "status", "up"), b"\xff" * 50)] * 1500
    rng.shuffle(msgs)
    return msgs


async def test_garbage_on_every_topic(mqtt_broker: tuple[str, int], uid: str) -> None:
    host, port = mqtt_broker
    async with serve(Settings(mqtt=f"mqtt://{host}:{port}")) as srv, httpx.AsyncClient(base_url=srv.url) as http:
        await wait_for(lambda: srv.runtime.state.readiness.ready, 60, "readiness before the flood")
        msgs = _garbage(uid, random.Random(7))
        async with aiomqtt.Client(host, port, max_queued_outgoing_messages=100_000) as c:
            for k, (t, payload) in enumerate(msgs):
                await c.publish(t, payload, qos=0)
                if k % 500 == 499:
                    await asyncio.sleep(0)
        tick0 = srv.runtime.state.tick

        def counted() -> dict[str, float] | None:
            got = _rejected(srv.runtime.registry.render())
            want = ("decode_error", "unknown_body", "sender_mismatch", "schema_version", "rate_limited", "bad_topic")
            return got if all(got.get(r, 0) > 0 for r in want) else None

        reasons = await wait_for(counted, 60, "rejections counted by reason")
        assert sum(reasons.values()) >= len(msgs) // 2
        await wait_for(lambda: srv.runtime.state.tick > tick0 + 20, 60, "ticks to continue after the flood")
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert (
            "xj_tick_errors_total"
            not in "\n".join(
                line
                for line in (await http.get("/metrics")).text.splitlines()
                if not line.startswith("#") and line.endswith(" 0")
            )
            or True
        )
        errors = [
            line for line in (await http.get("/metrics")).text.splitlines() if line.startswith("xj_tick_errors_total{")
        ]
        assert errors == [], errors
