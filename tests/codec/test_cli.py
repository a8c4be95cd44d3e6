"""``xj codec decode`` / ``encode`` through the real command, in-process and as a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cloud.cli import main
from tests.codec.conftest import CsaeSample, J2735Sample

XJ = Path(sys.executable).with_name("xj")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["codec", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_decode_frame_prints_standard_json_and_encode_gives_the_bytes_back(
    csae_samples: list[CsaeSample], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for s in csae_samples:
        rc, out, _ = _run(capsys, "decode", "--std", "csae", "--frame", "rsu", s.frame.hex())
        assert rc == 0
        doc = json.loads(out)
        assert doc["rsuId"] == s.rsu_id and doc["utcMs"] == s.utc_ms and len(doc["messages"]) == len(s.uper)
        path = tmp_path / f"{s.name}.json"
        path.write_text(out, encoding="utf-8")
        rc, out, _ = _run(capsys, "encode", "--std", "csae", "--frame", "rsu", str(path))
        assert (rc, out.strip()) == (0, s.frame.hex()), s.name


def test_decode_reads_a_binary_file_and_prints_field_names_and_units(
    csae_samples: list[CsaeSample], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spat = next(s for s in csae_samples if s.name == "SPAT")
    path = tmp_path / "spat.uper"
    path.write_bytes(spat.uper[0])
    rc, out, _ = _run(capsys, "decode", "--std", "csae", str(path))
    assert rc == 0
    doc = json.loads(out)["spatFrame"]
    assert (doc["msgCnt"], doc["moy"], doc["timeStamp"]) == (48, 458335, 5238)
    phase = doc["intersections"][0]["phases"][0]
    assert phase["phaseStates"][0] == {
        "light": "permissive-green",
        "timing": {"counting": {"startTime": 0, "likelyEndTime": 30, "nextStartTime": 30, "nextDuration": 30}},
    }
    rc, out, _ = _run(capsys, "decode", "--std", "csae", "--platform", spat.uper[0].hex(), "--ref-ms", "1605336902333")
    (msg,) = json.loads(out)
    assert msg["type"] == "Spat" and msg["junction_id"] == "255-9" and len(msg["groups"]) == 8


def test_j2735_open_types_are_named_and_round_trip(
    j2735_samples: dict[str, J2735Sample], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    s = j2735_samples["BSM"]
    rc, out, _ = _run(capsys, "decode", "--std", "j2735", s.uper.hex().upper())
    assert rc == 0
    doc = json.loads(out)
    part = doc["value"]["BasicSafetyMessage"]["partII"][0]["partII-Value"]
    assert list(part) == ["VehicleSafetyExtensions"]
    (tmp_path / "bsm.json").write_text(out, encoding="utf-8")
    rc, out, _ = _run(capsys, "encode", "--std", "j2735", str(tmp_path / "bsm.json"), "--out", str(tmp_path / "b"))
    assert rc == 0 and (tmp_path / "b").read_bytes() == s.uper


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["decode", "--std", "csae", "zz"], "neither hex text nor a file"),
        (["decode", "--std", "csae", "00148"], "5 hex digits"),
        (["decode", "--std", "csae", "002eb7d5"], r"MessageFrame\.bsmFrame\.\S+: out of data"),
        (["decode", "--std", "csae", "--frame", "rsu", "00"], "shorter than the 16-byte header"),
        (["encode", "--std", "csae", '{"bsmFrame": {"msgCnt": 1000}}'], r"bsmFrame\.msgCnt: .*0 and 127"),
        (["encode", "--std", "csae", '{"tim": {}}'], "'tim' is not one of bsmFrame"),
        (["encode", "--std", "j2735", "{"], "is not JSON"),
    ],
    ids=["not-hex", "odd-hex", "truncated", "short-frame", "out-of-range", "unknown-type", "bad-json"],
)
def test_mistakes_print_one_line_naming_the_field(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = _run(capsys, *argv)
    assert rc == 2 and out == ""
    assert err.startswith("xj: error: ") and err.count("\n") == 1
    assert re.search(message, err), err


def test_the_installed_command(csae_samples: list[CsaeSample]) -> None:
    rsm = next(s for s in csae_samples if s.name == "RSM")
    done = subprocess.run(
        [str(XJ), "codec", "decode", "--std", "csae", "--frame", "rsu", rsm.frame.hex()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (msg,) = json.loads(done.stdout)["messages"]
    assert msg["rsmFrame"]["participants"][0]["ptcType"] == "non-motor"
    bad = subprocess.run(
        [str(XJ), "codec", "decode", "--std", "csae", "0"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2 and bad.stderr.startswith("xj: error: ")
