"""Roadside sensors, OBUs and the device bundle, driven by the stand-in engine."""

from __future__ import annotations

import numpy as np
import pytest

from proto import pb, perception_to_array
from proto.arrays import DETECTION_DTYPE, VEHICLE_REPORT_DTYPE
from proto.codec import array_to_bsm_batch, array_to_bsms, bsm_batch_to_array
from roadnet import classes, grid
from sim.devices import (
    GLOSA_COMPLIANT,
    GLOSA_NONCOMPLIANT,
    DeviceConfig,
    FieldDevices,
    ObuParams,
    Obus,
    SensorParams,
    Sensors,
    SensorSpec,
    VehicleIndex,
    default_layout,
    wire_id,
)
from sim.devices.wire import bsm_rows, perception_frames
from sim.interface import TRUTH_DTYPE, Decisions
from tests.sim.test_devices_standin import Car, StandInEngine, approach_lane

EPOCH_NS = 1_767_225_600_000_000_000


def truth_at(xy: list[tuple[float, float]], vx: float = 5.0) -> np.ndarray:
    tr = np.zeros(len(xy), dtype=TRUTH_DTYPE)
    tr["vehicle_id"] = [f"v{i}" for i in range(len(xy))]
    tr["x"] = [p[0] for p in xy]
    tr["y"] = [p[1] for p in xy]
    tr["vx"] = vx
    tr["speed"] = abs(vx)
    tr["length"] = 4.5
    tr["width"] = 1.8
    tr["cls"] = classes.CAR
    return tr


def quiet(**kw: float) -> SensorParams:
    base = {"sigma_m": 0.0, "sigma_v": 0.0, "miss": 0.0, "false_alarms": 0.0, "latency_s": 0.0}
    base.update(kw)
    return SensorParams(**base)


# ---------------------------------------------------------------------------- layout


def test_default_layout_puts_an_rsu_at_every_signalised_junction_and_lamps_at_parking() -> None:
    net = grid(3, 2)
    specs = default_layout(net)
    rsus = [s for s in specs if s.kind == "rsu"]
    lamps = [s for s in specs if s.kind == "lamp"]
    assert sorted(s.ident for s in rsus) == sorted(f"rsu-{j}" for j in net.tls_ids)
    assert len(lamps) == len(net.parking_ids)
    assert sorted(a for s in lamps for a in s.parking) == list(range(len(net.parking_ids)))
    for s in rsus:
        j = net.junction_index_of[s.ident[4:]]
        assert np.hypot(s.x - net.junction_xy[j, 0], s.y - net.junction_xy[j, 1]) < 10.0
    only = default_layout(net, rsu=["J1_1"], lamp_posts=False)
    assert [s.ident for s in only] == ["rsu-J1_1"]
    with pytest.raises(ValueError, match="unknown junction"):
        default_layout(net, rsu=["nope"])


def test_wire_ids_are_topic_safe() -> None:
    assert wire_id("-123#4 a/b+c") == "-123_4_a_b_c"
    assert wire_id("J0_0") == "J0_0"


def test_vehicle_index_is_stable_in_order_of_appearance() -> None:
    vi = VehicleIndex(seed=3)
    a = vi.codes(np.array(["b", "a", "c"]))
    b = vi.codes(np.array(["c", "z", "a", "b"]))
    assert a.tolist() == [0, 1, 2] and b.tolist() == [2, 3, 1, 0]
    assert vi.ids.tolist() == ["b", "a", "c", "z"]
    assert VehicleIndex(seed=3).u.tolist() == [] and len(vi.u) == 4


# ---------------------------------------------------------------------------- sensors


def test_a_sensor_sees_what_is_in_range_with_stable_ids() -> None:
    s = Sensors([SensorSpec("r", "rsu", 0.0, 0.0, params=quiet(range_m=100.0))], epoch_ns=EPOCH_NS)
    vi = VehicleIndex()
    tr = truth_at([(10.0, 0.0), (50.0, 50.0), (120.0, 0.0)])
    ids = []
    for k in range(5):
        tr["x"] += 1.0
        s.capture(k * 0.1, tr, vi.codes(tr["vehicle_id"]))
        d = s.deliver(k * 0.1)
        assert len(d.frame_sensor) == 1
        det = d.detections
        assert det.dtype == DETECTION_DTYPE and len(det) == 2  # the third is 120 m away
        np.testing.assert_allclose(np.sort(det["x"]), [11.0 + k, 51.0 + k])
        ids.append(sorted(det["local_id"].tolist()))
        assert det["t"][0] == pytest.approx(EPOCH_NS / 1e9 + k * 0.1)
    assert all(i == ids[0] for i in ids)
    assert len(set(ids[0])) == 2


def test_ids_survive_misses_but_not_leaving_the_view() -> None:
    s = Sensors([SensorSpec("r", "rsu", 0.0, 0.0, params=quiet(range_m=100.0, miss=0.5))], epoch_ns=EPOCH_NS, seed=1)
    vi = VehicleIndex()
    tr = truth_at([(10.0, 0.0)])
    seen = set()
    for k in range(40):
        s.capture(k * 0.1, tr, vi.codes(tr["vehicle_id"]))
        seen.update(s.deliver(k * 0.1).detections["local_id"].tolist())
    assert len(seen) == 1
    tr["x"] = 500.0  # leaves
    s.capture(4.0, tr, vi.codes(tr["vehicle_id"]))
    tr["x"] = 10.0  # and comes back: a new object for the sensor
    for k in range(41, 60):
        s.capture(k * 0.1, tr, vi.codes(tr["vehicle_id"]))
        seen.update(s.deliver(k * 0.1).detections["local_id"].tolist())
    assert len(seen) == 2


def test_noise_miss_and_false_alarm_rates_match_the_parameters() -> None:
    p = SensorParams(range_m=100.0, sigma_m=2.0, sigma_v=0.0, miss=0.2, false_alarms=3.0, latency_s=0.0)
    s = Sensors([SensorSpec("r", "rsu", 0.0, 0.0, params=p)], epoch_ns=EPOCH_NS, seed=7)
    vi = VehicleIndex()
    tr = truth_at([(float(x), 0.0) for x in range(-40, 41, 8)])  # 11 vehicles in view
    real, ghosts, err = 0, 0, []
    frames = 2000
    for k in range(frames):
        s.capture(k * 0.1, tr, vi.codes(tr["vehicle_id"]))
        det = s.deliver(k * 0.1).detections
        fa = det["cls"] == pb.OBJECT_CLASS_UNKNOWN
        ghosts += int(fa.sum())
        real += int((~fa).sum())
        err.append(det["y"][~fa])
        assert (np.hypot(det["x"][fa], det["y"][fa]) <= 100.0).all()
    assert real / (11 * frames) == pytest.approx(0.8, abs=0.02)
    assert ghosts / frames == pytest.approx(3.0, rel=0.05)
    assert np.std(np.concatenate(err)) == pytest.approx(2.0, rel=0.05)


def test_sector_and_polygon_fields_of_view() -> None:
    sector = SensorSpec("cam", "rsu", 0.0, 0.0, heading=0.0, params=quiet(range_m=100.0, fov_deg=90.0))
    square = np.array([[-10.0, -10.0], [10.0, -10.0], [10.0, 10.0], [-10.0, 10.0]])
    poly = SensorSpec("lamp", "lamp", 0.0, 0.0, params=quiet(range_m=100.0), polygon=square)
    s = Sensors([sector, poly], epoch_ns=EPOCH_NS)
    tr = truth_at([(50.0, 10.0), (50.0, 60.0), (-50.0, 0.0), (5.0, 5.0)])
    s.capture(0.0, tr, VehicleIndex().codes(tr["vehicle_id"]))
    det = s.deliver(0.0).detections
    by_sensor = {k: sorted(det["x"][det["sensor"] == k].tolist()) for k in (0, 1)}
    # the 90 degree sector looking east sees (50, 10) and (5, 5), not (50, 60) nor (-50, 0)
    assert by_sensor[0] == [5.0, 50.0]
    assert by_sensor[1] == [5.0]
    # the same geometry without a capture: what some sensor could see
    assert s.in_view(tr["x"], tr["y"]).tolist() == [True, False, False, True]
    assert s.in_view(np.zeros(0), np.zeros(0)).shape == (0,)


def test_latency_delays_delivery_and_clock_offset_shifts_stamps() -> None:
    p = quiet(range_m=100.0, latency_s=0.25, clock_offset_s=0.5, rate_hz=5.0)
    s = Sensors([SensorSpec("r", "rsu", 0.0, 0.0, params=p)], epoch_ns=EPOCH_NS, seed=2)
    vi = VehicleIndex()
    tr = truth_at([(10.0, 0.0)])
    got = []
    for k in range(11):
        t = round(k * 0.1, 6)
        s.capture(t, tr, vi.codes(tr["vehicle_id"]))
        d = s.deliver(t)
        got += [(t, int(ns)) for ns in d.frame_ns.tolist()]
    off = float(s.clock_offset[0])
    assert off != 0.0
    # 5 Hz frames captured at 0, 0.2, 0.4, ... delivered 0.25 s later (at the next tick after)
    assert [g[0] for g in got] == [0.3, 0.5, 0.7, 0.9]
    assert [g[1] for g in got] == [EPOCH_NS + round((c + off) * 1e9) for c in (0.0, 0.2, 0.4, 0.6)]


def test_perception_frames_encode_positions_in_wgs84() -> None:
    net = grid(2, 2)
    fd = FieldDevices(net, DeviceConfig(rsu_params=quiet(), lamp_posts=False), epoch_ns=EPOCH_NS)
    eng = StandInEngine(
        net,
        [Car("a", approach_lane(net, "W0-J0_0"), 100.0, 10.0), Car("b#1", approach_lane(net, "J0_0-J1_0"), 20.0, 8.0)],
    )
    tick, _ = fd.tick(eng)
    frames = perception_frames(tick.delivered, fd.sensors.ids, net.frame)
    assert len(frames) == len(net.tls_ids)
    arrs = [perception_to_array(pb.PerceptionFrame.FromString(f.SerializeToString())) for _, f in frames]
    allrows = np.concatenate(arrs)
    x, y = net.frame.to_local(allrows["lat"], allrows["lon"])
    det = tick.delivered.detections
    np.testing.assert_allclose(np.sort(x), np.sort(det["x"]), atol=0.02)
    np.testing.assert_allclose(np.sort(y), np.sort(det["y"]), atol=0.02)
    np.testing.assert_allclose(np.sort(allrows["speed"]), np.sort(np.hypot(det["vx"], det["vy"])), atol=0.02)
    assert frames[0][1].sensor_id == fd.sensors.ids[frames[0][0]]


# ---------------------------------------------------------------------------- OBUs


def test_obus_send_bsms_for_connected_vehicles_at_their_rate() -> None:
    net = grid(2, 2)
    lane = approach_lane(net, "W0-J0_0")
    cars = [
        Car("c1", lane, 10.0, 10.0),
        Car("c2", lane, 30.0, 10.0, connected=False),
        Car("bus 1", lane, 50.0, 8.0, cls=classes.BUS, bus_line="B1"),
    ]
    eng = StandInEngine(net, cars)
    vi = VehicleIndex()
    obu = Obus(net, vi, epoch_ns=EPOCH_NS, params=ObuParams(rate_hz=5.0, gps_sigma_m=0.0))
    n_rows = []
    last = np.zeros(0, dtype=VEHICLE_REPORT_DTYPE)
    for _ in range(10):
        eng.step(None)
        tr = eng.truth()
        rep = obu.observe(eng.t, tr, vi.codes(tr["vehicle_id"]))
        last = rep if len(rep) else last
        assert rep.dtype == VEHICLE_REPORT_DTYPE
        n_rows.append(len(rep))
        if len(rep):
            assert set(rep["vehicle_id"].tolist()) == {"c1", "bus 1"}
            np.testing.assert_allclose(rep["x"], tr["x"][tr["connected"]])
            assert rep["t"][0] == pytest.approx(EPOCH_NS / 1e9 + eng.t)
    assert n_rows == [2, 0] * 5
    rep = last
    wire = bsm_rows(rep, net.frame)
    assert wire["vehicle_id"].tolist() == ["c1", "bus_1"]
    back = bsm_batch_to_array(pb.BsmBatch.FromString(array_to_bsm_batch(wire).SerializeToString()))
    x, y = net.frame.to_local(back["lat"], back["lon"])
    np.testing.assert_allclose(x, rep["x"], atol=0.02)
    np.testing.assert_allclose(y, rep["y"], atol=0.02)
    assert [b.bus_line for b in array_to_bsms(wire)] == ["", "B1"]
    assert obu.summary()["connected_vehicles"] == 2


def _advisory(vid: str, t_ns: int, **body: object) -> pb.Advisory:
    return pb.Advisory(advisory_id=f"a-{vid}", vehicle_id=vid, issued_ns=t_ns, expires_ns=t_ns + 20 * 10**9, **body)  # type: ignore[arg-type]


@pytest.mark.parametrize(("compliance", "complied"), [(1.0, True), (0.0, False)], ids=["compliant", "noncompliant"])
def test_obus_act_on_speed_advice_with_their_compliance(compliance: float, complied: bool) -> None:
    net = grid(2, 2, spacing=400.0)
    lane = approach_lane(net, "W0-J0_0")
    eng = StandInEngine(net, [Car("c1", lane, 0.0, 12.0), Car("c2", lane, 40.0, 12.0, connected=False)])
    fd = FieldDevices(net, DeviceConfig(obu=ObuParams(compliance=compliance)), epoch_ns=EPOCH_NS)
    fd.tick(eng)
    now_ns = EPOCH_NS + round(eng.t * 1e9)
    speed = pb.SpeedAdvice(junction_id="J0_0", speed_002=250)  # 5 m/s
    _, res = fd.apply(
        Decisions(advisories=[_advisory("c1", now_ns, speed=speed), _advisory("c2", now_ns, speed=speed)]), eng
    )
    assert [r.applied for r in res] == [complied, False]
    assert res[1].reason == "vehicle not connected or not present"
    for _ in range(60):
        fd.tick(eng)
    assert eng.speed_of("c1") == pytest.approx(5.0 if complied else 12.0)
    assert fd.obus.groups == {"c1": GLOSA_COMPLIANT if complied else GLOSA_NONCOMPLIANT}
    for _ in range(180):  # the advice expires after 20 s
        fd.tick(eng)
    assert eng.speed_of("c1") == pytest.approx(12.0)


def test_obus_follow_route_advice_and_record_the_rest() -> None:
    net = grid(2, 2)
    eng = StandInEngine(net, [Car("c1", approach_lane(net, "W0-J0_0"), 10.0, 12.0)])
    fd = FieldDevices(net, DeviceConfig(obu=ObuParams(compliance=1.0)), epoch_ns=EPOCH_NS)
    fd.tick(eng)
    t_ns = EPOCH_NS + round(eng.t * 1e9)
    advs = [
        _advisory("c1", t_ns, route=pb.RouteAdvice(edge_ids=["W0-J0_0", "J0_0-J1_0"])),
        _advisory("c1", t_ns, route=pb.RouteAdvice(edge_ids=["nowhere"])),
        _advisory("c1", t_ns, priority=pb.PriorityResponse(junction_id="J0_0", status=pb.PRIORITY_STATUS_GRANTED)),
        _advisory("c1", t_ns, hazard=pb.HazardWarning(event_id="e1", kind=pb.EVENT_KIND_INCIDENT)),
        pb.Advisory(advisory_id="old", vehicle_id="c1", expires_ns=t_ns - 1, speed=pb.SpeedAdvice(speed_002=100)),
    ]
    _, res = fd.apply(Decisions(advisories=advs), eng)
    assert [(r.kind, r.applied) for r in res] == [
        ("route", True),
        ("route", False),
        ("priority", True),
        ("hazard", True),
        ("speed", False),
    ]
    assert res[2].reason == "PRIORITY_STATUS_GRANTED" and res[4].reason == "expired on arrival"
    assert eng.routes == {"c1": ["W0-J0_0", "J0_0-J1_0"]}
    assert len(fd.obus.priority_log) == 1 and len(fd.obus.hazards) == 1


def test_a_bus_requests_priority_on_approach_and_cancels_after() -> None:
    net = grid(2, 2)
    lane = approach_lane(net, "W0-J0_0")  # 192 m long, ends at J0_0
    bus = Car("bus1", lane, 0.0, 10.0, cls=classes.BUS, bus_line="B1")
    car = Car("car1", lane, 100.0, 10.0)
    eng = StandInEngine(net, [bus, car])
    fd = FieldDevices(net, epoch_ns=EPOCH_NS)
    reqs: list[tuple[float, pb.PriorityRequest]] = []
    for _ in range(250):
        tick, _ = fd.tick(eng)
        reqs += [(tick.t, r) for r in tick.priority_requests]
    assert [r.cancel for _, r in reqs] == [False, True]
    (t_req, req), (t_cancel, cancel) = reqs
    assert req.vehicle_id == "bus1" and req.junction_id == "J0_0" and req.bus_line == "B1"
    assert req.approach_lane == net.lane_ids[lane]
    assert 192.1 - 150.0 <= t_req * 10.0 <= 192.1 - 150.0 + 10.0  # within 150 m of the stop line
    assert cancel.request_id == req.request_id and t_cancel > 19.0  # the bus left the lane


# ---------------------------------------------------------------------------- the bundle


def test_field_devices_report_everything_in_one_tick() -> None:
    net = grid(2, 2)
    cars = [
        Car(f"c{i}", approach_lane(net, e), 20.0 + 10 * i, 10.0)
        for i, e in enumerate(["W0-J0_0", "J0_0-J0_1", "J1_0-J1_1"])
    ]
    eng = StandInEngine(net, cars)
    fd = FieldDevices(net, epoch_ns=EPOCH_NS, seed=1)
    tick, truth = fd.tick(eng)
    assert eng.link_states[0] is not None and len(eng.link_states[0]) == net.tls_link_offsets[-1]
    assert [s.junction_id for s in tick.spat] == net.tls_ids
    assert len(tick.parking) == len(net.parking_ids)
    assert {p.area_id for _, p in tick.parking} == set(net.parking_ids)
    assert all(p.occupied <= p.capacity for _, p in tick.parking)
    assert len(tick.lamp_status) == len(net.parking_ids)
    assert all(st.online for _, st in tick.lamp_status)
    obs = fd.observations(tick, truth)
    assert obs.t == pytest.approx(EPOCH_NS / 1e9 + 0.1)
    assert len(obs.reports) == 3 and obs.truth is truth
    assert len(obs.spat) == len(net.tls_ids) and len(obs.parking) == len(net.parking_ids)
    tick2, _ = fd.tick(eng)
    assert tick2.parking == [] and tick2.lamp_status == []  # periodic, not every tick
    assert len(tick2.delivered.detections) >= 3  # latency 50 ms: the first frames arrive now
    s = fd.summary()
    assert s["signal_controllers"] == 4 and s["rsus"] == 4 and s["lamp_posts"] == len(net.parking_ids)
    assert s["connected_vehicles"] == 3


def test_field_devices_apply_commands_and_count_outcomes() -> None:
    net = grid(2, 2)
    eng = StandInEngine(net, [])
    fd = FieldDevices(net, epoch_ns=EPOCH_NS)
    for _ in range(20):
        fd.tick(eng)
    now_ns = EPOCH_NS + round(eng.t * 1e9)
    good = pb.SignalCommand(
        command_id="1", junction_id="J0_0", kind=pb.COMMAND_KIND_HOLD_PHASE, expires_ns=now_ns + 10**10
    )
    bad = pb.SignalCommand(
        command_id="2", junction_id="J9", kind=pb.COMMAND_KIND_HOLD_PHASE, expires_ns=now_ns + 10**10
    )
    res, _ = fd.apply(Decisions(commands=[good, bad]), eng)
    assert [r.accepted for r in res] == [True, False]
    tick, _ = fd.tick(eng)
    assert {s.junction_id: s.mode for s in tick.spat}["J0_0"] == pb.CONTROL_MODE_CLOUD
    s = fd.summary()
    assert (s["commands_accepted"], s["commands_refused"]) == (1, 1)
    assert s["commands_refused_by_reason"] == {"unknown signal controller 'J9'": 1}
