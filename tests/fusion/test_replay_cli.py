"""``xj fusion replay`` on CSV files and on a recorded MQTT capture."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cloud.cli import main
from fusion.capture import format_record, read_records
from proto import PERCEPTION_DTYPE, array_to_bsm_batch, array_to_perception, envelope
from proto.codec import BSM_DTYPE
from roadnet import grid, save_map

DT = 0.1


VELOCITY = np.array([[10.0, 0.0], [0.0, -8.0], [0.0, 0.0]])


def _scene(ticks: int = 40) -> list[tuple[float, np.ndarray]]:
    """Two cars, one (standing) bus: positions per tick (local metres)."""
    out = []
    for k in range(ticks):
        t = 100.0 + k * DT
        out.append((t, np.array([[0.0, 0.0], [50.0, 0.0], [-30.0, 20.0]]) + VELOCITY * (t - 100.0)))
    return out


def _write_csv(path: Path, rows: list[list[str]], header: str = "t,sensor_id,x,y,vx,vy,class,confidence") -> None:
    with path.open("w", newline="") as f:
        f.write(header + "\n")
        csv.writer(f).writerows(rows)


def _detection_rows(seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for t, pos in _scene():
        for sensor, sd in (("cam-north", 0.4), ("radar-7", 0.8)):
            p = pos + rng.normal(0, sd, pos.shape)
            for i, (x, y) in enumerate(p):
                cls = "bus" if i == 2 else "car"
                rows.append([f"{t:.3f}", sensor, f"{x:.3f}", f"{y:.3f}", "", "", cls, "0.9"])
    return rows


def _read_tracks(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_csv_replay_writes_one_track_per_vehicle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "det.csv", tmp_path / "tracks.csv"
    _write_csv(src, _detection_rows())
    assert main(["fusion", "replay", str(src), "--out", str(out), "--quiet"]) == 0
    rows = _read_tracks(out)
    assert list(rows[0]) == ["t", "track_id", "x", "y", "vx", "vy", "class"]
    last_t = max(float(r["t"]) for r in rows)
    last = [r for r in rows if float(r["t"]) == last_t]
    assert len(last) == 3
    assert sorted(r["class"] for r in last) == ["bus", "car", "car"]
    assert len({r["track_id"] for r in rows}) == 3
    assert "3 confirmed tracks" in capsys.readouterr().out


def test_bad_rows_are_skipped_and_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _detection_rows()
    rows[5][2] = "east"  # line 7 of the file
    rows[9][6] = "spaceship"  # line 11
    rows[12] = rows[12][:2]  # line 14
    src, out = tmp_path / "det.csv", tmp_path / "tracks.csv"
    _write_csv(src, rows)
    assert main(["fusion", "replay", str(src), "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"skipped 3 of {len(rows)} rows" in err
    assert "line 7: column x: 'east' is not a number" in err
    assert "line 11: column class: 'spaceship' is not an object class" in err
    assert "line 14: 2 fields" in err
    assert len(_read_tracks(out)) > 0


@pytest.mark.parametrize(
    ("header", "message"),
    [("t,sensor,x,y", "lacks column(s) sensor_id"), ("", "empty")],
    ids=["missing-column", "empty-file"],
)
def test_unusable_csv_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, message: str
) -> None:
    src = tmp_path / "det.csv"
    src.write_text(header + ("\n1,a,2,3\n" if header else ""))
    assert main(["fusion", "replay", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xj: error:") and message in err


def test_missing_input_and_lanes_without_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fusion", "replay", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    src = tmp_path / "det.csv"
    _write_csv(src, _detection_rows())
    assert main(["fusion", "replay", str(src), "--out", str(tmp_path / "o.csv"), "--lanes", "l.csv"]) == 2
    assert "--lanes needs --map" in capsys.readouterr().err


def test_capture_replay_in_the_maps_frame(tmp_path: Path) -> None:
    net = grid(2, 2)
    map_path = save_map(net, tmp_path / "grid.xjmap")
    frame = net.frame
    rng = np.random.default_rng(3)
    lines = ["# recorded with mosquitto_sub -F '@s.@N %t %x'"]
    seq = 0
    for t, pos in _scene():
        for sensor, sd in (("rsu-1", 0.3), ("lamp-9", 0.6)):
            p = pos + rng.normal(0, sd, pos.shape)
            lat, lon = frame.to_wgs84(p[:, 0], p[:, 1])
            rows = np.zeros(len(p), dtype=PERCEPTION_DTYPE)
            rows["local_id"] = np.arange(len(p))
            rows["lat"], rows["lon"] = lat, lon
            rows["speed"] = np.hypot(*VELOCITY.T)
            rows["heading"] = frame.math_to_compass(np.arctan2(VELOCITY[:, 1], VELOCITY[:, 0]))
            rows["cls"] = 1
            rows["confidence"] = 0.9
            rows["cov_ee"] = rows["cov_nn"] = sd**2
            rows["cov_en"] = 0.0
            f = array_to_perception(rows, sensor, int(t * 1e9))
            seq += 1
            payload = envelope(sensor, seq, int((t + 0.02) * 1e9), perception=f).SerializeToString()
            kind = "rsu" if sensor.startswith("rsu") else "lamp"
            lines.append(format_record(t + 0.03, f"v2x/v1/{kind}/{sensor}/perception/up", payload))
        # the bus reports itself
        bsm = np.zeros(1, dtype=BSM_DTYPE)
        bsm["vehicle_id"], bsm["bus_line"], bsm["cls"] = "bus-3", "202", 2
        bsm["t_ns"] = int(t * 1e9)
        bsm["lat"], bsm["lon"] = frame.to_wgs84(pos[2:3, 0], pos[2:3, 1])
        payload = envelope("agg-1", seq, int(t * 1e9), bsm_batch=array_to_bsm_batch(bsm)).SerializeToString()
        lines.append(format_record(t + 0.01, "v2x/v1/obu/bus-3/bsm/up", payload))
    lines.append("1767225600.5 v2x/v1/rsu/rsu-1/perception/up not-hex")
    lines.append("1767225600.5 v2x/v1/rsu/rsu-1/perception/up 0aff")
    cap = tmp_path / "capture.txt"
    cap.write_text("\n".join(lines) + "\n")
    records, problems = read_records(cap.read_text().splitlines())
    assert len(records) == len(lines) - 2  # the comment and the bad line
    assert problems == [(len(lines) - 1, "payload is not hexadecimal")]
    out, lanes = tmp_path / "tracks.csv", tmp_path / "lanes.csv"
    code = main(
        ["fusion", "replay", str(cap), "--out", str(out), "--map", str(map_path), "--lanes", str(lanes), "--quiet"]
    )
    assert code == 0
    written = _read_tracks(out)
    last_t = max(float(r["t"]) for r in written)
    last = [r for r in written if float(r["t"]) == last_t]
    truth = _scene()[-1][1]
    got = np.array([[float(r["x"]), float(r["y"])] for r in last])
    assert len(got) == 3
    assert np.abs(np.sort(got, axis=0) - np.sort(truth, axis=0)).max() < 1.0
    assert "bus" in {r["class"] for r in last}
    assert lanes.read_text().startswith("t,lane_id,count")
