"""A broker outage: the platform keeps ticking and answering, says it is not ready, and
reconnects (ingest and the downlink publisher) when the broker is back."""

from __future__ import annotations

import httpx
import pytest

from cloud.broker import demo_broker
from cloud.settings import Settings
from tests.cloud.helpers import serve, wait_for
from tests.support import free_port

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]


async def test_broker_restart() -> None:
    port = free_port()
    async with demo_broker(port, prefer="mosquitto") as broker:
        assert broker.kind == "mosquitto"
        settings = Settings(mqtt=broker.url, mqtt_protocol=broker.protocol)
        async with serve(settings) as srv, httpx.AsyncClient(base_url=srv.url, timeout=10) as http:
            await wait_for(lambda: srv.runtime.state.readiness.ready, 60, "ready with the broker up")
            assert srv.runtime.pipeline is not None
            pipeline = srv.runtime.pipeline
            assert broker.process is not None
            broker.process.terminate()
            broker.process.wait(10)
            await wait_for(lambda: not pipeline.ingest.connected.is_set(), 60, "ingest to notice the outage")

            async def not_ready() -> bool:
                return (await http.get("/readyz")).status_code == 503

            await wait_for(not_ready, 60, "/readyz to report the outage")
            tick = srv.runtime.state.tick
            await wait_for(lambda: srv.runtime.state.tick > tick + 10, 30, "ticks to continue during the outage")
            assert (await http.get("/healthz")).status_code == 200
            async with demo_broker(port, prefer="mosquitto"):

                async def ready() -> bool:
                    return (await http.get("/readyz")).status_code == 200

                await wait_for(ready, 90, "/readyz after the broker came back")
                assert pipeline.publisher.connected
