"""``xj ingest run``: the ingest service on its own, printing what it receives (uvloop)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import time
from pathlib import Path

import uvloop

from ingest.limits import Limits
from ingest.service import IngestService
from roadnet.frames import DEFAULT_ORIGIN, Frame

PASSWORD_ENV = "XJ_MQTT_PASSWORD"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``xj ingest ...`` to the ``xj`` parser."""
    p = sub.add_parser("ingest", help="MQTT ingest: decode, validate and batch the uplinks")
    isub = p.add_subparsers(dest="ingest_command", metavar="SUBCOMMAND", required=True)
    run = isub.add_parser("run", help="run the ingest service and print a status line per period")
    run.add_argument("--host", default="127.0.0.1", help="broker host (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=1883, help="broker port (default 1883)")
    run.add_argument("--username", default=None, help="broker username, e.g. xj-platform")
    run.add_argument(
        "--password-file", type=Path, default=None, help=f"file holding the password (else ${PASSWORD_ENV})"
    )
    run.add_argument("--client-id", default=None, help="MQTT client id")
    run.add_argument("--share", default=None, help="MQTT 5 shared-subscription group for scale-out workers")
    run.add_argument("--topic", action="append", default=None, help="topic filter (repeatable; default all uplinks)")
    run.add_argument(
        "--origin", default=f"{DEFAULT_ORIGIN[0]},{DEFAULT_ORIGIN[1]}", help="LAT,LON of the local frame's origin"
    )
    run.add_argument("--tick", type=float, default=0.1, help="batch period, s (default 0.1)")
    run.add_argument("--every", type=float, default=5.0, help="status line period, s (default 5)")
    run.add_argument("--duration", type=float, default=math.inf, help="stop after this many s (default: never)")
    run.add_argument("--metrics", action="store_true", help="print the Prometheus text at the end")
    run.set_defaults(func=_run)


def _error(msg: str) -> int:
    print(f"xj: error: {msg}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    try:
        lat, lon = (float(v) for v in args.origin.split(","))
    except ValueError:
        return _error(f"--origin must be LAT,LON in degrees, e.g. 28.1946,112.968; got {args.origin!r}")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return _error(f"--origin {args.origin} is not a position on Earth")
    if args.tick <= 0 or args.every <= 0:
        return _error("--tick and --every must be positive")
    password = os.environ.get(PASSWORD_ENV)
    if args.password_file is not None:
        try:
            password = args.password_file.read_text().strip()
        except OSError as exc:
            return _error(f"cannot read --password-file: {exc}")
    svc = IngestService(
        frame=Frame.around(lat, lon),
        hostname=args.host,
        port=args.port,
        identifier=args.client_id,
        username=args.username,
        password=password,
        subscriptions=args.topic,
        share=args.share,
        limits=Limits(),
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(_serve(svc, args.tick, args.every, args.duration))
    if args.metrics:
        sys.stdout.write(svc.prometheus())
    return 0


async def _serve(svc: IngestService, tick: float, every: float, duration: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + duration
    next_line = loop.time() + every
    det = rep = 0
    async with svc:
        async for batch in svc.batches(tick):
            det += len(batch.detections)
            rep += len(batch.reports)
            now = loop.time()
            if now >= next_line or now >= end:
                next_line += every
                m = svc.pipeline.metrics
                bad = ", ".join(f"{r.value}={n}" for r, n in m.rejected.items() if n) or "none"
                print(
                    f"{time.strftime('%H:%M:%S')} {'connected' if svc.connected.is_set() else 'DISCONNECTED'}"
                    f" {m.rate:.0f} msg/s, received {m.received}, detections {det}, reports {rep},"
                    f" lateness p50 <= {m.lateness_quantile(0.5):g} ms, p99 <= {m.lateness_quantile(0.99):g} ms,"
                    f" rejected: {bad}",
                    flush=True,
                )
            if now >= end:
                return
