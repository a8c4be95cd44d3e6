"""Inputs both engines run: SUMO's own signalised grids with a route file written from our demand,
and the Pasubio scenario copied to a scratch folder (nothing is written into the shared data)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from roadnet import RoadNetwork, load_sumo
from sim.demand import Demand, random_trips, write_routes

PASUBIO = Path(__file__).resolve().parents[3] / "shared" / "data" / "sumo" / "bologna-pasubio"

#: grid size -> vehicles inserted (about the number running at once during the window)
GRIDS: dict[str, tuple[int, int]] = {"1k": (8, 1100), "5k": (18, 4800), "10k": (24, 10000)}


def sumo_home() -> Path:
    """The eclipse-sumo package's SUMO_HOME."""
    return Path(importlib.import_module("sumo").SUMO_HOME)


def sumo_binary(name: str = "sumo") -> Path:
    """A SUMO executable of the eclipse-sumo package (``sumo``, ``netgenerate``)."""
    return sumo_home() / "bin" / name


@dataclass
class GridCase:
    """A generated grid scenario: SUMO files and our loaded network and demand."""

    name: str
    n: int
    net_file: Path
    route_file: Path
    net: RoadNetwork
    demand: Demand


def make_grid(work: Path, name: str, n: int, vehicles: int, *, depart_window: float = 5.0, seed: int = 1) -> GridCase:
    """An n x n signalised grid (200 m blocks, 2 lanes, SUMO's guessed signals) with ``vehicles``
    random trips of at least 1 km departing over ``depart_window`` s at random positions (the grid
    fills at once, so nearly all are running during the measured window)."""
    work.mkdir(parents=True, exist_ok=True)
    net_file = work / f"grid{n}.net.xml"
    if not net_file.exists():
        subprocess.run(
            [
                str(sumo_binary("netgenerate")),
                "--grid",
                "--grid.number",
                str(n),
                "--grid.length",
                "200",
                "--default.lanenumber",
                "2",
                "--tls.guess",
                "-o",
                str(net_file),
            ],
            check=True,
            capture_output=True,
        )
    net = load_sumo(net_file)
    demand = random_trips(
        net,
        count=vehicles,
        begin=0.0,
        end=depart_window,
        shares={"car": 1.0},
        fringe_share=0.0,
        min_length=1000.0,
        depart_pos="random",
        depart_lane="best",
        seed=seed,
    )
    route_file = write_routes(demand, net, work / f"grid{n}.rou.xml")
    return GridCase(name, n, net_file, route_file, net, demand)


def pasubio_copy(work: Path) -> Path:
    """Copy the Pasubio scenario into ``work`` and return its ``run.sumocfg``."""
    dst = work / "pasubio"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(PASUBIO, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    dst.chmod(0o755)
    return dst / "run.sumocfg"
