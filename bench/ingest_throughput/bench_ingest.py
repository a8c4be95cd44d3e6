"""CPU cost of ingest's decode + validate + sequence + batch path, against raw protobuf decoding.

Feeds pre-built MQTT payloads (perception frames of ``--objects`` objects from ``--sensors``
RSUs, and single-vehicle BSMs from ``--vehicles`` OBUs) through :class:`ingest.IngestPipeline`,
draining once per 10 Hz tick of simulated time, and prints messages/s, µs/message and the ratio
against the floor, ``pb.Envelope.FromString`` alone on the same payloads (``ours/raw_decode``).

Run: ``.venv/bin/python bench/ingest_throughput/bench_ingest.py [--messages 20000] [--runs 3]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import proto
from ingest import IngestPipeline, Limits
from proto import pb
from roadnet.frames import DEFAULT_ORIGIN, Frame


def _perception_payloads(
    n_msgs: int, n_obj: int, n_sensors: int, t0: int, frame: Frame
) -> list[tuple[str, bytes, int]]:
    rng = np.random.default_rng(1)
    out = []
    for i in range(n_msgs):
        s = i % n_sensors
        seq = i // n_sensors
        t = t0 + seq * 100_000_000
        a = np.zeros(n_obj, dtype=proto.PERCEPTION_DTYPE)
        lat, lon = frame.to_wgs84(rng.uniform(-300, 300, n_obj), rng.uniform(-300, 300, n_obj))
        a["lat"], a["lon"] = lat, lon
        a["local_id"] = np.arange(n_obj)
        a["speed"] = rng.uniform(0, 20, n_obj)
        a["heading"] = rng.uniform(0, 2 * np.pi, n_obj)
        a["length"], a["width"], a["cls"], a["confidence"] = 4.5, 1.8, 1, 0.9
        for c in ("cov_ee", "cov_en", "cov_nn"):
            a[c] = 0.25 if c != "cov_en" else 0.0
        sid = f"r{s}"
        env = proto.envelope(sid, seq, sent_ns=t, perception=proto.array_to_perception(a, sid, t - 20_000_000))
        out.append((proto.topic("rsu", sid, "perception", "up"), env.SerializeToString(), t + 3_000_000))
    return out


def _bsm_payloads(n_msgs: int, n_veh: int, t0: int) -> list[tuple[str, bytes, int]]:
    out = []
    lat0, lon0 = DEFAULT_ORIGIN
    for i in range(n_msgs):
        v = i % n_veh
        seq = i // n_veh
        t = t0 + seq * 100_000_000
        vid = f"v{v}"
        b = pb.Bsm(
            vehicle_id=vid,
            measured_ns=t,
            lat_e7=int(lat0 * 1e7) + v,
            lon_e7=int(lon0 * 1e7) + seq,
            speed_002=600,
            heading_00125=9000,
            length_cm=450,
            width_cm=180,
            object_class=pb.OBJECT_CLASS_CAR,
        )
        env = proto.envelope(vid, seq, sent_ns=t, bsm=b)
        out.append((proto.topic("obu", vid, "bsm", "up"), env.SerializeToString(), t + 3_000_000))
    return out


def _ours(msgs: list[tuple[str, bytes, int]], frame: Frame) -> tuple[float, float]:
    """(total s of feed+drain, of which drain s)."""
    p = IngestPipeline(frame=frame, limits=Limits(rate_per_s=1e6, burst=1e6, max_age_s=1e9), std_decoder=None)
    next_drain = msgs[0][2] + 100_000_000
    drain_s = 0.0
    t0 = time.perf_counter()
    for topic, payload, recv in msgs:
        if recv >= next_drain:
            d0 = time.perf_counter()
            p.drain(next_drain)
            drain_s += time.perf_counter() - d0
            next_drain += 100_000_000
        p.feed(topic, payload, recv)
    d0 = time.perf_counter()
    p.drain(next_drain)
    end = time.perf_counter()
    drain_s += end - d0
    assert p.metrics.rejected_total == 0, p.metrics.rejected
    return end - t0, drain_s


def _raw(msgs: list[tuple[str, bytes, int]]) -> float:
    """Protobuf decoding alone: the floor."""
    t0 = time.perf_counter()
    for _, payload, _ in msgs:
        pb.Envelope.FromString(payload)
    return time.perf_counter() - t0


def _raw_arrays(msgs: list[tuple[str, bytes, int]]) -> float:
    """Protobuf decoding plus the contract's own numpy decoder (``proto.perception_to_array``)."""
    t0 = time.perf_counter()
    for _, payload, _ in msgs:
        env = pb.Envelope.FromString(payload)
        if env.HasField("perception"):
            proto.perception_to_array(env.perception)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20_000, help="messages per workload")
    ap.add_argument("--objects", type=int, default=20, help="objects per perception frame")
    ap.add_argument("--sensors", type=int, default=20)
    ap.add_argument("--vehicles", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    frame = Frame.around(*DEFAULT_ORIGIN)
    t0 = time.time_ns()
    workloads = {
        f"perception ({args.objects} objects/frame, {args.sensors} sensors)": _perception_payloads(
            args.messages, args.objects, args.sensors, t0, frame
        ),
        f"bsm (1 vehicle/message, {args.vehicles} vehicles)": _bsm_payloads(args.messages, args.vehicles, t0),
    }
    for name, msgs in workloads.items():
        ours = [_ours(msgs, frame) for _ in range(args.runs)]
        raw = min(_raw(msgs) for _ in range(args.runs))
        best, drain = min(ours)
        n = len(msgs)
        spread = statistics.pstdev(o for o, _ in ours) / best
        print(f"{name}: N={n}, best of {args.runs} runs (spread of ours {spread:.0%})")
        print(f"  ours: {n / best:,.0f} messages/s, {best / n * 1e6:.1f} µs/message (drain {drain / n * 1e6:.1f})")
        print(f"  raw protobuf decode: {raw / n * 1e6:.2f} µs/message;  ours/raw_decode = {best / raw:.1f}")
        if name.startswith("perception"):
            raw_arr = min(_raw_arrays(msgs) for _ in range(args.runs))
            print(
                f"  raw decode + proto.perception_to_array: {raw_arr / n * 1e6:.2f} µs/message;"
                f"  ours/(raw_decode + to_array) = {best / raw_arr:.1f}"
            )


if __name__ == "__main__":
    main()
