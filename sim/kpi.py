"""KPIs of a simulation run from the engine's trip records, and the plots people look at.

:func:`compute` turns trip records (``sim.engine.TRIP_DTYPE``) and bus-stop events
(``sim.engine.STOP_EVENT_DTYPE``) into a flat JSON-ready dict:

- ``vehicles_inserted``, ``vehicles_arrived``, ``throughput_veh_per_h`` (arrivals per simulated
  hour), ``teleports``;
- over arrived vehicles: ``mean_travel_time_s`` (arrival - actual departure), ``mean_delay_s``
  (travel time - free-flow time at the speed limits), ``mean_stops`` (halts below 0.1 m/s after
  moving, planned stops excluded);
- buses: ``bus_mean_delay_s`` (arrival against the schedule = planned departure + free-flow time
  + planned dwells), ``bus_punctuality`` (share of stop departures within [-60 s, +180 s] of the
  timetable, or of the free-flow schedule where a stop has no timetable; of trip arrivals when no
  stop was served) and ``bus_lines`` (the same per line);
- ``max_queue_m``; ``sim_seconds``, ``wall_seconds``, ``real_time_factor``;
- per group tag (a mapping vehicle id -> tag, e.g. ``glosa_compliant``): ``{tag}_count``,
  ``{tag}_stops`` (mean stops) and ``{tag}_delay_s`` (mean delay) over the group's arrived
  vehicles.

Plots are PNG files drawn with matplotlib's Agg backend: a time-space diagram along a corridor
(a sequence of edges) from recorded ground truth, and a delay histogram.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from roadnet import classes
from roadnet.model import RoadNetwork
from sim.engine.records import STOP_EVENT_DTYPE

F64 = npt.NDArray[np.float64]

#: punctuality window: early, late (s)
PUNCTUAL = (-60.0, 180.0)
_ARRIVED = 2


def _mean(x: npt.ArrayLike) -> float:
    a = np.asarray(x, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(a.mean()) if len(a) else math.nan


def _share(dev: F64, window: tuple[float, float]) -> float:
    if len(dev) == 0:
        return math.nan
    return float(np.mean((dev >= window[0]) & (dev <= window[1])))


def compute(
    records: npt.NDArray[np.void],
    *,
    sim_seconds: float,
    wall_seconds: float,
    stop_events: npt.NDArray[np.void] | None = None,
    groups: Mapping[str, str] | None = None,
    max_queue_m: float = 0.0,
    window: tuple[float, float] = PUNCTUAL,
) -> dict[str, Any]:
    """KPIs of one run (keys in the module docstring).

    Parameters
    ----------
    records
        (N,) trip records, ``TRIP_DTYPE``.
    sim_seconds, wall_seconds
        Simulated and wall-clock duration of the run, s.
    stop_events
        (M,) dwells at planned stops, ``STOP_EVENT_DTYPE``.
    groups
        vehicle id -> group tag; vehicles not in it belong to no group.
    max_queue_m
        Longest queue seen on any lane, m.
    window
        Punctuality window (early, late), s.
    """
    r = records
    arrived = r["status"] == _ARRIVED
    a = r[arrived]
    out: dict[str, Any] = {
        "vehicles_inserted": int(np.isfinite(r["depart"]).sum()),
        "vehicles_arrived": int(arrived.sum()),
        "mean_travel_time_s": _mean(a["duration"]),
        "mean_delay_s": _mean(a["delay_s"]),
        "mean_stops": _mean(a["stops"]),
        "throughput_veh_per_h": float(arrived.sum() / sim_seconds * 3600.0) if sim_seconds > 0 else math.nan,
        "teleports": int(r["teleports"].sum()),
        "max_queue_m": float(max_queue_m),
        "sim_seconds": float(sim_seconds),
        "wall_seconds": float(wall_seconds),
        "real_time_factor": float(sim_seconds / wall_seconds) if wall_seconds > 0 else math.nan,
    }
    # buses against their schedule
    bus = a[a["cls"] == classes.BUS]
    sched_arr = bus["depart_sched"] + bus["free_flow_s"] + bus["dwell_plan_s"]
    bus_delay = bus["arrival"] - sched_arr
    out["bus_mean_delay_s"] = _mean(bus_delay)
    ev: npt.NDArray[np.void] = stop_events if stop_events is not None else np.zeros(0, dtype=STOP_EVENT_DTYPE)
    ev_dev = np.zeros(0)
    if len(ev):
        ref = np.where(np.isnan(ev["until"]), ev["sched_departure"], ev["until"])
        ev_dev = ev["departure"] - ref
    out["bus_punctuality"] = _share(ev_dev, window) if len(ev_dev) else _share(bus_delay, window)
    lines: dict[str, dict[str, float]] = {}
    for line in sorted(set(bus["line"].tolist()) | (set(ev["line"].tolist()) if len(ev) else set())):
        sel = bus["line"] == line
        evl = ev_dev[ev["line"] == line] if len(ev) else np.zeros(0)
        lines[str(line)] = {
            "trips": int(sel.sum()),
            "mean_delay_s": _mean(bus_delay[sel]),
            "punctuality": _share(evl, window) if len(evl) else _share(bus_delay[sel], window),
            "stops_served": len(evl),
        }
    out["bus_lines"] = lines
    # groups
    if groups:
        tags = np.array([groups.get(str(v), "") for v in a["vehicle_id"].tolist()], dtype=object)
        for tag in sorted(set(groups.values())):
            sel = tags == tag
            out[f"{tag}_count"] = int(sel.sum())
            out[f"{tag}_stops"] = _mean(a["stops"][sel])
            out[f"{tag}_delay_s"] = _mean(a["delay_s"][sel])
    return out


def engine_kpis(engine: Any, groups: Mapping[str, str] | None = None) -> dict[str, Any]:
    """:func:`compute` for a :class:`sim.engine.Engine` after (or during) a run."""
    return compute(
        engine.records(),
        sim_seconds=float(engine.t),
        wall_seconds=float(engine.wall_seconds),
        stop_events=engine.stop_events(),
        groups=groups,
        max_queue_m=float(np.max(engine.max_queue, initial=0.0)),
    )


def write_json(kpis: Mapping[str, Any], path: str | Path) -> Path:
    """Write KPIs as JSON (NaN as null)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            return clean(v.item())
        return v

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(clean(dict(kpis)), indent=2, sort_keys=True) + "\n")
    return p


# ---------------------------------------------------------------------- plots
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: str | Path) -> Path:
    fig.tight_layout()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p)
    plt.close(fig)
    return p


def corridor_positions(net: RoadNetwork, edges: Sequence[str]) -> tuple[dict[int, float], list[float]]:
    """Offsets along a corridor: lane index -> metres from the corridor start to the lane's start.

    Lanes of the corridor's edges and the internal lanes of the connections between consecutive
    edges are placed; also returns the positions of the junctions (edge ends), m.

    Raises
    ------
    KeyError
        Naming an edge id that is not in the network.
    """
    idx = net.edge_index_of
    missing = [e for e in edges if e not in idx]
    if missing:
        raise KeyError(f"corridor edges not in the network: {', '.join(missing[:5])}")
    off: dict[int, float] = {}
    junctions: list[float] = []
    x = 0.0
    eidx = [idx[e] for e in edges]
    from_edge = net.lane_edge[net.conn_from_lane]
    to_edge = net.lane_edge[net.conn_to_lane]
    for k, e in enumerate(eidx):
        lanes = net.edge_lanes(e)
        for ln in lanes.tolist():
            off[ln] = x
        x += float(net.lane_length[lanes].max())
        if k + 1 < len(eidx):
            junctions.append(x)
            cs = np.flatnonzero((from_edge == e) & (to_edge == eidx[k + 1]))
            via_len = 0.0
            for c in cs.tolist():
                y = x
                for v in net.conn_via(c).tolist():
                    off.setdefault(v, y)
                    y += float(net.lane_length[v])
                via_len = max(via_len, y - x)
            x += via_len
    return off, junctions


def plot_time_space(
    t: F64,
    truth: npt.NDArray[np.void],
    net: RoadNetwork,
    edges: Sequence[str],
    path: str | Path,
    *,
    title: str = "",
) -> Path:
    """Time-space diagram of the vehicles recorded on a corridor, coloured by speed (PNG).

    Parameters
    ----------
    t
        (M,) time of each recorded row, s.
    truth
        (M,) recorded ``TRUTH_DTYPE`` rows (``TruthRecorder.rows()``).
    edges
        The corridor's edge ids in driving order.
    """
    plt = _pyplot()
    off, junctions = corridor_positions(net, edges)
    lanes = np.array(sorted(off), dtype=np.int64)
    base = np.full(len(net.lane_ids), np.nan)
    base[lanes] = [off[int(ln)] for ln in lanes]
    pos = base[truth["lane"]] + truth["s"] if len(truth) else np.zeros(0)
    ok = np.isfinite(pos)
    fig, ax = plt.subplots(figsize=(10, 6), dpi=110)
    sc = ax.scatter(t[ok], pos[ok], c=truth["speed"][ok], s=1.0, cmap="RdYlGn", vmin=0.0, vmax=15.0, linewidths=0)
    for y in junctions:
        ax.axhline(y, color="0.7", lw=0.5, zorder=0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("distance along the corridor (m)")
    ax.set_title(title or f"time-space diagram, {edges[0]} ... {edges[-1]}")
    fig.colorbar(sc, ax=ax, label="speed (m/s)")
    return _save(plt, fig, path)


def plot_delay_histogram(records: npt.NDArray[np.void], path: str | Path, *, title: str = "") -> Path:
    """Histogram of the arrived vehicles' delays against free flow (PNG), buses marked apart."""
    plt = _pyplot()
    a = records[records["status"] == _ARRIVED]
    d = a["delay_s"]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    if len(d):
        hi = float(np.percentile(d, 99.5)) if len(d) > 10 else float(d.max())
        bins = np.linspace(min(0.0, float(d.min())), max(hi, 1.0), 60)
        bus = a["cls"] == classes.BUS
        ax.hist(d[~bus], bins=bins, color="tab:blue", alpha=0.8, label=f"other vehicles ({int((~bus).sum())})")
        if bus.any():
            ax.hist(d[bus], bins=bins, color="tab:orange", alpha=0.9, label=f"buses ({int(bus.sum())})")
        ax.axvline(float(np.mean(d)), color="k", lw=1, ls="--", label=f"mean {np.mean(d):.0f} s")
        ax.legend()
    ax.set_xlabel("delay against free flow (s)")
    ax.set_ylabel("vehicles")
    ax.set_title(title or "delay per trip")
    return _save(plt, fig, path)
