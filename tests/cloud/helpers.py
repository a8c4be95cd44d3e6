"""Shared helpers of the cloud tests: a platform served on a free port in the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from cloud.api import create_app
from cloud.auth import Role
from cloud.runtime import Runtime
from cloud.settings import Settings
from tests.support import free_port


class _QuietServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


@dataclass
class Served:
    """A platform served on ``url`` with its runtime."""

    url: str
    runtime: Runtime

    def token(self, role: Role = Role.OPERATOR, vehicle_id: str | None = None) -> str:
        return self.runtime.tokens.issue(f"test-{role.value}", role, vehicle_id=vehicle_id)

    def headers(self, role: Role = Role.OPERATOR, vehicle_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, vehicle_id)}"}


@contextlib.asynccontextmanager
async def serve(settings: Settings, *, live: bool = True) -> AsyncIterator[Served]:
    """Serve the app for ``settings`` on 127.0.0.1:<free port> until the block ends."""
    port = free_port()
    settings = settings.model_copy(update={"port": port, "host": "127.0.0.1"})
    app = create_app(settings, live=live)
    server = _QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: server.started or task.done(), 60.0, "the platform to start")
        if task.done():
            await task
            raise RuntimeError("the platform stopped during start-up")
        yield Served(f"http://127.0.0.1:{port}", app.state.runtime)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60.0)


async def wait_for(cond: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    """Poll ``cond()`` until it is truthy (returns it); fails after ``timeout`` s naming ``what``."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if isinstance(v, Awaitable):
            v = await v
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(step)
