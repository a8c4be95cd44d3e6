"""Map-matching points/s for 100k points on the real Pasubio network (and a large grid).

Peer: shapely 2's STRtree ``query_nearest`` + ``line_locate_point`` (the vectorised C library
route) on the same points and lanes. Prints medians over runs and the ratio ours/peer.

Run: ``.venv/bin/python -m bench.map_match [--points N] [--runs R]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import shapely

from roadnet import MapMatcher, RoadNetwork, grid, load_sumo

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "sumo" / "bologna-pasubio"


def _points(net: RoadNetwork, n: int, rng: np.random.Generator) -> np.ndarray:
    # vehicles are on roads: sample lane vertices and add 2 m of noise
    idx = rng.integers(0, len(net.lane_shape_xy), n)
    return net.lane_shape_xy[idx] + rng.normal(0.0, 2.0, (n, 2))


def _ours(m: MapMatcher, p: np.ndarray) -> np.ndarray:
    return m.match(p).lane


def _peer(tree: shapely.STRtree, lines: np.ndarray, lane_of: np.ndarray, p: np.ndarray, radius: float) -> np.ndarray:
    pts = shapely.points(p)
    pairs = tree.query_nearest(pts, max_distance=radius, all_matches=False)
    out = np.full(len(p), -1, dtype=np.int64)
    out[pairs[0]] = lane_of[pairs[1]]
    # position along the lane, as ours computes
    shapely.line_locate_point(lines[pairs[1]], pts[pairs[0]])
    return out


def bench(name: str, net: RoadNetwork, n: int, runs: int) -> None:
    rng = np.random.default_rng(0)
    p = _points(net, n, rng)
    t0 = time.perf_counter()
    m = MapMatcher(net, radius=10.0)
    build_ours = time.perf_counter() - t0
    mask = np.flatnonzero(np.diff(net.lane_shape_offsets) >= 2)
    t0 = time.perf_counter()
    lines = np.array([shapely.LineString(net.lane_shape(int(i))) for i in mask])
    tree = shapely.STRtree(lines)
    build_peer = time.perf_counter() - t0
    ours, peer = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        a = _ours(m, p)
        ours.append(n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        b = _peer(tree, lines, mask, p, 10.0)
        peer.append(n / (time.perf_counter() - t0))
    agree = float(np.mean((a == b) | (a < 0) | (b < 0)))
    mo, mp = statistics.median(ours), statistics.median(peer)
    print(
        f"{name}: {len(net.lane_ids)} lanes, {n} points, {runs} runs (median): "
        f"ours {mo:,.0f} points/s (index {build_ours * 1e3:.0f} ms), "
        f"shapely STRtree {mp:,.0f} points/s (index {build_peer * 1e3:.0f} ms), same lane {agree:.1%}"
    )
    print(f"  ours/shapely points/s = {mo / mp:.2f} (N={n}, {runs} runs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    net = load_sumo(DATA / "pasubio_buslanes.net.xml")
    bench("Pasubio (Bologna)", net, args.points, args.runs)
    bench("grid 20x20", grid(20, 20), args.points, args.runs)


if __name__ == "__main__":
    main()
