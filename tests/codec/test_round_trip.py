"""Platform message -> standard -> platform keeps every value the standard can carry, to its resolution."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import codec
from codec import lanes, signals
from proto import pb

T0 = 1_700_000_000 * 10**9  # 2023-11-14
MS = 10**6
RT = settings(max_examples=60, deadline=None)

times = st.integers(T0 - 400 * 86400 * 10**9, T0 + 400 * 86400 * 10**9)
junctions = st.one_of(
    st.integers(0, 65535).map(str), st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map("{0[0]}-{0[1]}".format)
)
lats = st.integers(-850_000_000, 850_000_000)
lons = st.integers(-1_790_000_000, 1_790_000_000)
PTC_CLASSES = [pb.OBJECT_CLASS_CAR, pb.OBJECT_CLASS_BUS, pb.OBJECT_CLASS_PEDESTRIAN,
               pb.OBJECT_CLASS_CYCLIST, pb.OBJECT_CLASS_UNKNOWN, pb.OBJECT_CLASS_TRUCK]  # fmt: skip
MODES = [pb.CONTROL_MODE_UNKNOWN, pb.CONTROL_MODE_LOCAL_PLAN, pb.CONTROL_MODE_CLOUD,
         pb.CONTROL_MODE_OVERRIDE, pb.CONTROL_MODE_FLASHING]  # fmt: skip
classes = st.sampled_from(
    [pb.OBJECT_CLASS_UNKNOWN, pb.OBJECT_CLASS_CAR, pb.OBJECT_CLASS_BUS, pb.OBJECT_CLASS_TRUCK,
     pb.OBJECT_CLASS_MOTORCYCLE, pb.OBJECT_CLASS_EMERGENCY]
)  # fmt: skip


def _round(std: str, msg: Any, ref_ns: int, msg_count: int = 0) -> Any:
    (m,) = codec.decode(std, codec.encode(std, msg, msg_count=msg_count, ref_ns=ref_ns), ref_ns=ref_ns)
    return m.platform


def _ms(t: int) -> int:
    return t - t % MS


@st.composite
def bsms(draw: st.DrawFn, id_bytes: int) -> pb.Bsm:
    return pb.Bsm(
        vehicle_id=draw(st.binary(min_size=id_bytes, max_size=id_bytes)).hex(),
        measured_ns=draw(times),
        lat_e7=draw(lats),
        lon_e7=draw(lons),
        speed_002=draw(st.integers(0, 8190)),
        heading_00125=draw(st.integers(0, 28799)),
        accel_001=draw(st.integers(-2000, 2000)),
        object_class=draw(classes),
        length_cm=draw(st.integers(0, 4095)),
        width_cm=draw(st.integers(0, 1023)),
    )


@RT
@given(msg=st.one_of(bsms(8).map(lambda b: ("csae", b)), bsms(4).map(lambda b: ("j2735", b))), lag=st.integers(-29, 29))
def test_bsm(msg: tuple[str, pb.Bsm], lag: int) -> None:
    std, bsm = msg
    (back,) = _round(std, bsm, bsm.measured_ns + lag * 10**9)
    want = pb.Bsm()
    want.CopyFrom(bsm)
    want.measured_ns = _ms(bsm.measured_ns)
    assert back == want


def test_classes_the_standards_lack_come_back_as_their_nearest() -> None:
    taxi = pb.Bsm(vehicle_id="00" * 8, lat_e7=1, lon_e7=1, object_class=pb.OBJECT_CLASS_ROBOTAXI)
    assert _round("csae", taxi, T0)[0].object_class == pb.OBJECT_CLASS_CAR
    spat = pb.Spat(junction_id="7", timestamp_ns=T0, mode=pb.CONTROL_MODE_FALLBACK,
                   groups=[pb.SignalGroupState(group_id=1, state=pb.LIGHT_STATE_PROTECTED_CLEARANCE)])  # fmt: skip
    (back,) = _round("csae", spat, T0)
    assert back.mode == pb.CONTROL_MODE_LOCAL_PLAN and back.groups[0].state == pb.LIGHT_STATE_PERMISSIVE_CLEARANCE


@st.composite
def perception(draw: st.DrawFn) -> pb.PerceptionFrame:
    n = draw(st.integers(1, 16))
    lat0, lon0 = draw(lats), draw(lons)
    cov = draw(st.booleans())
    f = pb.PerceptionFrame(
        sensor_id=draw(st.text(alphabet="abcdefXYZ0123456789_-", min_size=1, max_size=8)),
        capture_ns=draw(times),
        local_id=draw(st.lists(st.integers(0, 65535), min_size=n, max_size=n)),
        lat_e7=[lat0, *draw(st.lists(st.integers(lat0 - 10**7, lat0 + 10**7), min_size=n - 1, max_size=n - 1))],
        lon_e7=[lon0, *draw(st.lists(st.integers(lon0 - 10**7, lon0 + 10**7), min_size=n - 1, max_size=n - 1))],
        speed_002=draw(st.lists(st.integers(0, 8190), min_size=n, max_size=n)),
        heading_00125=draw(st.lists(st.integers(0, 28799), min_size=n, max_size=n)),
        length_cm=draw(st.lists(st.integers(0, 4095), min_size=n, max_size=n)),
        width_cm=draw(st.lists(st.integers(0, 1023), min_size=n, max_size=n)),
        object_class=draw(st.lists(st.sampled_from(PTC_CLASSES), min_size=n, max_size=n)),
    )
    if cov:
        r = draw(st.lists(st.sampled_from([0.01, 0.05, 0.5, 1.0, 2.0, 10.0, 500.0]), min_size=n, max_size=n))
        f.cov_ee.extend(x * x for x in r)
        f.cov_en.extend(0.0 for _ in r)
        f.cov_nn.extend(x * x for x in r)
    return f


@RT
@given(frame=perception(), lag=st.integers(-29, 29))
def test_rsm(frame: pb.PerceptionFrame, lag: int) -> None:
    (back,) = _round("csae", frame, frame.capture_ns + lag * 10**9)
    want = pb.PerceptionFrame()
    want.CopyFrom(frame)
    want.capture_ns = _ms(frame.capture_ns)
    assert back == want


def _states(std: str) -> list[pb.LightState]:
    """The states a standard carries both ways (CSAE sends protected clearance as plain yellow)."""
    return list((signals.CSAE_LIGHT if std == "csae" else signals.J2735_LIGHT).values())


@st.composite
def spats(draw: st.DrawFn, std: str) -> pb.Spat:
    t0 = draw(times)
    horizon = 3600 if std == "csae" else 1799  # J2735 TimeMarks resolve within half an hour

    def end() -> int:
        return draw(st.one_of(st.just(0), st.integers(0, horizon * 1000).map(lambda ms: t0 + ms * MS)))

    ids_ = draw(st.lists(st.integers(0 if std == "csae" else 1, 255), min_size=1, max_size=16, unique=True))
    pct = st.integers(0, 100) if std == "csae" else st.sampled_from([0, 21, 56, 81, 100])
    return pb.Spat(
        junction_id=draw(junctions),
        timestamp_ns=t0,
        mode=draw(st.sampled_from(MODES)),
        groups=[
            pb.SignalGroupState(
                group_id=g,
                state=draw(st.sampled_from(_states(std))),
                min_end_ns=end(),
                max_end_ns=end(),
                likely_end_ns=end(),
                confidence_pct=draw(pct),
            )
            for g in ids_
        ],
    )


@RT
@given(msg=st.one_of(spats("csae").map(lambda s: ("csae", s)), spats("j2735").map(lambda s: ("j2735", s))))
def test_spat(msg: tuple[str, pb.Spat]) -> None:
    std, spat = msg
    (back,) = _round(std, spat, spat.timestamp_ns + 5 * 10**9)
    assert (back.junction_id, back.mode) == (spat.junction_id, spat.mode)
    assert back.timestamp_ns == _ms(spat.timestamp_ns)
    assert [g.group_id for g in back.groups] == [g.group_id for g in spat.groups]
    for b, g in zip(back.groups, spat.groups, strict=True):
        assert b.state == g.state and b.confidence_pct == g.confidence_pct
        likely = g.likely_end_ns or (g.max_end_ns or g.min_end_ns if std == "csae" else 0)
        for got, sent in ((b.min_end_ns, g.min_end_ns), (b.max_end_ns, g.max_end_ns), (b.likely_end_ns, likely)):
            assert (got == 0) == (sent == 0)
            assert abs(got - sent) <= 50 * MS + MS  # 0.1 s resolution (+ the ms of the timestamp)


@st.composite
def csae_maps(draw: st.DrawFn) -> pb.MapData:
    j = draw(junctions)
    lat0, lon0 = draw(lats), draw(lons)
    m = pb.MapData(junction_id=j, ref_lat_e7=lat0, ref_lon_e7=lon0, revision=draw(st.integers(0, 127)))
    ups = draw(st.lists(junctions.filter(lambda u: u != j), min_size=1, max_size=4, unique=True))
    for up in ups:
        for n in draw(st.lists(st.integers(1, 255), min_size=1, max_size=3, unique=True)):
            k = draw(st.integers(2, 8))
            lane_id = f"{up}:{j}:{n}"
            m.lanes.add(
                lane_id=lane_id,
                lat_e7=draw(st.lists(st.integers(lat0 - 10**6, lat0 + 10**6), min_size=k, max_size=k)),
                lon_e7=draw(st.lists(st.integers(lon0 - 10**6, lon0 + 10**6), min_size=k, max_size=k)),
                width_cm=draw(st.integers(0, 2000)),
                ingress=True,
                allowed_classes=draw(st.sampled_from([lanes.VEHICLES, lanes.PEDESTRIANS, lanes.CYCLISTS])),
                speed_limit_002=draw(st.integers(0, 8190)),
            )
            for remote, to_n in draw(
                st.lists(st.tuples(junctions, st.integers(0, 255)), max_size=3, unique_by=lambda t: t)
            ):
                m.connections.add(
                    from_lane=lane_id,
                    to_lane=f"{j}:{remote}:{to_n}",
                    group_id=draw(st.integers(0, 255)),
                    maneuver=draw(st.sampled_from(["s", "l", "r", "t", ""])),
                )
    return m


def _by_id(m: pb.MapData) -> tuple[dict[str, pb.MapLane], list[tuple[str, str, int, str]]]:
    conns = sorted((c.from_lane, c.to_lane, c.group_id, c.maneuver) for c in m.connections)
    return {lane.lane_id: lane for lane in m.lanes}, conns


@RT
@given(m=csae_maps())
def test_csae_map(m: pb.MapData) -> None:
    (back,) = _round("csae", m, T0)
    assert (back.junction_id, back.ref_lat_e7, back.ref_lon_e7, back.revision) == (
        m.junction_id, m.ref_lat_e7, m.ref_lon_e7, m.revision
    )  # fmt: skip
    assert _by_id(back) == _by_id(m)


@st.composite
def j2735_maps(draw: st.DrawFn) -> pb.MapData:
    j = draw(junctions)
    lat0, lon0 = draw(st.integers(-800_000_000, 800_000_000)), draw(lons)
    m = pb.MapData(junction_id=j, ref_lat_e7=lat0, ref_lon_e7=lon0, revision=draw(st.integers(0, 127)))
    numbers = draw(st.lists(st.integers(1, 255), min_size=1, max_size=6, unique=True))
    for n in numbers:
        k = draw(st.integers(2, 8))
        m.lanes.add(
            lane_id=f"{j}:{n}",
            lat_e7=draw(st.lists(st.integers(lat0 - 20_000, lat0 + 20_000), min_size=k, max_size=k)),
            lon_e7=draw(st.lists(st.integers(lon0 - 20_000, lon0 + 20_000), min_size=k, max_size=k)),
            width_cm=draw(st.integers(250, 450)),
            ingress=draw(st.booleans()),
            allowed_classes=draw(st.sampled_from([lanes.VEHICLES, lanes.PEDESTRIANS, lanes.CYCLISTS])),
            speed_limit_002=draw(st.integers(0, 8190)),
        )
        for to in draw(st.lists(st.one_of(st.sampled_from(numbers).map(f"{j}:{{}}".format),
                                          st.tuples(junctions, st.integers(0, 255)).map("{0[0]}:{0[1]}".format)),
                                max_size=3, unique=True)):  # fmt: skip
            m.connections.add(
                from_lane=f"{j}:{n}",
                to_lane=to,
                group_id=draw(st.integers(0, 255)),
                maneuver=draw(st.sampled_from(["s", "l", "r", "t", ""])),
            )
    return m


@RT
@given(m=j2735_maps())
def test_j2735_map(m: pb.MapData) -> None:
    (back,) = _round("j2735", m, T0)
    lanes_b, conns_b = _by_id(back)
    lanes_m, conns_m = _by_id(m)
    assert conns_b == conns_m and lanes_b.keys() == lanes_m.keys()
    for k, a in lanes_m.items():
        b = lanes_b[k]
        assert (b.width_cm, b.ingress, b.allowed_classes, b.speed_limit_002) == (
            a.width_cm, a.ingress, a.allowed_classes, a.speed_limit_002
        )  # fmt: skip
        # the standard's resolution is 1 cm: 1e-7 degree is 1.1 cm of latitude, less of longitude
        cm_per_lon = 1.113 * math.cos(math.radians(m.ref_lat_e7 * 1e-7))
        assert len(b.lat_e7) == len(a.lat_e7)
        assert max(abs(x - y) * 1.113 for x, y in zip(b.lat_e7, a.lat_e7, strict=True)) <= 1.2
        assert max(abs(x - y) * cm_per_lon for x, y in zip(b.lon_e7, a.lon_e7, strict=True)) <= 1.2


@st.composite
def rsis(draw: st.DrawFn) -> pb.RoadsideInfo:
    rsu = draw(st.text(alphabet="abcXYZ0123456789_", min_size=1, max_size=8))
    info = pb.RoadsideInfo(rsu_id=rsu, timestamp_ns=draw(times))
    lat0, lon0 = draw(lats), draw(lons)
    # a minute of the year resolves to the year that puts it nearest the message time
    near = st.integers(-150 * 86400, 150 * 86400).map(lambda s: info.timestamp_ns + s * 10**9)
    for rte in draw(st.lists(st.integers(0, 255), max_size=8, unique=True)):
        eid = f"{rsu}:rte{rte}:type{draw(st.integers(0, 65535))}"
        lat, lon = draw(st.integers(lat0 - 10**6, lat0 + 10**6)), draw(st.integers(lon0 - 10**6, lon0 + 10**6))
        text = draw(st.sampled_from(["", "accident ahead", "前方施工", "路面湿滑 slow"]))
        info.events.add(
            event_id=eid,
            severity=draw(st.integers(0, 5)),
            start_ns=draw(st.one_of(st.just(0), near.map(lambda t: t - t % (60 * 10**9)))),
            end_ns=draw(st.one_of(st.just(0), near.map(lambda t: t - t % (60 * 10**9)))),
            lat_e7=lat,
            lon_e7=lon,
            description=text,
        )
        if draw(st.booleans()):
            radius = draw(st.integers(0, 65535)) / 10
            info.hazards.add(event_id=eid, lat_e7=lat, lon_e7=lon, radius_m=radius, text=text)
    return info


@RT
@given(info=rsis())
def test_rsi(info: pb.RoadsideInfo) -> None:
    (back,) = _round("csae", info, info.timestamp_ns)
    want = pb.RoadsideInfo()
    want.CopyFrom(info)
    want.timestamp_ns = info.timestamp_ns - info.timestamp_ns % (60 * 10**9)  # minute of the year
    assert back == want


@st.composite
def requests(draw: st.DrawFn) -> pb.PriorityRequest:
    vehicle = str(draw(st.integers(0, 2**32 - 1)))
    j = draw(junctions)
    lane = draw(st.integers(0, 255))
    req = pb.PriorityRequest(
        request_id=f"{vehicle}:{j}:{draw(st.integers(0, 255))}:{draw(st.integers(0, 127))}:lane{lane}",
        vehicle_id=vehicle,
        junction_id=j,
        approach_lane=f"{j}:{lane}",
        eta_ns=draw(st.one_of(st.just(0), st.integers(T0, T0 + 25 * 10**9))),
        schedule_deviation_ms=draw(st.integers(-120, 120)) * 10_000,
        bus_line=draw(st.text(alphabet="0123456789ABC路", max_size=10).filter(str.isascii)),
        cancel=draw(st.booleans()),
    )
    return req


@RT
@given(req=requests())
def test_srm(req: pb.PriorityRequest) -> None:
    (back,) = _round("j2735", req, T0)
    want = pb.PriorityRequest()
    want.CopyFrom(req)
    want.eta_ns = _ms(req.eta_ns)
    assert back == want


@RT
@given(req=requests(), status=st.sampled_from([1, 2, 3, 0]), issued=times)
def test_ssm(req: pb.PriorityRequest, status: int, issued: int) -> None:
    adv = pb.Advisory(
        advisory_id=f"ssm:{req.request_id}",
        vehicle_id=req.vehicle_id,
        issued_ns=issued,
        priority=pb.PriorityResponse(request_id=req.request_id, junction_id=req.junction_id, status=status),  # type: ignore[arg-type]
    )
    (back,) = _round("j2735", adv, issued)
    want = pb.Advisory()
    want.CopyFrom(adv)
    want.issued_ns = _ms(issued)
    assert back == want
