"""Every rejection reason: produced by one bad message, counted once, logged, kept as a dead letter."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pytest

import proto
from ingest import IngestPipeline, Limits, Reason
from proto import pb
from tests.ingest.messages import FRAME, bsm_env, objects, obu_topic, perception_env, rsu_topic, spat_env
from trust import DeviceKey, FrameVerifier, KeyRegistry, LiveIdentities, Pseudonymizer, SignedFrames
from trust.signing import PrivateKey, generate_key, public_bytes, sign_envelope

T0 = 1_800_000_000_000_000_000
S = 1_000_000_000

Case = Callable[[IngestPipeline], tuple[str, bytes, int]]


def _with(env: pb.Envelope, fn: Callable[[pb.Envelope], object]) -> bytes:
    fn(env)
    return env.SerializeToString()


def _perception_frame(**cols: list[int] | list[float]) -> bytes:
    env = perception_env("r1", 1, T0)
    for k, v in cols.items():
        f = env.perception
        f.ClearField(k)
        getattr(f, k).extend(v)
    return env.SerializeToString()


def _perception(seq: int = 1, sender: str = "r1", t_ns: int = T0) -> tuple[str, bytes, int]:
    return rsu_topic("r1"), perception_env(sender, seq, t_ns).SerializeToString(), T0


def _duplicate(p: IngestPipeline) -> tuple[str, bytes, int]:
    assert p.feed(*_perception(1)) is None
    return _perception(1)


def _stale(p: IngestPipeline) -> tuple[str, bytes, int]:
    assert p.feed(*_perception(1)) is None
    assert p.feed(*_perception(3)) is None
    p.drain(T0)  # the gap (2) is given up at the drain
    return _perception(2)


def _rate_limited(p: IngestPipeline) -> tuple[str, bytes, int]:
    for i in range(int(p.limits.burst)):
        assert p.feed(obu_topic("v1"), bsm_env("v1", i, T0).SerializeToString(), T0) is None
    return obu_topic("v1"), bsm_env("v1", 99, T0).SerializeToString(), T0


def _std_decode_error(p: IngestPipeline) -> tuple[str, bytes, int]:
    def failing(payload: bytes) -> list[pb.Bsm]:
        raise ValueError("not a frame")

    p.std_decoder = failing
    return "v2x/v1/rsu/r1/frame/up", b"\x01\x02", T0


def _internal_error(p: IngestPipeline) -> tuple[str, bytes, int]:
    def broken(item: object) -> None:
        raise RuntimeError("a bug")

    p.batcher.add = broken  # type: ignore[method-assign]
    return _perception(1)


KEY = generate_key("ed25519")


def _signing(p: IngestPipeline, *, valid_from: float = 0.0, max_age_s: float = 30.0) -> None:
    """Make r1 a signing RSU with key ``k1`` (:data:`KEY`)."""
    reg = KeyRegistry()
    reg.register("rsu/r1", DeviceKey("k1", public_bytes(KEY), valid_from=valid_from))
    p.signatures = SignedFrames(FrameVerifier(reg, max_age_s=max_age_s), LiveIdentities(Pseudonymizer(b"s" * 32)))


def _signed(p: IngestPipeline, key: PrivateKey = KEY, key_id: str = "k1", t_ns: int = T0, **kw: float) -> bytes:
    _signing(p, **kw)
    return sign_envelope(perception_env("r1", 1, t_ns), key, key_id)


def _replayed(p: IngestPipeline) -> tuple[str, bytes, int]:
    payload = _signed(p)
    assert p.feed(rsu_topic("r1"), payload, T0) is None
    return rsu_topic("r1"), payload, T0 + S // 10


def _revoked(p: IngestPipeline) -> tuple[str, bytes, int]:
    ids = LiveIdentities(Pseudonymizer(b"s" * 32))
    ids.revoke("v1", [])
    p.identities = ids
    return obu_topic("v1"), bsm_env("v1", 1, T0).SerializeToString(), T0


CASES: dict[Reason, Case] = {
    Reason.BAD_TOPIC: lambda p: ("v2x/v1/rsu/r1/perception/down", _perception()[1], T0),
    Reason.TOO_LARGE: lambda p: (rsu_topic("r1"), b"\x00" * (p.limits.max_payload_bytes + 1), T0),
    Reason.DECODE_ERROR: lambda p: (rsu_topic("r1"), b"\xff\xff\xff", T0),
    Reason.SCHEMA_VERSION: lambda p: (
        rsu_topic("r1"),
        _with(perception_env("r1", 1, T0), lambda e: setattr(e, "schema_version", 2)),
        T0,
    ),
    Reason.SENDER_MISMATCH: lambda p: _perception(sender="r2"),
    Reason.UNKNOWN_BODY: lambda p: (rsu_topic("r1"), bsm_env("r1", 1, T0).SerializeToString(), T0),
    Reason.COLUMN_MISMATCH: lambda p: (rsu_topic("r1"), _perception_frame(lat_e7=[1]), T0),
    Reason.OUT_OF_RANGE: lambda p: (rsu_topic("r1"), _perception_frame(heading_00125=[0, 30_000]), T0),
    Reason.CLOCK_SKEW: lambda p: _perception(t_ns=T0 - 10 * S),
    Reason.DUPLICATE: _duplicate,
    Reason.STALE_REORDER: _stale,
    Reason.RATE_LIMITED: _rate_limited,
    Reason.STD_UNAVAILABLE: lambda p: ("v2x/v1/rsu/r1/frame/up", b"\x01\x02", T0),
    Reason.STD_DECODE_ERROR: _std_decode_error,
    Reason.INTERNAL_ERROR: _internal_error,
    Reason.UNSIGNED: lambda p: (_signing(p), _perception())[1],
    Reason.BAD_SIGNATURE: lambda p: (rsu_topic("r1"), _signed(p, key=generate_key("ed25519")), T0),
    Reason.UNKNOWN_KEY: lambda p: (rsu_topic("r1"), _signed(p, key_id="k9"), T0),
    Reason.KEY_NOT_VALID: lambda p: (rsu_topic("r1"), _signed(p, valid_from=T0 / S + 60), T0),
    Reason.REPLAY_OLD: lambda p: (rsu_topic("r1"), _signed(p, t_ns=T0 - 60 * S), T0),
    Reason.REPLAY_DUPLICATE: _replayed,
    Reason.REVOKED: _revoked,
}


def test_every_reason_has_a_case() -> None:
    assert set(CASES) == set(Reason)


@pytest.mark.parametrize("reason", list(Reason), ids=[r.value for r in Reason])
def test_one_bad_message_is_counted_logged_and_kept(reason: Reason, caplog: pytest.LogCaptureFixture) -> None:
    p = IngestPipeline(frame=FRAME, limits=Limits(rate_per_s=1.0, burst=5), std_decoder=None)
    topic, payload, recv = CASES[reason](p)
    before = p.metrics.rejected_total
    with caplog.at_level(logging.WARNING, logger="xiangjiang.ingest"):
        rej = p.feed(topic, payload, recv)
    assert rej is not None and rej.reason is reason
    assert rej.topic == (topic if reason is not Reason.REVOKED else "(revoked vehicle)")
    assert p.metrics.rejected[reason] == 1 and p.metrics.rejected_total == before + 1
    assert any(reason.value in r.getMessage() for r in caplog.records)
    kept = p.dead_letters.recent(reason=reason)
    if reason is Reason.REVOKED:
        assert kept == []  # names the vehicle: not kept, not in the log line
        assert not any("v1" in r.getMessage() for r in caplog.records)
    elif reason is Reason.RATE_LIMITED:
        assert kept == []  # a flood is counted, not stored
    elif reason is Reason.TOO_LARGE:
        assert kept[0].payload == payload[:1024]  # its head only
    else:
        assert kept and kept[0].payload == payload and kept[0].topic == topic


@pytest.mark.parametrize(
    "field,value",
    [
        ("lat_e7", 900_000_001),
        ("lon_e7", -1_800_000_001),
        ("speed_002", 8192),
        ("heading_00125", 28801),
        ("object_class", 42),
        ("accel_001", 2500),
        ("length_cm", 100_000),
        ("bus_line", "x" * 17),
    ],
)
def test_bsm_out_of_range(field: str, value: int | str) -> None:
    p = IngestPipeline(frame=FRAME, std_decoder=None)
    rej = p.feed(obu_topic("v1"), bsm_env("v1", 1, T0, **{field: value}).SerializeToString(), T0)
    assert rej is not None and rej.reason is Reason.OUT_OF_RANGE


@pytest.mark.parametrize(
    "mutate",
    [
        lambda a: a.__setitem__("lat", 91.0),
        lambda a: a.__setitem__("cls", 9),
        lambda a: a.__setitem__("length", 200.0),
        lambda a: a.__setitem__("cov_ee", -1.0),
        lambda a: a.__setitem__("cov_en", np.inf),
    ],
    ids=["lat", "class", "length", "cov-negative", "cov-inf"],
)
def test_perception_out_of_range(mutate: Callable[[np.ndarray], None]) -> None:
    a = objects([0.0, 5.0], [0.0, 0.0])
    mutate(a[1:])
    p = IngestPipeline(frame=FRAME, std_decoder=None)
    rej = p.feed(rsu_topic("r1"), perception_env("r1", 1, T0, a).SerializeToString(), T0)
    assert rej is not None and rej.reason is Reason.OUT_OF_RANGE


def test_region_limits_positions() -> None:
    p = IngestPipeline(frame=FRAME, limits=Limits(region=(27.0, 29.0, 112.0, 114.0)), std_decoder=None)
    assert p.feed(obu_topic("v1"), bsm_env("v1", 1, T0).SerializeToString(), T0) is None
    far = bsm_env("v1", 2, T0, lat_e7=0, lon_e7=0).SerializeToString()  # the Gulf of Guinea
    rej = p.feed(obu_topic("v1"), far, T0)
    assert rej is not None and rej.reason is Reason.OUT_OF_RANGE


@pytest.mark.parametrize(
    "env,topic",
    [
        (lambda: bsm_env("v1", 1, T0, vehicle_id="v2"), obu_topic("v1")),
        (lambda: spat_env("j2", 1, T0), proto.topic("tsc", "j1", "spat", "up")),
    ],
    ids=["bsm-vehicle", "spat-junction"],
)
def test_body_ids_are_pinned_to_the_topic(env: Callable[[], pb.Envelope], topic: str) -> None:
    e = env()
    e.sender_id = proto.parse(topic).device_id
    p = IngestPipeline(frame=FRAME, std_decoder=None)
    rej = p.feed(topic, e.SerializeToString(), T0)
    assert rej is not None and rej.reason is Reason.SENDER_MISMATCH


def test_capture_time_far_from_send_time_is_skew() -> None:
    env = perception_env("r1", 1, T0)
    env.perception.capture_ns = T0 - 30 * S
    p = IngestPipeline(frame=FRAME, std_decoder=None)
    rej = p.feed(rsu_topic("r1"), env.SerializeToString(), T0)
    assert rej is not None and rej.reason is Reason.CLOCK_SKEW
