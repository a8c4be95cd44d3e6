"""The FastAPI application: routers, JSON errors, the dashboard, and the runtime lifespan."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from cloud.api import errors
from cloud.api.routes import (
    audit,
    auth,
    devices,
    engineering,
    events,
    health,
    history,
    identity,
    junctions,
    map,
    near,
    obu,
    overrides,
    picture,
    revocations,
)
from cloud.runtime import Runtime, open_runtime
from cloud.settings import Settings
from roadnet.model import RoadNetwork

STATIC = Path(__file__).resolve().parent.parent / "static"
ROUTERS = (
    health.router,
    auth.router,
    picture.router,
    junctions.router,
    events.router,
    overrides.router,
    history.router,
    audit.router,
    obu.router,
    near.router,
    engineering.router,
    map.router,
    identity.router,
    revocations.router,
    devices.router,
)


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, live: bool = True, net: RoadNetwork | None = None
) -> FastAPI:
    """The app; its lifespan opens a runtime from ``settings`` unless one is given (tests).

    Parameters
    ----------
    settings
        Platform settings.
    runtime
        A ready runtime to serve (the app does not start or stop it).
    live
        Start the MQTT pipeline in the lifespan (ignored with ``runtime``).
    net
        The map, already loaded (else loaded from the settings in the lifespan).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.runtime = runtime
            yield
            return
        async with open_runtime(settings, live=live, net=net) as rt:
            app.state.runtime = rt
            if not live:
                yield
                return
            # the modules, the map and the runtime live as long as the pipeline: frozen, the
            # collector's full passes skip them instead of walking them all in the middle of a tick
            gc.collect()
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()

    app = FastAPI(
        title="Xiangjiang V2X cloud control platform",
        version="1",
        lifespan=lifespan,
        description="Live traffic picture, signal overrides, advisories, parking, scenarios. "
        "Errors are JSON: {'error': {'reason', 'detail'}}.",
    )
    if runtime is not None:
        app.state.runtime = runtime
    errors.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    for r in ROUTERS:
        app.include_router(r)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
