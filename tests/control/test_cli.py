"""``xj control plan``: the safety requirements of a map's controllers, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloud.cli import main
from roadnet import grid, save_map


def test_plan_of_a_generated_grid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "g.xjmap"
    save_map(grid(2, 2), path)
    assert main(["control", "plan", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4
    r = rows[0]
    assert [s["phase"] for s in r["stages"]] == [0, 3] and r["amber_s"] == "3" and r["all_red_s"] == "2"
    assert r["refused_programs"] == {}


def test_plan_of_pasubio_names_the_programs_it_refuses(pasubio: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = str(pasubio / "pasubio_buslanes.net.xml")
    assert main(["control", "plan", net, "--additional", str(pasubio / "pasubio_tls.add.xml"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 8 and all(r["program"] == "utopia" for r in rows)
    assert all(set(r["refused_programs"]) == {"0"} for r in rows)


def test_a_missing_map_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["control", "plan", str(tmp_path / "nope.xjmap")]) == 1
    assert "xj: error:" in capsys.readouterr().err
