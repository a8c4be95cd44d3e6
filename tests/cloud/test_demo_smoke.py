"""``xj demo --duration 20`` on free ports: it prints a URL and an operator token, the dashboard
page and the live picture answer, vehicles move, and it stops cleanly on its own."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest

from tests.cloud.helpers import wait_for
from tests.support import free_port

pytestmark = [pytest.mark.slow]
XJ = Path(sys.executable).parent / "xj"


@pytest.mark.parametrize("broker", ["auto", "amqtt"], ids=["mosquitto-or-existing", "embedded-amqtt"])
async def test_demo(broker: str) -> None:
    port, mqtt_port = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        str(XJ), "demo", "--duration", "20", "--port", str(port), "--mqtt-port", str(mqtt_port),
        "--no-db", "--broker", broker,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    token = ""
    try:
        async with asyncio.timeout(180):  # start-up on a loaded machine
            while not token:
                line = (await proc.stdout.readline()).decode()
                assert line, "xj demo exited early:\n" + "".join(lines)
                lines.append(line)
                if "operator token:" in line:
                    token = line.split("operator token:", 1)[1].strip()
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/#token=" in text
        h = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            page = await http.get("/")
            assert page.status_code == 200 and "<canvas" in page.text

            async def vehicles() -> dict[str, list[float]] | None:
                v = (await http.get("/api/v1/picture", headers=h)).json()["vehicles"]
                return v if v["id"] else None

            first = await wait_for(vehicles, 15, "vehicles in the demo's picture", step=0.5)

            async def moved() -> bool:
                now = await vehicles()
                return now is not None and json.dumps(now["x"]) != json.dumps(first["x"])

            await wait_for(moved, 10, "vehicles to move", step=0.3)
        async with asyncio.timeout(180):
            rest = (await proc.stdout.read()).decode()
            code = await proc.wait()
        assert code == 0, text + rest
        assert "xj demo: stopped" in rest
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
