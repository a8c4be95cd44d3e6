"""Codecs between the hot messages and numpy arrays round-trip within the wire resolution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import proto
from proto import pb, topics, units


def _perception(n: int, rng: np.random.Generator, cov: bool) -> np.ndarray:
    a = np.zeros(n, dtype=proto.PERCEPTION_DTYPE)
    a["local_id"] = rng.integers(0, 2**31, n)
    a["lat"] = rng.uniform(-89, 89, n)
    a["lon"] = rng.uniform(-179, 179, n)
    a["speed"] = rng.uniform(0, 60, n)
    a["heading"] = rng.uniform(0, 2 * np.pi, n)
    a["length"] = rng.uniform(0.5, 18, n)
    a["width"] = rng.uniform(0.5, 3, n)
    a["cls"] = rng.integers(0, 9, n)
    a["confidence"] = rng.uniform(0, 1, n)
    for c in ("cov_ee", "cov_en", "cov_nn"):
        a[c] = rng.uniform(0.1, 4, n) if cov else np.nan
    return a


@pytest.mark.parametrize(
    "n,cov", [(0, False), (1, True), (20, True), (500, False)], ids=["empty", "one", "frame", "big"]
)
def test_perception_round_trip(n: int, cov: bool) -> None:
    rng = np.random.default_rng(n)
    a = _perception(n, rng, cov)
    wire = proto.envelope("rsu-1", 3, perception=proto.array_to_perception(a, "rsu-1", 123)).SerializeToString()
    env = pb.Envelope.FromString(wire)
    assert env.WhichOneof("body") == "perception" and env.seq == 3 and env.schema_version == 1
    b = proto.perception_to_array(env.perception)
    assert len(b) == n
    np.testing.assert_array_equal(b["local_id"], a["local_id"])
    np.testing.assert_allclose(b["lat"], a["lat"], atol=0.51e-7)
    np.testing.assert_allclose(b["lon"], a["lon"], atol=0.51e-7)
    np.testing.assert_allclose(b["speed"], a["speed"], atol=0.0101)
    dh = np.angle(np.exp(1j * (b["heading"] - a["heading"])))
    assert np.all(np.abs(dh) <= np.radians(0.0125) / 2 + 1e-9)
    np.testing.assert_allclose(b["length"], a["length"], atol=0.0051)
    np.testing.assert_array_equal(b["cls"], a["cls"])
    np.testing.assert_allclose(b["confidence"], a["confidence"], atol=0.0051)
    if cov:
        np.testing.assert_allclose(b["cov_ee"], a["cov_ee"], rtol=1e-6)
    else:
        assert np.isnan(b["cov_ee"]).all()


def test_perception_column_mismatch_names_the_field() -> None:
    f = pb.PerceptionFrame(local_id=[1, 2], lat_e7=[1, 2], lon_e7=[1, 2], speed_002=[5])
    with pytest.raises(proto.CodecError, match="speed_002"):
        proto.perception_to_array(f)


def test_bsm_single_and_batch_agree() -> None:
    rng = np.random.default_rng(7)
    n = 50
    a = np.zeros(n, dtype=proto.BSM_DTYPE)
    a["vehicle_id"] = [f"bus-{i}" for i in range(n)]
    a["t_ns"] = rng.integers(1, 2**62, n)
    a["lat"] = rng.uniform(28, 29, n)
    a["lon"] = rng.uniform(112, 113, n)
    a["speed"] = rng.uniform(0, 30, n)
    a["heading"] = rng.uniform(0, 2 * np.pi, n)
    a["accel"] = rng.uniform(-5, 3, n)
    a["cls"] = 2
    a["bus_line"] = "X1"
    a["schedule_dev"] = rng.uniform(-120, 300, n).round(3)
    one = proto.bsms_to_array([pb.Bsm.FromString(m.SerializeToString()) for m in proto.array_to_bsms(a)])
    batch = proto.bsm_batch_to_array(pb.BsmBatch.FromString(proto.array_to_bsm_batch(a).SerializeToString()))
    for b in (one, batch):
        assert b["vehicle_id"].tolist() == a["vehicle_id"].tolist()
        np.testing.assert_array_equal(b["t_ns"], a["t_ns"])
        np.testing.assert_allclose(b["accel"], a["accel"], atol=0.0051)
        np.testing.assert_allclose(b["schedule_dev"], a["schedule_dev"], atol=0.0006)
        assert (b["bus_line"] == "X1").all()
    np.testing.assert_array_equal(one, batch)


@given(st.floats(min_value=-1e4, max_value=1e4, allow_nan=False))
@settings(max_examples=200)
def test_heading_units_wrap(rad: float) -> None:
    u = units.compass_to_00125(rad)
    assert 0 <= int(u) < units.HEADING_UNITS
    back = float(units.compass_from_00125(u))
    assert abs(np.angle(np.exp(1j * (back - rad)))) <= np.radians(0.0125) / 2 + 1e-6


def test_speed_clips_to_wire_range() -> None:
    assert int(units.speed_to_002(1000.0)) == units.SPEED_MAX_002
    assert int(units.speed_to_002(-3.0)) == 0


def test_topics_round_trip_and_reject() -> None:
    t = proto.topic("rsu", "r-7", "perception", "up")
    assert t == "v2x/v1/rsu/r-7/perception/up"
    assert proto.parse(t) == proto.Topic("rsu", "r-7", "perception", "up")
    assert topics.subscription("obu", "bsm", share="fusion") == "$share/fusion/v2x/v1/obu/+/bsm/up"
    for bad in ("v2x/v1/rsu/r-7/perception", "v2x/v2/rsu/x/perception/up", "v2x/v1/rsu/x/bsm/up"):
        with pytest.raises(proto.TopicError):
            proto.parse(bad)
    with pytest.raises(proto.TopicError, match="holds one of"):
        proto.topic("obu", "a/b", "bsm", "up")
