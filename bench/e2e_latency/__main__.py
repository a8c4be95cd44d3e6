"""``python -m bench.e2e_latency [--quick] [--seconds S] [--no-db] [--out FILE]``."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
from dataclasses import asdict
from pathlib import Path

from bench.e2e_latency.run import E2EResult, private_broker, run


def main() -> int:
    """Run, print the summary, save JSON."""
    p = argparse.ArgumentParser(prog="python -m bench.e2e_latency", description=__doc__)
    p.add_argument("--quick", action="store_true", help="15 s of load, a smaller writer comparison")
    p.add_argument("--seconds", type=float, default=None, help="measured seconds of load (default 60, quick 15)")
    p.add_argument("--rsus", type=int, default=50, help="RSUs publishing at 10 Hz (default 50 = 500 frames/s)")
    p.add_argument("--objects", type=int, default=20, help="detections per frame (default 20)")
    p.add_argument("--obus", type=int, default=100, help="connected vehicles sending 10 Hz BSMs (default 100)")
    p.add_argument(
        "--mqtt-port",
        type=int,
        default=None,
        help="use the broker already on this port instead of a private Mosquitto tuned as deployed "
        "(set_tcp_nodelay; without it Nagle's algorithm adds up to ~40 ms to small messages)",
    )
    p.add_argument("--no-db", action="store_true", help="platform without persistence; skip the writer comparison")
    p.add_argument("--nice", type=int, default=0, help="run the platform at this niceness (< 0 needs root)")
    p.add_argument("--out", default="bench/e2e_latency/result.json", help="where the JSON goes")
    args = p.parse_args()
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    with private_broker() if args.mqtt_port is None else contextlib.nullcontext(args.mqtt_port) as mqtt_port:
        r = _run(args, seconds, mqtt_port)
    print(r.summary())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(r).items()}
    out.write_text(json.dumps(clean, indent=2) + "\n")
    print(f"saved {out}")
    return 0


def _run(args: argparse.Namespace, seconds: float, mqtt_port: int) -> E2EResult:
    if args.mqtt_port is None:
        print(f"broker: a private Mosquitto on port {mqtt_port}, tuned as deployed (set_tcp_nodelay)")
    else:
        print(f"broker: the one on port {mqtt_port}, as it is configured")
    return run(
        seconds=seconds,
        warmup=10.0,
        rsus=args.rsus,
        objects=args.objects,
        obus=args.obus,
        mqtt_port=mqtt_port,
        admin_url=None if args.no_db else "postgresql://postgres@127.0.0.1:5432/postgres",
        writer_rows=100_000 if args.quick else 200_000,
        writer_runs=2 if args.quick else 3,
        nice=args.nice,
    )


if __name__ == "__main__":
    raise SystemExit(main())
