"""Control fixtures: the real Pasubio network (loaded once), a grid and a corridor, their plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.plan import ControllerPlan, build_plans
from roadnet import RoadNetwork, corridor, grid, load_sumo

PASUBIO_ADDITIONAL = ["pasubio_tls.add.xml", "pasubio_bus_stops.add.xml", "pasubio_detectors.add.xml"]


@pytest.fixture(scope="session")
def pasubio_net(pasubio: Path) -> RoadNetwork:
    return load_sumo(pasubio / "pasubio_buslanes.net.xml", [pasubio / a for a in PASUBIO_ADDITIONAL])


@pytest.fixture(scope="session")
def grid_net() -> RoadNetwork:
    return grid(3, 3)


@pytest.fixture(scope="session")
def corridor_net() -> RoadNetwork:
    return corridor(4)


@pytest.fixture(scope="session")
def nets(grid_net: RoadNetwork, corridor_net: RoadNetwork, pasubio_net: RoadNetwork) -> dict[str, RoadNetwork]:
    return {"grid": grid_net, "corridor": corridor_net, "pasubio": pasubio_net}


@pytest.fixture(scope="session")
def plans(nets: dict[str, RoadNetwork]) -> dict[str, list[ControllerPlan]]:
    return {k: build_plans(n) for k, n in nets.items()}
