"""Batcher: local-frame conversion, velocities, covariance rotation, ordering, latest SPaT/parking/lamp state."""

from __future__ import annotations

import numpy as np
import pytest
from google.protobuf.message import Message

import proto
from ingest import IngestPipeline
from proto import pb
from roadnet.frames import Frame
from tests.ingest.messages import FRAME, bsm_env, objects, obu_topic, perception_env, rsu_topic, spat_env

T0 = 1_800_000_000_000_000_000
MS = 1_000_000
#: A UTM frame near Changsha: grid convergence about 0.5 degree at (0, 0), so east/north != x/y.
UTM49 = Frame("+proj=utm +zone=49 +datum=WGS84 +units=m +no_defs", (-400_000.0, -3_100_000.0))


def _pipeline(frame: Frame = FRAME) -> IngestPipeline:
    return IngestPipeline(frame=frame, std_decoder=None)


@pytest.mark.parametrize("frame", [FRAME, UTM49], ids=["tmerc-origin", "utm-offset"])
def test_detections_in_the_local_frame(frame: Frame) -> None:
    x, y = np.array([-120.0, 0.0, 35.5, 80.0]), np.array([60.0, 0.0, -20.25, 5.0])
    lat, lon = frame.to_wgs84(x, y) if frame is UTM49 else FRAME.to_wgs84(x, y)
    a = objects(x, y, speed=10.0, heading=np.pi / 2)  # east, 10 m/s
    a["lat"], a["lon"] = lat, lon
    p = _pipeline(frame)
    assert p.feed(rsu_topic("r1"), perception_env("r1", 1, T0, a).SerializeToString(), T0) is None
    d = p.drain(T0 + 100 * MS).detections
    assert d.dtype == proto.DETECTION_DTYPE and len(d) == 4
    np.testing.assert_allclose(d["x"], x, atol=0.02)  # 1e-7 degree ~ 1.1 cm
    np.testing.assert_allclose(d["y"], y, atol=0.02)
    heading = frame.compass_to_math(np.pi / 2)
    np.testing.assert_allclose(d["vx"], 10 * np.cos(heading), atol=0.01)
    np.testing.assert_allclose(d["vy"], 10 * np.sin(heading), atol=0.01)
    assert (d["sensor"] == 0).all() and (d["local_id"] == np.arange(4)).all()
    np.testing.assert_allclose(d["t"], T0 / 1e9)


def test_covariance_is_rotated_into_the_local_axes() -> None:
    a = objects([0.0, 0.0], [0.0, 0.0])
    a["cov_ee"], a["cov_en"], a["cov_nn"] = [1.0, 4.0], [0.0, 0.0], [1.0, 1.0]
    p = _pipeline(UTM49)
    lat, lon = UTM49.to_wgs84(np.zeros(2), np.zeros(2))
    a["lat"], a["lon"] = lat, lon
    p.feed(rsu_topic("r1"), perception_env("r1", 1, T0, a).SerializeToString(), T0)
    d = p.drain(T0).detections
    gamma = float(UTM49.compass_to_math(0.0)) - np.pi / 2  # x/y axes vs east/north
    assert abs(gamma) > np.radians(0.3)
    np.testing.assert_allclose([d["r_xx"][0], d["r_xy"][0], d["r_yy"][0]], [1, 0, 1], atol=1e-6)  # isotropic
    c, s = np.cos(gamma), np.sin(gamma)
    rot = np.array([[c, -s], [s, c]])
    want = rot @ np.diag([4.0, 1.0]) @ rot.T
    got = np.array([[d["r_xx"][1], d["r_xy"][1]], [d["r_xy"][1], d["r_yy"][1]]])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_missing_velocity_and_covariance_are_nan() -> None:
    env = perception_env("r1", 1, T0)
    for col in ("speed_002", "heading_00125", "cov_ee", "cov_en", "cov_nn"):
        env.perception.ClearField(col)
    p = _pipeline()
    assert p.feed(rsu_topic("r1"), env.SerializeToString(), T0) is None
    d = p.drain(T0).detections
    assert len(d) == 2 and np.isnan(d["vx"]).all() and np.isnan(d["vy"]).all() and np.isnan(d["r_xx"]).all()
    assert np.isfinite(d["x"]).all()


def test_bsm_reports_unavailable_codes_become_nan() -> None:
    p = _pipeline()
    p.feed(obu_topic("bus1"), bsm_env("bus1", 1, T0, bus_line="11").SerializeToString(), T0)
    p.feed(obu_topic("car2"), bsm_env("car2", 1, T0 + MS, speed_002=8191, heading_00125=28800).SerializeToString(), T0)
    r = p.drain(T0).reports
    assert r.dtype == proto.VEHICLE_REPORT_DTYPE and list(r["vehicle_id"]) == ["bus1", "car2"]
    bus, car = r[0], r[1]
    assert abs(bus["x"]) < 0.02 and abs(bus["y"]) < 0.02 and bus["bus_line"] == "11"
    assert abs(bus["vx"]) < 1e-6 and abs(bus["vy"] - 10.0) < 1e-6 and abs(bus["heading"] - np.pi / 2) < 1e-6
    assert bus["length"] == pytest.approx(12.0) and bus["cls"] == pb.OBJECT_CLASS_BUS
    assert np.isnan(car["speed"]) and np.isnan(car["heading"]) and np.isnan(car["vx"])


def test_bsm_batch_rows_join_the_reports() -> None:
    rows = np.zeros(3, dtype=proto.BSM_DTYPE)
    rows["vehicle_id"] = ["a", "b", "c"]
    rows["t_ns"] = [T0 + 2 * MS, T0, T0 + MS]
    rows["lat"], rows["lon"] = FRAME.to_wgs84(np.array([0.0, 10.0, 20.0]), np.zeros(3))
    rows["speed"], rows["heading"] = 5.0, 0.0
    env = proto.envelope("agg", 1, sent_ns=T0 + 2 * MS, bsm_batch=proto.array_to_bsm_batch(rows))
    p = _pipeline()
    assert p.feed(obu_topic("agg"), env.SerializeToString(), T0 + 3 * MS) is None
    r = p.drain(T0).reports
    assert list(r["vehicle_id"]) == ["b", "c", "a"]  # sorted by time
    np.testing.assert_allclose(r["x"], [10.0, 20.0, 0.0], atol=0.02)


def test_detections_sorted_by_time_and_sensors_indexed() -> None:
    p = _pipeline()
    for seq, (rsu, dt) in enumerate([("r1", 30), ("r2", 10), ("r1", 0), ("r2", 20)]):
        env = perception_env(rsu, seq // 2 if rsu == "r1" else seq, T0 + dt * MS)
        assert p.feed(rsu_topic(rsu), env.SerializeToString(), T0 + 40 * MS) is None
    b = p.drain(T0 + 50 * MS)
    assert np.all(np.diff(b.detections["t"]) >= 0)
    assert b.sensors == ("rsu/r1", "rsu/r2")
    assert set(b.detections["sensor"]) == {0, 1}


def test_sub_sensors_of_one_device_get_their_own_index() -> None:
    p = _pipeline()
    for seq, sid in enumerate(["cam", "radar", ""]):
        env = perception_env("r1", seq, T0)
        env.perception.sensor_id = sid
        assert p.feed(rsu_topic("r1"), env.SerializeToString(), T0) is None
    assert p.drain(T0).sensors == ("rsu/r1:cam", "rsu/r1:radar", "rsu/r1")


def test_latest_spat_by_its_own_time_and_expiry() -> None:
    p = IngestPipeline(frame=FRAME, std_decoder=None, state_ttl_s=5.0)
    topic = proto.topic("tsc", "j1", "spat", "up")
    assert p.feed(topic, spat_env("j1", 1, T0 + 200 * MS, phase=2).SerializeToString(), T0 + 201 * MS) is None
    assert p.feed(topic, spat_env("j1", 2, T0 + 100 * MS, phase=1).SerializeToString(), T0 + 202 * MS) is None
    b = p.drain(T0 + 300 * MS)
    assert b.spat["j1"].phase_index == 2  # the later timestamp wins over the later arrival
    assert p.drain(T0 + 300 * MS).spat["j1"].phase_index == 2  # state persists across drains
    assert p.drain(T0 + 6_000 * MS).spat == {}  # expired


def test_parking_lamp_and_priority_requests() -> None:
    p = _pipeline()
    park = pb.ParkingStatus(area_id="", measured_ns=T0, capacity=10, occupied=4)
    lamp = pb.LampPostStatus(measured_ns=T0, online=True, brightness_pct=70)
    req = pb.PriorityRequest(request_id="q1", junction_id="j1", eta_ns=T0 + 20_000 * MS)
    uplinks: list[tuple[str, str, str, str, Message]] = [
        ("lamp", "L1", "parking", "parking", park),
        ("lamp", "L1", "status", "lamp_status", lamp),
        ("obu", "bus7", "srm", "priority_request", req),
    ]
    for seq, (kind, dev, channel, body, msg) in enumerate(uplinks):
        env = proto.envelope(dev, seq, T0, **{body: msg})
        assert p.feed(proto.topic(kind, dev, channel, "up"), env.SerializeToString(), T0) is None
    b = p.drain(T0)
    assert b.parking["L1"].occupied == 4 and b.lamps["L1"].brightness_pct == 70
    assert [r.vehicle_id for r in b.priority_requests] == ["bus7"]
    assert p.drain(T0).priority_requests == []


def test_empty_drain() -> None:
    b = _pipeline().drain(T0)
    assert len(b.detections) == 0 and len(b.reports) == 0 and b.t == T0 / 1e9
