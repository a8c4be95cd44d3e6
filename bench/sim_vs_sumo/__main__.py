"""Our traffic engine against Eclipse SUMO (the ``sumo`` command line), measured in one run.

1. Speed: signalised grids built by SUMO's netgenerate (200 m blocks, 2 lanes, guessed signals)
   sized for about 1k, 5k and 10k vehicles at once, random trips written from our demand to a
   route file both engines read; both step 0.1 s for the same simulated time. Reported:
   vehicle-updates per second of each (SUMO's own UPS figure; ours: vehicles stepped / wall
   seconds in ``Engine.step``) and per CPU second of the process (loading excluded; robust when
   other work shares the machine), medians over runs, and ``ours/sumo`` of both.
2. Fidelity: the Bologna Pasubio scenario (its signal programs, cars and buses) for one simulated
   hour at 0.1 s: arrived vehicles and mean travel time of both and their ratios; ours is checked
   for collisions, red-light running and gridlock as it runs.

Run: ``.venv/bin/python -m bench.sim_vs_sumo [--quick] [--out DIR] [--runs N] [--seconds S]``
Results: ``results.json`` and ``sim_vs_sumo.png`` (plus the Pasubio KPIs, delay histogram and a
time-space diagram) in ``--out`` (default: a folder in the system temp dir).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from sim import kpi

from .run import our_city, our_speed, sumo_city, sumo_speed
from .scenarios import GRIDS, make_grid, pasubio_copy

#: a corridor of Pasubio drawn in the time-space diagram (Via Saffi towards the centre)
CORRIDOR = ["12", "56[0]", "56[1][0]", "56[1][1]", "5[1][0]+66", "5[1][1][1]", "8"]


def _plot(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), dpi=110)
    ax = axes[0]
    names = list(res["speed"])
    x = range(len(names))
    ours = [res["speed"][n]["ours_updates_per_s"] / 1e3 for n in names]
    peer = [res["speed"][n]["sumo_updates_per_s"] / 1e3 for n in names]
    ax.bar([i - 0.2 for i in x], ours, 0.4, label="ours")
    ax.bar([i + 0.2 for i in x], peer, 0.4, label="sumo")
    ax.set_xticks(list(x), [f"{n}\n({res['speed'][n]['grid']})" for n in names])
    ax.set_ylabel("vehicle-updates / s (thousands)")
    ax.set_title("speed, step 0.1 s (median of runs)")
    for i, n in enumerate(names):
        ax.annotate(f"x{res['speed'][n]['ratio']:.2f}", (i, max(ours[i], peer[i])), ha="center", va="bottom")
    ax.legend()
    ax = axes[1]
    if "pasubio" in res:
        p = res["pasubio"]
        ax.bar([0, 1], [p["ours"]["arrived"], p["sumo"]["arrived"]], color=["tab:blue", "tab:orange"])
        ax.set_xticks([0, 1], ["ours", "sumo"])
        ax.set_ylabel("arrived vehicles")
        ax2 = ax.twinx()
        ax2.plot([0, 1], [p["ours"]["mean_travel_time_s"], p["sumo"]["mean_travel_time_s"]], "ko-")
        ax2.set_ylabel("mean travel time (s)")
        ax2.set_ylim(0, 1.5 * max(p["ours"]["mean_travel_time_s"], p["sumo"]["mean_travel_time_s"]))
        ax.set_title(f"Pasubio, {p['seconds']:.0f} s simulated")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.sim_vs_sumo", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one run each, 40 s grids, 15 min of Pasubio")
    ap.add_argument("--runs", type=int, default=None, help="runs per grid (median reported; default 3)")
    ap.add_argument("--seconds", type=float, default=None, help="simulated seconds per grid run (default 120)")
    ap.add_argument("--city-seconds", type=float, default=None, help="simulated seconds of Pasubio (default 3600)")
    ap.add_argument("--sizes", default="1k,5k,10k", help="grid sizes to run, of " + ",".join(GRIDS))
    ap.add_argument("--no-city", action="store_true", help="skip the Pasubio comparison")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "xj-sim-vs-sumo")
    a = ap.parse_args(argv)
    runs = a.runs or (1 if a.quick else 3)
    seconds = a.seconds or (40.0 if a.quick else 120.0)
    city_s = a.city_seconds or (900.0 if a.quick else 3600.0)
    sizes = [s for s in a.sizes.split(",") if s]
    bad = [s for s in sizes if s not in GRIDS]
    if bad:
        print(f"xj: error: unknown sizes {bad}; choose from {list(GRIDS)}")
        return 2
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"step_s": 0.1, "speed": {}}
    print(f"bench sim_vs_sumo: ours vs eclipse-sumo `sumo`, step 0.1 s, {runs} run(s), output in {out}")
    for name in sizes:
        n, veh = GRIDS[name]
        case = make_grid(out / "grids", name, n, veh)
        o, s = [], []
        for _ in range(runs):
            o.append(our_speed(case.net, case.demand, seconds))
            s.append(sumo_speed(case.net_file, case.route_file, seconds, out))
        ours = statistics.median(x.updates_per_s for x in o)
        peer = statistics.median(x.updates_per_s for x in s)
        ours_cpu = statistics.median(x.updates_per_cpu_s for x in o)
        peer_cpu = statistics.median(x.updates_per_cpu_s for x in s)
        res["speed"][name] = {
            "grid": f"{n}x{n}",
            "vehicles": veh,
            "simulated_s": seconds,
            "ours_mean_running": statistics.median(x.mean_running for x in o),
            "sumo_mean_running": statistics.median(x.mean_running for x in s),
            "ours_updates_per_s": ours,
            "sumo_updates_per_s": peer,
            "ratio": ours / peer,
            "ours_updates_per_cpu_s": ours_cpu,
            "sumo_updates_per_cpu_s": peer_cpu,
            "ratio_cpu": ours_cpu / peer_cpu,
            "runs": runs,
        }
        r = res["speed"][name]
        print(
            f"  grid {n}x{n}, {veh} trips (running: ours {r['ours_mean_running']:.0f}, sumo "
            f"{r['sumo_mean_running']:.0f}), {seconds:.0f} s: ours {ours:,.0f} vs sumo {peer:,.0f} "
            f"vehicle-updates/s -> ours/sumo = {ours / peer:.2f}; per CPU second ours {ours_cpu:,.0f} vs sumo "
            f"{peer_cpu:,.0f} -> ours/sumo = {ours_cpu / peer_cpu:.2f} (N={veh}, {runs} runs)"
        )
    if not a.no_city:
        cfg = pasubio_copy(out)
        sumo = sumo_city(cfg, city_s, out)
        ours_c, eng, rec = our_city(cfg, city_s, record=(min(1200.0, city_s / 2), min(1800.0, city_s)))
        res["pasubio"] = {
            "seconds": city_s,
            "ours": {
                "arrived": ours_c.arrived,
                "mean_travel_time_s": ours_c.mean_travel_time_s,
                "wall_s": ours_c.wall_s,
            }
            | ours_c.extra,
            "sumo": {"arrived": sumo.arrived, "mean_travel_time_s": sumo.mean_travel_time_s, "wall_s": sumo.wall_s},
            "arrived_ratio": ours_c.arrived / max(sumo.arrived, 1),
            "travel_time_ratio": ours_c.mean_travel_time_s / sumo.mean_travel_time_s,
        }
        p = res["pasubio"]
        print(
            f"  Pasubio (run.sumocfg, its programs, {city_s:.0f} s at 0.1 s): arrived ours {ours_c.arrived} vs sumo "
            f"{sumo.arrived} -> ours/sumo = {p['arrived_ratio']:.3f}; mean travel time ours "
            f"{ours_c.mean_travel_time_s:.1f} s vs sumo {sumo.mean_travel_time_s:.1f} s -> ours/sumo = "
            f"{p['travel_time_ratio']:.3f}"
        )
        x = ours_c.extra
        print(
            f"    ours: worst gap {x['worst_gap_m']:.2f} m, red-light crossings {x['red_light_crossings']}, "
            f"teleports {x['teleports']}, running at end {x['running_at_end']}, still waiting to depart "
            f"{x['waiting_to_depart_at_end']}; wall ours {ours_c.wall_s:.0f} s, sumo {sumo.wall_s:.0f} s"
        )
        kpi.write_json(kpi.engine_kpis(eng), out / "pasubio_kpis.json")
        kpi.plot_delay_histogram(eng.records(), out / "pasubio_delay_hist.png", title="Pasubio: delay per trip (ours)")
        t, rows = rec.rows()
        kpi.plot_time_space(t, rows, eng.net, CORRIDOR, out / "pasubio_time_space.png")
    (out / "results.json").write_text(json.dumps(res, indent=2) + "\n")
    _plot(res, out / "sim_vs_sumo.png")
    print(f"  wrote {out / 'results.json'} and {out / 'sim_vs_sumo.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
