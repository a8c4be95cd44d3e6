"""Road-network fixtures: the real Pasubio network (loaded once) and generated ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from roadnet import RoadNetwork, corridor, grid, load_sumo

PASUBIO_ADDITIONAL = ["pasubio_tls.add.xml", "pasubio_bus_stops.add.xml", "pasubio_detectors.add.xml"]


@pytest.fixture(scope="session")
def pasubio_net_file(pasubio: Path) -> Path:
    return pasubio / "pasubio_buslanes.net.xml"


@pytest.fixture(scope="session")
def pasubio_net(pasubio: Path, pasubio_net_file: Path) -> RoadNetwork:
    return load_sumo(pasubio_net_file, [pasubio / a for a in PASUBIO_ADDITIONAL])


@pytest.fixture(scope="session")
def grid_net() -> RoadNetwork:
    return grid(3, 3)


@pytest.fixture(scope="session")
def corridor_net() -> RoadNetwork:
    return corridor(5)
