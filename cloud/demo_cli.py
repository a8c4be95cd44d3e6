"""``xj demo``: broker, simulated city, platform and dashboard in one command, on a fresh machine.

Uses a broker already on localhost:--mqtt-port or starts one (:mod:`cloud.broker`); keeps
history in PostgreSQL only when one answers (``XJ_DB``, else a ``xiangjiang_demo`` database on
localhost:5432), otherwise runs without persistence; starts the city scenario in real time, and
prints the dashboard URL with an operator token. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Generator
from contextlib import contextmanager

import uvicorn

from cloud.auth import Role

LOG = logging.getLogger("xiangjiang.cloud.demo")
#: Longest a clean shutdown may take before the demo exits anyway, s.
SHUTDOWN_S = 45.0


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the demo owns Ctrl-C."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def demo_database(explicit: str | None) -> str | None:
    """A database URL for the demo, or None: ``explicit`` / ``XJ_DB`` when set, else a
    ``xiangjiang_demo`` database on localhost:5432 when a server answers there."""
    url = explicit or os.environ.get("XJ_DB")
    if url:
        return url
    from cloud.broker import listening

    if not listening("127.0.0.1", 5432):
        return None
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3) as c:
            if c.execute("SELECT 1 FROM pg_database WHERE datname = 'xiangjiang_demo'").fetchone() is None:
                c.execute("CREATE DATABASE xiangjiang_demo")
    except Exception as exc:
        LOG.warning("PostgreSQL on localhost:5432 is not usable (%s): running without persistence", exc)
        return None
    return "postgresql://postgres@127.0.0.1:5432/xiangjiang_demo"


async def run_demo(args: argparse.Namespace) -> int:
    """The demo's event loop body; returns the exit code."""
    from cloud.api import create_app
    from cloud.broker import demo_broker
    from cloud.runtime import Runtime
    from cloud.serve_cli import settings_from

    db = None if args.no_db else await asyncio.to_thread(demo_database, args.db)
    async with demo_broker(args.mqtt_port, prefer=args.broker) as broker:
        settings = settings_from(
            args,
            environment="demo",
            mqtt=broker.url,
            mqtt_protocol=broker.protocol,
            db=db,
            host=args.host,
            port=args.port,
        )
        app = create_app(settings)
        server = _Server(
            uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="on")
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                await task
                print("xj: error: the platform did not start (see the log above)", file=sys.stderr)
                return 1
            await asyncio.sleep(0.05)
        rt: Runtime = app.state.runtime
        assert rt.scenarios is not None
        rt.scenarios.start(args.scenario, seed=args.seed)
        token = rt.tokens.issue("demo-operator", Role.OPERATOR)
        url = f"http://{settings.host}:{settings.port}/"
        print(f"Xiangjiang demo: {rt.net.source}, {len(rt.net.tls_ids)} signalised junctions", flush=True)
        print(f"  broker     {broker.url} ({broker.kind}, MQTT {broker.protocol})", flush=True)
        print(f"  database   {db or 'none: running without persistence'}", flush=True)
        print(f"  dashboard  {url}#token={token}", flush=True)
        print(f"  API docs   {url}docs", flush=True)
        print(f"  operator token: {token}", flush=True)
        if rt.demo_password:
            print(f"  users operator/viewer/parking/obu/engineer, password: {rt.demo_password}", flush=True)
        print("Ctrl-C stops.", flush=True)
        end = None if args.duration is None else loop.time() + args.duration
        while not (server.should_exit or task.done() or (end is not None and loop.time() >= end)):
            await asyncio.sleep(0.2)
        server.should_exit = True
        done, _ = await asyncio.wait([task], timeout=SHUTDOWN_S)
        if not done:  # a client stuck in a disconnect handshake must not keep the demo alive
            print(f"xj demo: shutdown took longer than {SHUTDOWN_S:g} s; exiting", file=sys.stderr, flush=True)
            os._exit(1)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("xj demo: stopped", flush=True)
    return 0


def _demo(args: argparse.Namespace) -> int:
    import uvloop

    return uvloop.run(run_demo(args))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``xj demo``."""
    p = sub.add_parser(
        "demo",
        help="run broker, simulated city, platform and dashboard; prints the URL and an operator token",
        description="Everything on one machine with no set-up: an MQTT broker (the one on --mqtt-port, "
        "else a private one), the simulator in real time on a built-in city, the platform and its dashboard.",
    )
    p.add_argument("--port", type=int, default=8000, help="dashboard/API port (default 8000)")
    p.add_argument("--mqtt-port", type=int, default=1883, help="broker port: used when one answers, else started")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds (tests)")
    p.add_argument("--city", choices=["grid", "corridor"], default="grid", help="built-in city (default grid)")
    p.add_argument("--map", default=None, help="a map file instead of the built-in city")
    p.add_argument("--scenario", default="city", help="scenario to run: city or rush (default city)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the scenario")
    p.add_argument("--db", default=None, help="PostgreSQL URL (default XJ_DB, else localhost:5432 when reachable)")
    p.add_argument("--no-db", action="store_true", help="run without persistence even when a database answers")
    p.add_argument(
        "--broker", choices=["auto", "mosquitto", "amqtt"], default="auto", help="which broker to start when none runs"
    )
    p.set_defaults(func=_demo)
