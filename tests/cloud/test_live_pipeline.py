"""The running platform through the real Mosquitto: a simulated city publishes, the platform
fuses, decides and publishes advisories, commands reach the controllers, readiness holds."""

from __future__ import annotations

import asyncio

import aiomqtt
import httpx
import pytest

from cloud.auth import Role
from cloud.settings import Settings
from proto import pb, subscription
from tests.cloud.helpers import serve, wait_for

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_city_through_mosquitto(mqtt_broker: tuple[str, int]) -> None:
    host, port = mqtt_broker
    settings = Settings(mqtt=f"mqtt://{host}:{port}")
    async with serve(settings) as srv, httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
        eng, op = srv.headers(Role.ENGINEER), srv.headers(Role.OPERATOR)
        advisories: list[pb.Advisory] = []

        async def listen() -> None:
            async with aiomqtt.Client(host, port) as c:
                await c.subscribe(subscription("obu", "advisory", "down"))
                async for m in c.messages:
                    env = pb.Envelope.FromString(m.payload)  # type: ignore[arg-type]
                    if env.WhichOneof("body") == "advisory":
                        advisories.append(env.advisory)

        listener = asyncio.create_task(listen())
        r = await http.post("/api/v1/sim", json={"scenario": "rush", "seed": 3}, headers=eng)
        assert r.status_code == 201, r.text
        assert (await http.post("/api/v1/sim", json={"scenario": "city"}, headers=eng)).status_code == 409

        async def vehicles() -> int:
            return len((await http.get("/api/v1/picture", headers=op)).json()["vehicles"]["id"])

        await wait_for(vehicles, 90, "tracks in the live picture")
        await wait_for(lambda: advisories, 90, "an advisory on v2x/v1/obu/+/advisory/down")
        # GLOSA speed advice, and transit priority's grants to late buses of the rush hour
        assert all(a.vehicle_id and a.WhichOneof("kind") in ("speed", "priority") for a in advisories)
        vid = advisories[-1].vehicle_id
        obu = srv.headers(Role.OBU, vehicle_id=vid)
        await wait_for(lambda: http.get(f"/api/v1/obu/{vid}/advisories", headers=obu), 30, "the OBU's advisories")

        ready = (await http.get("/readyz")).json()
        assert ready["ready"] and ready["checks"]["database"] == "disabled"

        # an operator override reaches the controller: its SPaT comes back in override mode
        r = await http.post(
            "/api/v1/overrides",
            json={"junction_id": "J1_1", "kind": "all_red", "duration_s": 30, "reason": "incident clearance"},
            headers=op,
        )
        assert r.status_code == 201, r.text

        async def overridden() -> bool:
            sig = (await http.get("/api/v1/picture", headers=op)).json()["signals"].get("J1_1", {})
            return sig.get("mode") == "CONTROL_MODE_OVERRIDE"

        await wait_for(overridden, 60, "J1_1 reporting override mode")
        metrics = (await http.get("/metrics")).text
        assert _metric(metrics, "xj_sender_to_decision_seconds_count") > 0
        assert _metric(metrics, 'xj_published_total{channel="command"}') >= 1
        kpis = (await http.get("/api/v1/kpis", headers=op)).json()
        assert kpis["vehicles"] > 0 and kpis["sender_to_decision_ms_p99"] is not None
        stopped = (await http.delete("/api/v1/sim", headers=eng)).json()
        assert stopped["running"] is False and stopped["kpis"]["sim_time_s"] > 0
        listener.cancel()


async def test_rsus_get_spat_down(mqtt_broker: tuple[str, int]) -> None:
    """Each junction's RSU receives SPaT on v2x/v1/rsu/rsu-{junction}/spat/down."""
    host, port = mqtt_broker
    async with serve(Settings(mqtt=f"mqtt://{host}:{port}")) as srv:
        got: set[str] = set()

        async def listen() -> None:
            async with aiomqtt.Client(host, port) as c:
                await c.subscribe(subscription("rsu", "spat", "down"))
                async for m in c.messages:
                    env = pb.Envelope.FromString(m.payload)  # type: ignore[arg-type]
                    if env.sender_id == "xj-platform" and env.WhichOneof("body") == "spat":
                        got.add(m.topic.value.split("/")[3])

        listener = asyncio.create_task(listen())
        assert srv.runtime.scenarios is not None
        srv.runtime.scenarios.start("city", seed=2)
        want = {f"rsu-{j}" for j in srv.runtime.net.tls_ids}
        await wait_for(lambda: want <= got, 90, "SPaT on every junction's RSU downlink")
        await srv.runtime.scenarios.stop()
        listener.cancel()
