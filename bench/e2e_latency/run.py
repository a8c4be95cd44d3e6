"""Orchestration: the platform (``xj serve`` in its own process, with a scratch database), the
design load, the advisory timer, the platform's own metrics, then the store writer against raw
COPY (``bench.store_writer``), all in one run."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from bench.e2e_latency.load import DesignLoad
from bench.e2e_latency.measure import AdvisoryTimer
from cloud.broker import listening, mosquitto_exe, mosquitto_process
from roadnet import grid, save_map


@dataclass
class E2EResult:
    """The numbers of one run (latencies ms, rates per second)."""

    seconds: float
    rsus: int
    frames_per_s: float
    detections_per_s: float
    bsms_per_s: float
    vehicles: int
    published: int
    received_by_platform: int
    input_loss: int
    rejected_by_reason: dict[str, float]
    advisories_received: int
    advisories_published: float
    advisory_loss: float
    advisory_p50_ms: float
    advisory_p99_ms: float
    advisory_max_ms: float
    platform_decision_p50_ms: float
    platform_decision_p99_ms: float
    tick_p50_ms: float
    tick_p99_ms: float
    detections_fused_per_s: float
    stage_p50_ms: dict[str, float] = field(default_factory=dict)
    platform_cpu_percent: float = float("nan")
    load_average: float = float("nan")
    writer: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """The lines the benchmark prints."""
        w = self.writer
        lines = [
            f"design load for {self.seconds:.0f} s: {self.rsus} RSUs, {self.frames_per_s:.0f} frames/s "
            f"({self.detections_per_s:,.0f} detections/s) + {self.bsms_per_s:,.0f} BSMs/s, {self.vehicles} vehicles",
            f"input: published {self.published:,}, platform received {self.received_by_platform:,}, "
            f"loss {self.input_loss} ; set aside by reason: {self.rejected_by_reason or 'none'}",
            f"sender-to-advisory at the OBU: p50 {self.advisory_p50_ms:.1f} ms, p99 {self.advisory_p99_ms:.1f} ms, "
            f"max {self.advisory_max_ms:.1f} ms (N={self.advisories_received:,}; target p99 <= 50 ms)",
            f"advisories over the whole run: published {self.advisories_published:,.0f}, "
            f"loss {self.advisory_loss:,.0f}",
            f"platform's own sender-to-decision: p50 {self.platform_decision_p50_ms:.1f} ms, "
            f"p99 {self.platform_decision_p99_ms:.1f} ms; tick p50 {self.tick_p50_ms:.1f} ms, "
            f"p99 {self.tick_p99_ms:.1f} ms;"
            f" {self.detections_fused_per_s:,.0f} detections/s fused; stage p50 ms: "
            + ", ".join(f"{k} {v:.1f}" for k, v in self.stage_p50_ms.items()),
            f"platform process CPU {self.platform_cpu_percent:.0f}% of one core; machine load average "
            f"{self.load_average:.1f} on {os.cpu_count()} cores (other work on the machine inflates latency)",
        ]
        if w:
            lines.append(
                f"store writer {w['ours_median']:,.0f} rows/s vs raw psycopg COPY {w['raw_copy_median']:,.0f} rows/s: "
                f"ours/raw_copy = {w['ratio']:.2f} (N={w['n_rows']}, {w['runs']} runs; target >= 0.5)"
            )
        return "\n".join(lines)


def _scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                continue
    return out


def _hist_quantiles(a: dict[str, float], b: dict[str, float], name: str) -> tuple[float, float]:
    """p50, p99 (ms) of a histogram's observations between two scrapes (linear in the bucket)."""
    bounds: list[tuple[float, float]] = []
    for k, v in b.items():
        if k.startswith(f"{name}_bucket{{le="):
            le = k.split('le="', 1)[1].rstrip('"}')
            bounds.append((float("inf") if le == "+Inf" else float(le), v - a.get(k, 0.0)))
    bounds.sort()
    total = bounds[-1][1] if bounds else 0.0
    out = []
    for q in (0.5, 0.99):
        if total <= 0:
            out.append(float("nan"))
            continue
        need, lo, prev = q * total, 0.0, 0.0
        val = float("nan")
        for hi, cum in bounds:
            if cum >= need:
                val = lo if hi == float("inf") else lo + (hi - lo) * (need - prev) / max(cum - prev, 1e-9)
                break
            lo, prev = hi, cum
        out.append(val * 1000.0)
    return out[0], out[1]


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("xj serve exited during start-up")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if json.loads(r.read())["ready"]:
                    return
        except Exception:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the platform at {url} was not ready within {timeout:g} s")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def private_broker(host: str = "127.0.0.1") -> Iterator[int]:
    """A Mosquitto of the bench's own on a free port, the demo's (``cloud.broker.MOSQUITTO_CONF``:
    ``set_tcp_nodelay`` as deployed, a deep queue); yields its port."""
    exe = mosquitto_exe()
    if exe is None:
        raise SystemExit(
            "bench.e2e_latency: mosquitto is not installed (scripts/services installs it), or pass --mqtt-port"
        )
    port = _free_port()
    with mosquitto_process(exe, host, port) as proc:
        end = time.monotonic() + 10.0
        while not listening(host, port):
            if proc.poll() is not None or time.monotonic() > end:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise SystemExit(f"bench.e2e_latency: the private Mosquitto did not start: {err.strip()}")
            time.sleep(0.05)
        yield port


def run(
    *,
    seconds: float = 60.0,
    warmup: float = 10.0,
    rsus: int = 50,
    objects: int = 20,
    obus: int = 100,
    mqtt_host: str = "127.0.0.1",
    mqtt_port: int = 1883,
    admin_url: str | None = "postgresql://postgres@127.0.0.1:5432/postgres",
    writer_rows: int = 200_000,
    writer_runs: int = 3,
    nice: int = 0,
) -> E2EResult:
    """Run the benchmark; ``admin_url`` None runs the platform without a database and skips the writer.

    ``nice`` < 0 (root only) gives the platform process priority over other work on a shared
    machine, as a dedicated host would.
    """
    prefix = f"e2e{uuid.uuid4().hex[:4]}"
    db_name = f"xjbench_e2e_{uuid.uuid4().hex[:8]}"
    db_url = None
    if admin_url:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        db_url = psycopg.conninfo.make_conninfo(admin_url, dbname=db_name)
    tmp = tempfile.TemporaryDirectory(prefix="xj-e2e-")
    net = grid(5, 5)
    map_path = save_map(net, Path(tmp.name) / "city.xjmap")
    port = _free_port()
    env = {**os.environ, "XJ_SPOOL_DIR": str(Path(tmp.name) / "spool")}
    if db_url:
        env["XJ_DB"] = db_url
    else:
        env.pop("XJ_DB", None)
    xj = Path(sys.executable).parent / "xj"
    cmd = [str(xj), "serve", "--mqtt", f"mqtt://{mqtt_host}:{mqtt_port}", "--map", str(map_path), "--port", str(port)]
    log = open(Path(tmp.name) / "serve.log", "wb")  # noqa: SIM115
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    timer: AdvisoryTimer | None = None
    try:
        _wait_ready(url, proc)
        load = DesignLoad(net, host=mqtt_host, port=mqtt_port, rsus=rsus, objects=objects, obus=obus, prefix=prefix)
        vehicles = load.warm()
        timer = AdvisoryTimer(mqtt_host, mqtt_port, prefix)
        base = _scrape(url)
        th = threading.Thread(target=load.run, args=(warmup + seconds,), name="e2e-load")
        th.start()
        time.sleep(warmup)
        c0, m0, w0 = load.counts.messages, _scrape(url), time.time_ns()
        cpu0 = _cpu_s(proc.pid)
        f0, d0, b0 = load.counts.frames, load.counts.detections, load.counts.bsms
        th.join()
        w1 = time.time_ns()
        cpu1 = _cpu_s(proc.pid)
        f1, d1, b1 = load.counts.frames, load.counts.detections, load.counts.bsms
        m1 = _scrape(url)
        time.sleep(3.0)  # let the last ticks drain before the totals
        m2 = _scrape(url)
        span = (w1 - w0) / 1e9
        lat, got = timer.window(w0, w1)
        rejected = {
            k.split('reason="', 1)[1].rstrip('"}'): v - base.get(k, 0.0)
            for k, v in m2.items()
            if k.startswith("xj_ingest_messages_rejected_total{") and v - base.get(k, 0.0) > 0
        }
        received = int(
            m2.get("xj_ingest_messages_received_total", 0) - base.get("xj_ingest_messages_received_total", 0)
        )
        # advisories over the whole run (warm-up included), after the last ones arrived
        adv_key = 'xj_published_total{channel="advisory"}'
        adv_pub = m2.get(adv_key, 0.0) - base.get(adv_key, 0.0)
        adv_got = timer.total
        dec50, dec99 = _hist_quantiles(m0, m1, "xj_sender_to_decision_seconds")
        t50, t99 = _hist_quantiles(m0, m1, "xj_tick_seconds")
        result = E2EResult(
            seconds=span,
            rsus=rsus,
            frames_per_s=(f1 - f0) / span,
            detections_per_s=(d1 - d0) / span,
            bsms_per_s=(b1 - b0) / span,
            vehicles=vehicles,
            published=load.counts.messages,
            received_by_platform=received,
            input_loss=max(load.counts.messages - received, 0),
            rejected_by_reason=rejected,
            advisories_received=len(got),
            advisories_published=adv_pub,
            advisory_loss=max(adv_pub - adv_got, 0.0),
            advisory_p50_ms=float(np.percentile(lat, 50)) if len(lat) else float("nan"),
            advisory_p99_ms=float(np.percentile(lat, 99)) if len(lat) else float("nan"),
            advisory_max_ms=float(lat.max()) if len(lat) else float("nan"),
            platform_decision_p50_ms=dec50,
            platform_decision_p99_ms=dec99,
            tick_p50_ms=t50,
            tick_p99_ms=t99,
            detections_fused_per_s=(m1.get("xj_detections_total", 0) - m0.get("xj_detections_total", 0)) / span,
            stage_p50_ms={
                st: _hist_quantiles(m0, m1, f"xj_{st}_seconds")[0] for st in ("fusion", "picture", "control", "publish")
            },
            platform_cpu_percent=100.0 * (cpu1 - cpu0) / span,
            load_average=os.getloadavg()[0],
        )
        _ = c0
    finally:
        if timer is not None:
            timer.close()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        tmp.cleanup()
        if admin_url:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    if admin_url:
        from bench.store_writer import run_bench

        wb = run_bench(admin_url, n_rows=writer_rows, runs=writer_runs)
        result.writer = {
            **asdict(wb),
            "raw_copy_median": wb.raw_copy_median,
            "ours_median": wb.ours_median,
            "ratio": wb.ratio,
        }
    return result
