"""Scenario files: the shipped ones load and build; every mistake names the file, section and key."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from roadnet import save_map
from roadnet.generators import grid
from sim.devices import FieldDevices
from sim.interface import LOCKSTEP_EPOCH
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_load_and_build(path: Path, shared_data: Path) -> None:
    scn = load_scenario(path)
    assert scn.name == path.stem and scn.seed > 0 and scn.duration > 0
    net, demand = scn.build(until=120.0)
    assert len(net.tls_ids) > 0 and len(demand) > 0 and demand.problems == []
    assert demand.connected.any()
    assert (demand.depart < 120.0 + scn.begin + 1e-9).all()
    devices = FieldDevices(net, scn.devices, epoch_ns=scn.epoch_ns, seed=scn.seed)
    assert devices.sensors.summary()["rsus"] == len({int(j) for j in net.tls_junctions})


def test_the_expected_scenarios_ship() -> None:
    assert {p.stem for p in SHIPPED} >= {"grid-medium", "grid-high", "corridor-bus", "pasubio"}


def test_a_minimal_scenario_gets_defaults(tmp_path: Path) -> None:
    scn = load_scenario(write(tmp_path, '[map]\ngenerator = "grid"\nnx = 2\nny = 2\n'))
    assert scn.name == "s" and scn.seed == 0 and scn.step == 0.1 and scn.start == LOCKSTEP_EPOCH
    assert scn.demand.kind == "generated" and scn.obu_share == 0.0
    net, demand = scn.build(until=60.0)
    assert net.tls_ids == ["J0_0", "J0_1", "J1_0", "J1_1"]
    # buses and robotaxis carry an OBU even with obu_share 0
    assert set(demand.cls[demand.connected].tolist()) <= {2, 4}


def test_start_times_and_seeds(tmp_path: Path) -> None:
    scn = load_scenario(
        write(tmp_path, 'seed = 9\nstart = 2026-03-01T07:30:00+08:00\n[map]\ngenerator = "corridor"\nn = 2\n')
    )
    assert scn.seed == 9 and scn.start == 1772321400.0
    a = scn.build(until=300.0)[1]
    b = scn.build(until=300.0)[1]
    c = scn.build(until=300.0, seed=10)[1]
    assert a.ids.tolist() == b.ids.tolist() and a.depart.tolist() == b.depart.tolist()
    assert a.depart.tolist() != c.depart.tolist()


def test_a_sumocfg_runs_as_is(pasubio: Path) -> None:
    scn = load_scenario(pasubio / "run.sumocfg")
    assert scn.demand.kind == "sumocfg" and scn.map.sumocfg == (pasubio / "run.sumocfg").resolve()
    net, demand = scn.build(until=60.0)
    assert len(net.tls_ids) == 8 and len(net.stop_ids) > 0
    assert len(demand) > 0 and (demand.depart < 60.0).all()
    assert (demand.line != "").any()  # the buses of pasubio_busses.rou.xml come with it


def test_a_map_file_with_relative_paths(tmp_path: Path) -> None:
    save_map(grid(2, 3), tmp_path / "maps" / "g.xjmap")
    scn = load_scenario(write(tmp_path, '[map]\nfile = "maps/g.xjmap"\n[demand]\nkind = "none"\n'))
    net, demand = scn.build()
    assert len(net.tls_ids) == 6 and len(demand) == 0


def test_explicit_sensors_in_local_or_wgs84_coordinates(tmp_path: Path) -> None:
    text = """
[map]
generator = "grid"
nx = 1
ny = 1
[devices]
rsu = "none"
lamp_posts = false
[[devices.sensor]]
id = "cam-east"
x = 50.0
y = 0.0
heading_deg = 180.0
fov_deg = 60.0
range_m = 80.0
[[devices.sensor]]
id = "cam-geo"
kind = "lamp"
lat = 28.1946
lon = 112.9680
polygon = [[-10, -10], [10, -10], [10, 10], [-10, 10]]
"""
    scn = load_scenario(write(tmp_path, text))
    net, _ = scn.build(until=10.0)
    fd = FieldDevices(net, scn.devices, epoch_ns=scn.epoch_ns)
    s = fd.sensors
    assert s.ids == ["cam-east", "cam-geo"]
    assert s.half_angle[0] == pytest.approx(math.radians(30.0)) and s.range[0] == 80.0
    assert s.heading[0] == pytest.approx(math.pi)
    assert abs(s.xy[1, 0]) < 0.5 and abs(s.xy[1, 1]) < 0.5  # the map's origin
    assert s.polygons[1] is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[map]\ngenerator = "grid"\n[devices]\nobu_share = 1.5\n',
            "s.toml: [devices] obu_share must be between 0 and 1",
        ),
        ('[map]\ngenerator = "grid"\n[devices]\ncompliance = -0.1\n', "[devices] compliance must be between 0 and 1"),
        ('[map]\ngenerator = "hexagon"\n', "[map] generator must be one of grid, corridor, got 'hexagon'"),
        ("[devices]\n", "[map] is missing"),
        ('[map]\ngenerator = "grid"\nfile = "x.xjmap"\n', "[map] needs exactly one of generator, file, sumocfg"),
        ('[map]\nfile = "nowhere.xjmap"\n', "[map] file names"),
        ('[map]\ngenerator = "grid"\nnx = 0\n', "[map] nx must be >= 1"),
        ('[map]\ngenerator = "grid"\nnx = "four"\n', "[map] nx must be an integer, got 'four'"),
        ('duration = -5\n[map]\ngenerator = "grid"\n', "duration must be > 0"),
        ('step = 3.0\n[map]\ngenerator = "grid"\n', "step must be between 0 and 1"),
        ('start = "tomorrow"\n[map]\ngenerator = "grid"\n', "start must be an ISO time with offset"),
        ('start = "2026-01-01T08:00:00"\n[map]\ngenerator = "grid"\n', "start needs a time zone offset"),
        ('[map]\ngenerator = "grid"\n[demand]\nkind = "magic"\n', "[demand] kind must be one of"),
        ('[map]\ngenerator = "grid"\n[demand]\nkind = "routes"\n', "[demand] files must list the SUMO route files"),
        (
            '[map]\ngenerator = "grid"\n[demand]\nshares = { car = 1.0, spaceship = 0.1 }\n',
            "[demand.shares] spaceship is not a vehicle type",
        ),
        ('[map]\ngenerator = "grid"\n[devices]\nrsu = "some"\n', '[devices] rsu must be "default", "none" or a list'),
        (
            '[map]\ngenerator = "grid"\n[devices]\nrsu_sensor = { miss = 1.0 }\n',
            "[devices.rsu_sensor] miss must be between 0 and 1",
        ),
        (
            '[map]\ngenerator = "grid"\n[devices]\nrsu_sensor = { rang_m = 10 }\n',
            "[devices.rsu_sensor] rang_m is not a known key",
        ),
        ('[map]\ngenerator = "grid"\n[devices]\nobu_shar = 0.1\n', "[devices] obu_shar is not a known key"),
        (
            '[map]\ngenerator = "grid"\n[[devices.sensor]]\nkind = "drone"\n',
            "[devices.sensor[0]] kind must be rsu or lamp",
        ),
        (
            '[map]\ngenerator = "grid"\n[[devices.sensor]]\npolygon = [[0, 0]]\n',
            "[devices.sensor[0]] polygon must be a list of at least 3",
        ),
        ("[map\n", "s.toml: not valid TOML"),
    ],
    ids=lambda v: v[:30] if isinstance(v, str) else v,
)
def test_mistakes_name_the_file_section_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    assert message in str(err.value)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(
            write(tmp_path, 'seed = "x"\n[map]\ngenerator = "grid"\n[devices]\nobu_share = 2\ncompliance = 3\n')
        )
    assert len(err.value.problems) == 3


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.toml: file not found"):
        load_scenario(tmp_path / "nope.toml")
