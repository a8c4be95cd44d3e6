"""Fuzzing: no payload or topic makes ingest raise; every message is accepted or counted once by reason."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import proto
from ingest import IngestPipeline, Limits, Reason
from proto import pb
from tests.ingest.messages import FRAME, bsm_env, perception_env, spat_env

T0 = 1_800_000_000_000_000_000
I32 = st.integers(-(2**31), 2**31 - 1)
U32 = st.integers(0, 2**32 - 1)

TOPICS = [
    proto.topic("rsu", "r1", "perception", "up"),
    proto.topic("lamp", "L1", "perception", "up"),
    proto.topic("lamp", "L1", "parking", "up"),
    proto.topic("lamp", "L1", "status", "up"),
    proto.topic("obu", "v1", "bsm", "up"),
    proto.topic("obu", "v1", "srm", "up"),
    proto.topic("tsc", "j1", "spat", "up"),
    proto.topic("rsu", "r1", "frame", "up"),
]
topics_st = st.one_of(
    st.sampled_from(TOPICS),
    st.sampled_from(["v2x/v1/obu/v1/advisory/down", "v2x/v1/rsu//perception/up", "v2x/v2/rsu/r1/perception/up"]),
    st.text(max_size=60),
)


@st.composite
def valid_envelopes(draw: st.DrawFn) -> tuple[str, bytes]:
    """A well-formed envelope on its own topic, fields drawn from the whole wire range."""
    kind = draw(st.sampled_from(["perception", "bsm", "spat"]))
    seq = draw(st.integers(0, 50))
    t = T0 + draw(st.integers(-(10**10), 10**10))
    if kind == "perception":
        n = draw(st.integers(0, 6))
        env = perception_env("r1", seq, t, np.zeros(0, dtype=proto.PERCEPTION_DTYPE))
        f = env.perception
        f.local_id.extend(draw(st.lists(U32, min_size=n, max_size=n)))
        for col in ("lat_e7", "lon_e7"):
            getattr(f, col).extend(draw(st.lists(I32, min_size=n, max_size=n)))
        for col in ("speed_002", "heading_00125", "length_cm", "confidence_pct"):
            getattr(f, col).extend(draw(st.lists(U32, min_size=n, max_size=n)))
        f.object_class.extend(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)))  # type: ignore[arg-type]
        if draw(st.booleans()):
            f.cov_ee.extend(draw(st.lists(st.floats(width=32), min_size=n, max_size=n + 1)))
        return TOPICS[0], env.SerializeToString()
    if kind == "bsm":
        fields = {
            "lat_e7": draw(I32),
            "lon_e7": draw(I32),
            "speed_002": draw(U32),
            "heading_00125": draw(U32),
            "accel_001": draw(I32),
            "object_class": draw(st.integers(-5, 20)),
        }
        return TOPICS[4], bsm_env("v1", seq, t, **fields).SerializeToString()
    env = spat_env("j1", seq, t)
    env.spat.groups.add(group_id=3, state=draw(st.integers(0, 15)))
    return TOPICS[6], env.SerializeToString()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid envelope with bytes flipped, cut or inserted."""
    topic, payload = draw(valid_envelopes())
    b = bytearray(payload)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        i = draw(st.integers(0, max(0, len(b) - 1)))
        if op == "flip" and b:
            b[i] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del b[i:]
        else:
            b[i:i] = draw(st.binary(min_size=1, max_size=8))
    return topic, bytes(b)


messages = st.one_of(
    st.tuples(topics_st, st.binary(max_size=300)),
    mutated(),
    valid_envelopes(),
    st.tuples(st.sampled_from(TOPICS), valid_envelopes().map(lambda tp: tp[1])),  # a body on the wrong topic
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages, min_size=1, max_size=25))
def test_fuzzed_messages_never_crash_and_are_counted(msgs: list[tuple[str, bytes]]) -> None:
    p = IngestPipeline(frame=FRAME, limits=Limits(rate_per_s=5.0, burst=10), std_decoder=None)
    returned: Counter[Reason] = Counter()
    for i, (topic, payload) in enumerate(msgs):
        rej = p.feed(topic, payload, T0 + i)
        if rej is not None:
            returned[rej.reason] += 1
    batch = p.drain(T0 + 10**9)
    m = p.metrics
    assert m.received == len(msgs)
    assert m.rejected_total + sum(m.accepted.values()) == len(msgs)
    assert {r: n for r, n in m.rejected.items() if n} == dict(returned)
    assert m.rejected[Reason.INTERNAL_ERROR] == 0
    assert len(p.dead_letters) == m.rejected_total - m.rejected[Reason.RATE_LIMITED]
    assert np.isfinite(batch.detections["x"]).all() and np.isfinite(batch.detections["y"]).all()
    assert np.isfinite(batch.reports["x"]).all() and np.isfinite(batch.reports["t"]).all()
    p.prometheus()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(TOPICS[:7]))
def test_random_bytes_on_a_valid_topic_are_rejected(payload: bytes, topic: str) -> None:
    p = IngestPipeline(frame=FRAME, std_decoder=None)
    rej = p.feed(topic, payload, T0)
    assert rej is not None and p.metrics.rejected[rej.reason] == 1


def test_a_std_frame_through_a_fuzzed_decoder_never_crashes() -> None:
    outputs: list[object] = [[pb.Bsm()], [pb.MapData()], [pb.Advisory()], [pb.Spat(junction_id="j9")], []]

    def decoder(payload: bytes) -> list[object]:
        return outputs[payload[0] % len(outputs)]  # type: ignore[return-value]

    p = IngestPipeline(frame=FRAME, std_decoder=decoder)  # type: ignore[arg-type]
    results = [p.feed("v2x/v1/rsu/r1/frame/up", bytes([i]), T0) for i in range(len(outputs))]
    assert [r.reason if r else None for r in results] == [
        Reason.OUT_OF_RANGE,  # a BSM without a vehicle id
        None,  # MAP: passed over
        Reason.UNKNOWN_BODY,
        None,
        None,
    ]
    assert list(p.drain(T0).spat) == ["j9"]
