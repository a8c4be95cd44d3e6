"""Bad input exits non-zero naming the file and the problem; validation names the element."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cloud.cli import main
from roadnet import RoadNetwork, load_sumo, summary, validate
from roadnet.errors import MapError

XJ = [sys.executable, "-m", "cloud.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*XJ, *args], check=False, capture_output=True, text=True, timeout=120)


def test_import_validate_info_cli(pasubio: Path, tmp_path: Path) -> None:
    out = tmp_path / "pasubio.xjmap"
    add = ",".join(str(pasubio / f) for f in ("pasubio_tls.add.xml", "pasubio_bus_stops.add.xml"))
    r = run("map", "import", str(pasubio / "pasubio_buslanes.net.xml"), "--additional", add, "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.exists()
    r = run("map", "validate", str(out))
    assert r.returncode == 0 and "0 error(s)" in r.stdout
    for target in (str(out), str(pasubio / "run.sumocfg")):
        r = run("map", "info", target, "--json")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["signalised_junctions"] == 15 and info["signal_controllers"] == 8
        assert info["bus_stops"] == 25 and len(info["bbox_wgs84"]) == 4
        assert info["junctions"] == 65 and info["lanes"] == 186


def test_truncated_xml(pasubio: Path, tmp_path: Path) -> None:
    text = (pasubio / "pasubio_buslanes.net.xml").read_text()
    bad = tmp_path / "truncated.net.xml"
    bad.write_text(text[: len(text) // 2])
    r = run("map", "info", str(bad))
    assert r.returncode != 0
    assert str(bad) in r.stderr and "malformed XML at line" in r.stderr


def test_missing_referenced_lane(pasubio: Path, tmp_path: Path) -> None:
    text = (pasubio / "pasubio_buslanes.net.xml").read_text()
    # point one connection at a lane that does not exist
    bad_text, n = re.subn(r'(<connection from="100" to="7" fromLane="0" toLane=)"0"', r'\1"9"', text, count=1)
    assert n == 1
    bad = tmp_path / "badref.net.xml"
    bad.write_text(bad_text)
    r = run("map", "import", str(bad), "-o", str(tmp_path / "x.xjmap"))
    assert r.returncode != 0
    assert str(bad) in r.stderr and "to lane '7_9' does not exist" in r.stderr
    assert not (tmp_path / "x.xjmap").exists()


def test_not_a_sumo_file(pasubio: Path, tmp_path: Path) -> None:
    r = run("map", "info", str(pasubio / "pasubio_vtypes.add.xml"))
    assert r.returncode != 0 and "not a SUMO file: root element is" in r.stderr
    txt = tmp_path / "notes.txt"
    txt.write_text("just words\n")
    r = run("map", "validate", str(txt))
    assert r.returncode != 0 and str(txt) in r.stderr
    r = run("map", "info", str(tmp_path / "missing.net.xml"))
    assert r.returncode != 0 and "file not found" in r.stderr


def test_program_state_length_mismatch_is_named(pasubio: Path, tmp_path: Path) -> None:
    tls = (pasubio / "pasubio_tls.add.xml").read_text()
    bad_text = tls.replace('state="rrrGGGgrrrrGGGGgrGGG"', 'state="rrrGGGgrrrrGGGGgrGG"', 1)
    assert bad_text != tls
    bad = tmp_path / "tls.add.xml"
    bad.write_text(bad_text)
    net = load_sumo(pasubio / "pasubio_buslanes.net.xml", [bad])
    errors = [i for i in validate(net) if i.severity == "error"]
    assert any(
        "signal controller 218 program utopia phase 0" in i.element and "19 characters" in i.message for i in errors
    )
    r = run("map", "validate", str(pasubio / "pasubio_buslanes.net.xml"), "--additional", str(bad))
    assert r.returncode == 1 and "218" in r.stderr


def test_conflicting_protected_greens_are_named(pasubio: Path, tmp_path: Path) -> None:
    tls = (pasubio / "pasubio_tls.add.xml").read_text()
    bad_text = tls.replace('state="rrrGGGgrrrrGGGGgrGGG"', 'state="GGGGGGGGGGGGGGGGGGGG"', 1)
    bad = tmp_path / "tls.add.xml"
    bad.write_text(bad_text)
    net = load_sumo(pasubio / "pasubio_buslanes.net.xml", [bad])
    msgs = [str(i) for i in validate(net) if "protected greens" in i.message]
    assert msgs and all("signal controller 218 program utopia phase 0" in m for m in msgs)
    assert "->" in msgs[0]  # names the movements by lane


def test_unknown_controller_in_additional(pasubio: Path, tmp_path: Path) -> None:
    bad = tmp_path / "tls.add.xml"
    bad.write_text(
        '<additional><tlLogic id="nope" programID="x" type="static" offset="0">'
        '<phase duration="5" state="r"/></tlLogic></additional>'
    )
    with pytest.raises(MapError, match="nope"):
        load_sumo(pasubio / "pasubio_buslanes.net.xml", [bad])


def test_cli_main_in_process(grid_net: RoadNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "g.xjmap"
    assert main(["map", "generate", "grid", "--nx", "2", "--ny", "3", "-o", str(out)]) == 0
    assert main(["map", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert info["signalised_junctions"] == 6 and info["signal_controllers"] == 6
    assert main(["map", "validate", str(out)]) == 0


@pytest.mark.parametrize(
    "args",
    [
        [
            "--grid",
            "--grid.number=6",
            "--grid.length=150",
            "--default.lanenumber=2",
            "--tls.guess",
            "--no-internal-links",
        ],
        ["--rand", "--rand.iterations=120", "--seed=7", "--tls.guess", "--default.lanenumber=2"],
        ["--spider", "--spider.arm-number=7", "--spider.circle-number=5", "--tls.guess"],
    ],
    ids=["grid-no-internal", "random", "spider"],
)
def test_other_sumo_networks(args: list[str], tmp_path: Path) -> None:
    import sumo
    import sumolib

    exe = shutil.which("netgenerate") or str(Path(sumo.SUMO_HOME) / "bin" / "netgenerate")
    out = tmp_path / "g.net.xml"
    subprocess.run([exe, *args, "-o", str(out)], check=True, capture_output=True, timeout=120)
    net = load_sumo(out)
    ref = sumolib.net.readNet(str(out))
    s = summary(net)
    assert s["signal_controllers"] == len(ref.getTrafficLights())
    assert s["lanes"] == sum(len(e.getLanes()) for e in ref.getEdges())
    assert s["signalised_junctions"] == sum(n.getType() == "traffic_light" for n in ref.getNodes())
    assert s["junctions"] == len(ref.getNodes())
    assert s["signalised_junctions"] > 0
    assert [str(i) for i in validate(net) if i.severity == "error"] == []
    # not geo-referenced: placed at the default origin, still a valid WGS84 box
    lon0, lat0, lon1, lat1 = s["bbox_wgs84"]
    assert s["georeferenced"] is False and -180 < lon0 < lon1 < 180 and -90 < lat0 < lat1 < 90
    # conflicts exist wherever there are signals
    assert all(net.tls_conflicts(t)[0].any() for t in range(len(net.tls_ids)) if net.tls_n_links[t] > 3)
