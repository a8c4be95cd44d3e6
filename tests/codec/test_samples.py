"""Real captures decode to their published values and re-encode to the same bytes."""

from __future__ import annotations

import copy
import re

import pytest

import codec
from codec import schema
from proto import pb
from tests.codec.conftest import CsaeSample, J2735Sample
from tests.codec.values import to_sample_json, xer_diff

CSAE_FRAME = {"BSM": "bsmFrame", "MAP": "mapFrame", "RSM": "rsmFrame", "SPAT": "spatFrame", "RSI": "rsiFrame"}


def test_every_capture_decodes_to_its_values_and_reencodes_identically(csae_samples: list[CsaeSample]) -> None:
    for s in csae_samples:
        frame = codec.decode_rsu_frame(s.frame)
        assert (frame.rsu_id, frame.utc_ms) == (s.rsu_id, s.utc_ms), s.name
        assert list(frame.messages) == s.uper, s.name
        msgs = codec.decode("csae", s.frame, frame="rsu")
        assert [m.msg_type for m in msgs] == [s.name] * len(s.uper)
        for m, uper, want in zip(msgs, s.uper, s.decoded, strict=True):
            assert to_sample_json((CSAE_FRAME[m.msg_type], m.raw)) == want, s.name
            assert codec.encode_raw("csae", m.msg_type, m.raw) == uper, s.name
        assert codec.encode_rsu_frame(frame.rsu_id, frame.utc_ms, frame.messages) == s.frame, s.name


def _by_name(samples: list[CsaeSample], name: str) -> list[codec.DecodedMessage]:
    (s,) = (x for x in samples if x.name == name)
    return codec.decode("csae", s.frame, frame="rsu")


def test_changsha_spat_maps_to_signal_group_states(csae_samples: list[CsaeSample]) -> None:
    (m,) = _by_name(csae_samples, "SPAT")
    (spat,) = m.platform
    assert isinstance(spat, pb.Spat)
    assert spat.junction_id == "255-9" and spat.mode == pb.CONTROL_MODE_LOCAL_PLAN
    # moy 458335 + 5238 ms in 2020 (the frame's year)
    assert spat.timestamp_ns == 1605336905238 * 10**6
    groups = {g.group_id: g for g in spat.groups}
    assert sorted(groups) == [33, 35, 41, 43, 49, 51, 57, 59]
    assert groups[33].state == pb.LIGHT_STATE_PERMISSIVE_GREEN
    assert groups[33].likely_end_ns == spat.timestamp_ns + 3 * 10**9  # likelyEndTime 30 x 0.1 s
    assert groups[41].state == pb.LIGHT_STATE_STOP_AND_REMAIN
    assert groups[41].likely_end_ns == spat.timestamp_ns + 46 * 10**9
    assert groups[33].min_end_ns == 0 and groups[33].max_end_ns == 0  # not sent: unknown


def test_changsha_bsms_rsm_rsi_map_to_the_contract(csae_samples: list[CsaeSample]) -> None:
    b1, b2 = (m.platform[0] for m in _by_name(csae_samples, "BSM"))
    assert isinstance(b1, pb.Bsm) and isinstance(b2, pb.Bsm)
    assert (b1.vehicle_id, b1.lat_e7, b1.lon_e7, b1.heading_00125) == ("bea9423838383838", 399764645, 1163509503, 6161)
    assert b1.object_class == pb.OBJECT_CLASS_CAR and (b1.length_cm, b1.width_cm) == (450, 150)
    assert b1.accel_001 == 0  # 2001: unavailable
    assert b1.measured_ns == 1605340329500 * 10**6  # secMark 9500 nearest the frame time
    assert b2.vehicle_id == "0000000000000000" and b2.heading_00125 == 14239

    ((rsm,),) = (m.platform for m in _by_name(csae_samples, "RSM"))
    assert isinstance(rsm, pb.PerceptionFrame)
    assert rsm.sensor_id == "12345" and list(rsm.local_id) == [1]
    assert list(rsm.speed_002) == [258] and list(rsm.object_class) == [pb.OBJECT_CLASS_CYCLIST]
    assert len(rsm.cov_ee) == 0  # position confidence unavailable

    ((rsi,),) = (m.platform for m in _by_name(csae_samples, "RSI"))
    assert isinstance(rsi, pb.RoadsideInfo)
    (event,) = rsi.events
    (hazard,) = rsi.hazards
    assert event.event_id == hazard.event_id == "12345:rte123:type9902"
    assert (event.lat_e7, event.lon_e7) == (280988051, 1129829511)  # offset (0, 0) from refPos
    assert hazard.radius_m == pytest.approx(100.0) and event.severity == 1


def test_changsha_map_gives_lanes_connections_and_signal_groups(csae_samples: list[CsaeSample]) -> None:
    ((m,),) = (x.platform for x in _by_name(csae_samples, "MAP"))
    assert isinstance(m, pb.MapData)
    assert m.junction_id == "1-149"
    assert [lane.lane_id for lane in m.lanes] == ["1-148:1-149:1", "1-150:1-149:1", "1-1091:1-149:1", "1-1095:1-149:1"]
    for lane in m.lanes:
        assert lane.ingress and len(lane.lat_e7) == 4 and lane.speed_limit_002 == 834
        assert abs(lane.lat_e7[-1] * 1e-7 - 28.10) < 0.01 and abs(lane.lon_e7[-1] * 1e-7 - 112.98) < 0.01
    conns = {(c.from_lane, c.to_lane): (c.group_id, c.maneuver) for c in m.connections}
    assert len(conns) == 12
    assert conns["1-148:1-149:1", "1-149:1-1091:1"] == (1, "l")
    assert conns["1-148:1-149:1", "1-149:1-150:1"] == (2, "s")
    assert conns["1-148:1-149:1", "1-149:1-1095:1"] == (3, "r")


def _strip(uper: bytes) -> bytes:
    return uper.rstrip(b"\x00")


@pytest.mark.parametrize("name", ["BSM", "SPAT", "MAP", "SRM", "SSM"])
def test_every_j2735_sample_decodes_to_its_xer(name: str, j2735_samples: dict[str, J2735Sample]) -> None:
    s = j2735_samples[name]
    (m,) = codec.decode("j2735", s.uper)
    assert m.msg_type == name
    frame = schema.decode("j2735", "MessageFrame", s.uper)
    assert str(frame["messageId"]) == s.xer.findtext("messageId")
    value = copy.deepcopy(s.xer.find("value"))
    assert value is not None
    if name == "MAP":  # the sample's XER has a log timestamp spliced into one bit string: read past it
        (bad,) = (e for e in value.iter("vehicle") if "T17:32:22" in (e.text or ""))
        bad.text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z ?", "", bad.text or "")
    assert xer_diff(m.raw, value) == []
    # the sample has one zero octet of padding after the frame
    assert _strip(codec.encode_raw("j2735", name, m.raw)) == _strip(s.uper)


def test_j2735_sample_platform_values(j2735_samples: dict[str, J2735Sample]) -> None:
    ref = 1733852080359 * 10**6  # odeReceivedAt of the SPaT sample, 2024-12-10T17:34:40.359Z
    ((spat,),) = (m.platform for m in codec.decode("j2735", j2735_samples["SPAT"].uper, ref_ns=ref))
    assert isinstance(spat, pb.Spat) and spat.junction_id == "12111"
    g2 = next(g for g in spat.groups if g.group_id == 2)
    assert g2.state == pb.LIGHT_STATE_PROTECTED_GREEN
    assert g2.min_end_ns == (1733850000 + 2212) * 10**9  # 17:36:52.0, TimeMark 22120
    (req,) = codec.decode("j2735", j2735_samples["SRM"].uper, ref_ns=ref)[0].platform
    assert isinstance(req, pb.PriorityRequest)
    assert (req.vehicle_id, req.junction_id, req.approach_lane) == ("2366845094", "12109", "12109:13")
    assert req.request_id == "2366845094:12109:4:1:lane13" and not req.cancel
    ((bsm,),) = (m.platform for m in codec.decode("j2735", j2735_samples["BSM"].uper, ref_ns=ref))
    assert isinstance(bsm, pb.Bsm) and (bsm.lat_e7, bsm.lon_e7, bsm.speed_002) == (405659938, -1050317754, 14)
    ((mp,),) = (m.platform for m in codec.decode("j2735", j2735_samples["MAP"].uper, ref_ns=ref))
    assert isinstance(mp, pb.MapData) and len(mp.lanes) == 28 and len(mp.connections) == 17
    lane2 = next(lane for lane in mp.lanes if lane.lane_id == "12110:2")
    assert lane2.ingress and lane2.width_cm == 366
    # ingress polyline ends at the stop line: the first node, 22.25 m east / 8.08 m north of the reference
    assert abs(lane2.lon_e7[-1] - mp.ref_lon_e7) < abs(lane2.lon_e7[0] - mp.ref_lon_e7)


def test_ssm_encoder_reproduces_the_sample_grant(j2735_samples: dict[str, J2735Sample]) -> None:
    (m,) = codec.decode("j2735", j2735_samples["SSM"].uper)
    (adv,) = m.platform
    assert isinstance(adv, pb.Advisory) and adv.priority.status == pb.PRIORITY_STATUS_GRANTED
    again = codec.decode("j2735", codec.encode("j2735", adv, ref_ns=adv.issued_ns), ref_ns=adv.issued_ns)
    assert again[0].platform == (adv,)
    raw = again[0].raw
    (package,) = raw["status"][0]["sigStatus"]
    assert package == m.raw["status"][0]["sigStatus"][0]
