"""CPU profile of the platform's tick under the design load, in-process.

``python -m bench.e2e_latency.profile_tick [--seconds S] [--out FILE.prof] [--no-cprofile]``

The same load as the benchmark (:class:`bench.e2e_latency.load.DesignLoad`, 500 frames/s, BSMs,
SPaT) is generated in this process and fed straight to ingest's pipeline (no broker on the way
in); the platform (:class:`cloud.pipeline.LivePipeline`, as ``xj serve`` wires it) drains and
ticks every 100 ms and publishes to the real broker. CPU time of each stage (thread time, robust
to other work on the machine, unlike wall time) is printed per tick, then the cProfile of the
ticks. ``feed`` is ingest's decoding of one period's messages (the socket reading in front of it
is not included: see ``ingest/fastread.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections import defaultdict
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from bench.e2e_latency.load import DesignLoad
from cloud.mqtt import make_ingest
from cloud.pipeline import LivePipeline
from cloud.runtime import base_runtime
from cloud.settings import Settings
from roadnet import grid


class _Capture:
    """Stands for the load's paho client: keeps what would be published."""

    def __init__(self) -> None:
        self.out: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> Any:
        self.out.append((topic, payload))
        return mqtt.MQTTMessageInfo(0)


async def _main(seconds: float, mqtt_url: str, out: str | None, profile: bool) -> None:
    net = grid(5, 5)
    settings = Settings.model_validate({"mqtt": mqtt_url})
    rt = base_runtime(settings, net)
    ingest = make_ingest(settings, net, trust=rt.trust)
    pipe = LivePipeline(settings, rt.core, rt.state, rt.registry, ingest=ingest, trust=rt.trust)
    pub_task = asyncio.create_task(pipe.publisher.run())
    for _ in range(100):
        if pipe.publisher.connected:
            break
        await asyncio.sleep(0.05)
    load = DesignLoad(net, host="", port=0)
    load.warm()
    cap = _Capture()
    feed = ingest.pipeline.feed
    # stage CPU time: wrap the core's stages and the publisher
    cpu: dict[str, list[float]] = defaultdict(list)
    core = rt.core

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            c0 = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                cpu[name].append(time.thread_time() - c0)

        return wrapper

    for obj, attr, name in (
        (core.tracker, "step", "fusion"),
        (core.picture_builder, "build", "picture"),
        (core.decider, "decide", "control"),
        (core.decider, "spat", "control_spat"),
        (getattr(core.decider, "glosa", None), "advisories", "control: glosa"),
        (getattr(core.decider, "tsp", None), "calls", "control: tsp calls"),
        (getattr(core.decider, "tsp", None), "decide", "control: tsp decide"),
        (getattr(core.decider, "tracker", None), "update", "control: tracker"),
        (getattr(core.decider, "router", None), "advisories", "control: routing"),
    ):
        if hasattr(obj, attr):
            setattr(obj, attr, timed(name, getattr(obj, attr)))
    import cloud.pipeline as cp

    cp.decision_downlinks = timed("encode", cp.decision_downlinks)
    cp.spat_downlinks = timed("encode_spat", cp.spat_downlinks)
    orig_publish = pipe.publisher.publish

    async def publish(msgs: list[tuple[str, str, bytes]], basis_ns: int = 0) -> int:
        c0 = time.thread_time()
        n = await orig_publish(msgs, basis_ns)
        cpu["publish"].append(time.thread_time() - c0)
        return n

    pipe.publisher.publish = publish  # type: ignore[method-assign,assignment]
    pipe._account = timed("account", pipe._account)  # type: ignore[method-assign]
    prof = cProfile.Profile()
    slots = 10
    n_ticks = int(seconds / settings.tick_s)
    warm = 20
    feed_cpu: list[float] = []
    tick_cpu: list[float] = []
    loop = asyncio.get_running_loop()
    due = loop.time()
    for i in range(n_ticks + warm):
        # one period of load, fed as it would arrive (receive time now)
        cap.out.clear()
        _one_period(load, cap, slots)
        c0 = time.thread_time()
        now = time.time_ns()
        for tp, payload in cap.out:
            feed(tp, payload, now)
        feed_cpu.append(time.thread_time() - c0)
        if i == warm:
            for v in cpu.values():
                v.clear()
            feed_cpu.clear()
            tick_cpu.clear()
        if i >= warm and profile:
            prof.enable()
        c0 = time.thread_time()
        await pipe.tick_once()
        tick_cpu.append(time.thread_time() - c0)
        if i >= warm and profile:
            prof.disable()
        due += settings.tick_s
        await asyncio.sleep(max(0.0, due - loop.time()))
    pub_task.cancel()
    await pipe.publisher.close()
    print(f"{n_ticks} ticks; thread CPU ms per tick, mean / p50 / p99 ({'cProfile on' if profile else 'no profiler'}):")
    for name, v in [("feed (ingest decode)", feed_cpu), ("tick total", tick_cpu), *cpu.items()]:
        a = np.asarray(v) * 1e3
        print(f"  {name:22s} {a.mean():7.2f} {np.percentile(a, 50):7.2f} {np.percentile(a, 99):7.2f}")
    m = ingest.pipeline.metrics
    print(f"ingest received {m.received}, rejected {dict((k.value, v) for k, v in m.rejected.items() if v)}")
    if not profile:
        return
    st = pstats.Stats(prof)
    if out:
        st.dump_stats(out)
    st.sort_stats("cumulative").print_stats(45)
    st.sort_stats("tottime").print_stats(30)


def _one_period(load: DesignLoad, cap: _Capture, slots: int) -> None:
    """One period of the load into ``cap``, all sub-ticks at once."""
    for k in range(slots):
        load.publish_slot(cap, k, slots)  # type: ignore[arg-type]


def main() -> int:
    """Run and print."""
    p = argparse.ArgumentParser(prog="python -m bench.e2e_latency.profile_tick", description=__doc__)
    p.add_argument("--seconds", type=float, default=20.0, help="profiled seconds of ticks (default 20)")
    p.add_argument("--mqtt", default="mqtt://127.0.0.1:1883", help="broker the downlinks go to")
    p.add_argument("--out", default=None, help="save the cProfile stats here")
    p.add_argument("--no-cprofile", action="store_true", help="only the CPU time per stage, no cProfile")
    a = p.parse_args()
    asyncio.run(_main(a.seconds, a.mqtt, a.out, not a.no_cprofile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
