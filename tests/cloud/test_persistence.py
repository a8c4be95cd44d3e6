"""With a database: the live picture, advisories and the audit log land in the store, history
answers by time window, and a stored window replays through a fresh core."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from cloud.auth import Role
from cloud.settings import Settings
from tests.cloud.helpers import serve, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]


async def test_history_audit_and_replay(mqtt_broker: tuple[str, int], pg_url: str, tmp_path: Path) -> None:
    host, port = mqtt_broker
    settings = Settings(mqtt=f"mqtt://{host}:{port}", db=pg_url, spool_dir=tmp_path / "spool")
    t_start = time.time()
    async with serve(settings) as srv, httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
        eng, op = srv.headers(Role.ENGINEER), srv.headers(Role.OPERATOR)
        ready = (await http.get("/readyz")).json()
        assert ready["checks"]["database"] is True
        assert (await http.post("/api/v1/sim", json={"scenario": "rush"}, headers=eng)).status_code == 201

        async def rows(kind: str) -> int:
            r = await http.get(f"/api/v1/history/{kind}", params={"from": t_start, "to": time.time() + 1}, headers=op)
            assert r.status_code == 200, r.text
            return int(r.json()["count"])

        await wait_for(lambda: rows("tracks"), 120, "tracks in the store", step=1.0)
        await wait_for(lambda: rows("advisories"), 120, "advisories in the store", step=1.0)
        await wait_for(lambda: rows("signal_states"), 60, "signal states in the store", step=1.0)
        r = await http.post(
            "/api/v1/overrides",
            json={"junction_id": "J0_0", "kind": "hold", "duration_s": 20, "reason": "stored audit"},
            headers=op,
        )
        assert r.status_code == 201

        async def stored_audit() -> bool:
            r = await http.get("/api/v1/history/audit", params={"from": t_start, "to": time.time() + 1}, headers=op)
            return any(e["reason"] == "stored audit" for e in r.json()["items"])

        await wait_for(stored_audit, 60, "the override in the stored audit log", step=1.0)
        await wait_for(lambda: rows("overrides"), 60, "the override row", step=1.0)
        t_end = time.time()
        await http.delete("/api/v1/sim", headers=eng)
        assert srv.runtime.store is not None
        await srv.runtime.store.writer.flush(30)
        job = (await http.post("/api/v1/replay", json={"from": t_start, "to": t_end}, headers=eng)).json()

        async def finished() -> dict[str, object] | None:
            j = (await http.get(f"/api/v1/replay/{job['job_id']}", headers=eng)).json()
            return j if j["status"] in ("done", "failed") else None

        done = await wait_for(finished, 120, "the replay to finish", step=0.5)
        assert done["status"] == "done", done
        result = done["result"]
        assert isinstance(result, dict)
        assert result["detections"] > 0 and result["ticks"] > 0 and result["max_tracks"] > 0
