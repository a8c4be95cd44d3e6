"""CPU per message of the ingest service through a real Mosquitto, against plain aiomqtt consumers.

A separate process publishes ``--messages`` BSM envelopes (QoS 0, paho, as fast as it can) to a
topic of its own; this process consumes them three ways, one after the other, and measures its
own CPU time (``time.process_time``) from the first to the last message:

- ``ours``: :class:`ingest.IngestService` (aiomqtt 2 on uvloop, messages taken in aiomqtt's
  queue callback, fed to the pipeline, drained at 10 Hz);
- ``aiomqtt+feed``: the textbook ``async for message in client.messages`` loop feeding the
  same pipeline (the peer);
- ``aiomqtt-only``: the same loop doing nothing with the messages (the client's own cost).

Prints µs/message and ``ours/(aiomqtt+feed)``. Needs a broker (default 127.0.0.1:1883).

Run: ``.venv/bin/python -m bench.ingest_throughput.bench_broker [--messages 20000] [--runs 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import time
import uuid

import aiomqtt
import paho.mqtt.client as paho
import uvloop
from paho.mqtt.enums import CallbackAPIVersion

import proto
from ingest import IngestPipeline, IngestService, Limits, Rejection
from proto import pb
from roadnet.frames import DEFAULT_ORIGIN, Frame

FRAME = Frame.around(*DEFAULT_ORIGIN)
END = b"end"


def _payloads(prefix: str, n: int, vehicles: int) -> list[tuple[str, bytes]]:
    lat0, lon0 = DEFAULT_ORIGIN
    now = time.time_ns()
    out = []
    for i in range(n):
        vid = f"{prefix}{i % vehicles}"
        b = pb.Bsm(vehicle_id=vid, measured_ns=now, lat_e7=round(lat0 * 1e7), lon_e7=round(lon0 * 1e7), speed_002=500)
        out.append(
            (proto.topic("obu", vid, "bsm", "up"), proto.envelope(vid, i // vehicles, now, bsm=b).SerializeToString())
        )
    return out


def _publisher(host: str, port: int, prefix: str, n: int, go: mp.Event) -> None:  # type: ignore[valid-type]
    c = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    c.connect(host, port)
    c.loop_start()
    msgs = _payloads(prefix, n, 200)
    go.wait()  # type: ignore[attr-defined]
    for t, p in msgs:
        c.publish(t, p, qos=0)
    time.sleep(0.5)
    c.publish(f"v2x/v1/obu/{prefix}end/bsm/up", END, qos=1).wait_for_publish()
    c.loop_stop()
    c.disconnect()


class _TimedPipeline(IngestPipeline):
    """The pipeline, noting the CPU time at the first message and at the end marker."""

    def __init__(self, *, feed: bool) -> None:
        super().__init__(frame=FRAME, limits=Limits(rate_per_s=1e6, burst=1e6), std_decoder=None)
        self.do_feed = feed
        self.n = 0
        self.cpu0 = self.cpu1 = 0.0
        self.done = asyncio.Event()

    def feed(self, topic: str, payload: bytes, recv_ns: int) -> Rejection | None:
        if self.n == 0:
            self.cpu0 = time.process_time()
        if payload == END:
            self.cpu1 = time.process_time()
            self.done.set()
            return None
        self.n += 1
        return super().feed(topic, payload, recv_ns) if self.do_feed else None


async def _consume(mode: str, host: str, port: int, n: int) -> tuple[int, float, int]:
    """(messages received, CPU s from first to last, rejections) of one consumer."""
    prefix = f"b{uuid.uuid4().hex[:6]}-"
    sub = "v2x/v1/obu/+/bsm/up"
    pipeline = _TimedPipeline(feed=mode != "aiomqtt-only")
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    pub = ctx.Process(target=_publisher, args=(host, port, prefix, n, go))
    pub.start()

    async def drain() -> None:
        while True:
            await asyncio.sleep(0.1)
            pipeline.drain()

    async with asyncio.TaskGroup() as tg:
        ticks = tg.create_task(drain())
        if mode == "ours":
            async with IngestService(
                pipeline=pipeline, hostname=host, port=port, subscriptions=[sub], deadletter_topic=None
            ) as svc:
                await svc.wait_connected(30)
                go.set()
                await asyncio.wait_for(pipeline.done.wait(), 300)
        else:
            async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5) as client:
                await client.subscribe(sub)
                go.set()
                async for msg in client.messages:
                    assert isinstance(msg.payload, bytes)
                    pipeline.feed(msg.topic.value, msg.payload, time.time_ns())
                    if pipeline.done.is_set():
                        break
        ticks.cancel()
    pub.join(60)
    return pipeline.n, pipeline.cpu1 - pipeline.cpu0, pipeline.metrics.rejected_total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default=os.environ.get("XJ_TEST_MQTT_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("XJ_TEST_MQTT_PORT", "1883")))
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    best: dict[str, float] = {}
    for _ in range(args.runs):
        for mode in ("ours", "aiomqtt+feed", "aiomqtt-only"):
            got, cpu, rejected = uvloop.run(_consume(mode, args.host, args.port, args.messages))
            us = cpu / max(got, 1) * 1e6
            print(f"  {mode:13s} received {got:6d}/{args.messages}, rejected {rejected}, {us:6.1f} µs CPU/message")
            best[mode] = min(best.get(mode, float("inf")), us)
    print(f"BSM envelopes over loopback MQTT (QoS 0), best of {args.runs} runs, CPU of the consuming process:")
    for mode, us in best.items():
        print(f"  {mode:13s} {us:6.1f} µs/message")
    print(f"ours/(aiomqtt+feed) = {best['ours'] / best['aiomqtt+feed']:.2f}")


if __name__ == "__main__":
    main()
