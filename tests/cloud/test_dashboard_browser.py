"""The dashboard end to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
the page loads with no outside requests, vehicles move, an operator override is issued and shows
in the audit log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloud.auth import Role
from cloud.settings import Settings
from tests.cloud.helpers import serve, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.mqtt, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def test_dashboard(mqtt_broker: tuple[str, int], tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/services installs Debian's chromium")
    from playwright.async_api import async_playwright

    host, port = mqtt_broker
    async with serve(Settings(mqtt=f"mqtt://{host}:{port}")) as srv:
        assert srv.runtime.scenarios is not None
        srv.runtime.scenarios.start("rush", seed=5)
        await wait_for(lambda: len(srv.runtime.state.picture.tracks) > 0, 90, "tracks in the picture")
        token = srv.token(Role.OPERATOR)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 800})
                outside: list[str] = []
                page.on(
                    "request",
                    lambda r: (
                        outside.append(r.url) if not r.url.startswith((srv.url, "ws://127.0.0.1", "data:")) else None
                    ),
                )
                await page.goto(f"{srv.url}/#token={token}")
                await page.wait_for_function(
                    "window.xj.picture && window.xj.picture.vehicles.id.length > 0", timeout=60_000
                )
                first = await page.evaluate("JSON.stringify(window.xj.picture.vehicles)")

                async def moved() -> bool:
                    now = await page.evaluate("JSON.stringify(window.xj.picture.vehicles)")
                    return now != first

                await wait_for(moved, 60, "vehicle positions to change in the page")
                moved_ids = await page.evaluate(
                    """() => { const v = window.xj.picture.vehicles; return v.id.length; }"""
                )
                assert moved_ids > 0
                assert await page.is_visible("#override-panel")
                await page.select_option("#ovr-junction", "J1_1")
                await page.select_option("#ovr-kind", "all_red")
                await page.fill("#ovr-duration", "30")
                await page.fill("#ovr-reason", "browser test: hold for a funeral procession")
                await page.click("#ovr-submit")
                await page.wait_for_function(
                    "document.getElementById('override-result').textContent.startsWith('accepted')", timeout=30_000
                )
                await page.wait_for_function(
                    """Array.from(document.querySelectorAll('#audit-list li')).some(
                         li => li.textContent.includes('override') && li.textContent.includes('J1_1')
                               && li.textContent.includes('funeral procession'))""",
                    timeout=30_000,
                )
                await page.screenshot(path=str(tmp_path / "dashboard.png"))
                if os.environ.get("XJ_SCREENSHOT"):
                    await page.screenshot(path=os.environ["XJ_SCREENSHOT"])
                assert outside == [], outside
            finally:
                await browser.close()
        audit = srv.runtime.audit.recent()
        assert any(e["action"].startswith("override") and e["actor"] == "test-operator" for e in audit)


async def test_dashboard_hides_operator_panels_from_viewers(mqtt_broker: tuple[str, int]) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/services installs Debian's chromium")
    from playwright.async_api import async_playwright

    host, port = mqtt_broker
    async with serve(Settings(mqtt=f"mqtt://{host}:{port}")) as srv, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = await browser.new_page()
            await page.goto(f"{srv.url}/#token={srv.token(Role.VIEWER)}")
            await page.wait_for_function("window.xj.map !== null", timeout=30_000)
            assert not await page.is_visible("#override-panel")
            assert not await page.is_visible("#audit-panel")
        finally:
            await browser.close()
