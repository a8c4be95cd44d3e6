"""``xj serve``: the platform process (ingest -> fusion -> control -> MQTT, API, dashboard) on uvloop."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from cloud.settings import Settings


def settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    """Settings from the environment (``XJ_*``) with the command line on top.

    Raises
    ------
    cloud.cli.UserError
        When the settings are invalid; the message says which and how to fix it.
    """
    from cloud.cli import UserError

    given = {k: v for k, v in vars(args).items() if k in Settings.model_fields and v is not None}
    try:
        return Settings(**{**given, **extra})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise UserError(problems) from None
    except ValueError as exc:  # e.g. XJ_CONFIG naming a missing file
        raise UserError(str(exc)) from None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cloud.api import create_app
    from cloud.cli import UserError
    from cloud.wiring import load_city
    from roadnet import MapError

    settings = settings_from(args)
    try:
        net = load_city(settings.map, settings.city)
    except (MapError, OSError) as exc:
        raise UserError(f"{exc} (give a .xjmap or SUMO .net.xml file, or leave --map out)") from None
    app = create_app(settings, net=net)  # its lifespan freezes what lives as long as the pipeline
    uvicorn.run(app, host=settings.host, port=settings.port, loop="uvloop", lifespan="on", log_level="info")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``xj serve``."""
    p = sub.add_parser(
        "serve",
        help="run the platform: MQTT ingest -> fusion -> control -> publish, API and dashboard",
        description="Run the platform process. Every option can also be set as XJ_<NAME> in the environment.",
    )
    p.add_argument("--mqtt", help="broker URL, mqtt://[user:password@]host:port (XJ_MQTT)")
    p.add_argument("--mqtt-protocol", dest="mqtt_protocol", choices=["5", "3.1.1"], help="MQTT version (default 5)")
    p.add_argument("--db", help="PostgreSQL URL; leave out to run without persistence (XJ_DB)")
    p.add_argument("--map", help=".xjmap or SUMO .net.xml; default: the built-in generated city (XJ_MAP)")
    p.add_argument("--city", choices=["grid", "corridor"], help="built-in city when --map is not given")
    p.add_argument("--host", help="address of the HTTP API (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port of the HTTP API (default 8000)")
    p.add_argument("--tick", dest="tick_s", type=float, help="fusion/control period, s (default 0.1)")
    p.set_defaults(func=_serve)
