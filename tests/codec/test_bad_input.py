"""Bad input gives a CodecError that names the field; fuzzed bytes never raise anything else."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import asn1tools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import codec
from codec import schema
from tests.codec.conftest import CsaeSample


def _bsm(samples: list[CsaeSample]) -> bytes:
    return next(s for s in samples if s.name == "BSM").uper[0]


def test_truncated_message_names_the_field_and_bit_offset(csae_samples: list[CsaeSample]) -> None:
    with pytest.raises(codec.CodecError, match=r"MessageFrame\.bsmFrame\.pos\.long: out of data \(bit offset") as err:
        codec.decode("csae", _bsm(csae_samples)[:20])
    assert err.value.reason == "truncated" and err.value.field == "MessageFrame.bsmFrame.pos.long"


def test_out_of_range_value_names_the_field(csae_samples: list[CsaeSample]) -> None:
    alt, raw = schema.decode("csae", "MessageFrame", _bsm(csae_samples))
    raw["heading"] = 30000  # 15 bits hold it, the constraint is 0..28800
    data = schema.spec("csae").encode("MessageFrame", (alt, raw), check_constraints=False)
    with pytest.raises(codec.CodecError, match=r"MessageFrame\.bsmFrame\.heading: .*28800.*30000") as err:
        codec.decode("csae", data)
    assert err.value.reason == "out_of_range"


def test_unavailable_position_is_out_of_range(csae_samples: list[CsaeSample]) -> None:
    alt, raw = schema.decode("csae", "MessageFrame", _bsm(csae_samples))
    raw["pos"]["lat"] = 900000001
    with pytest.raises(codec.CodecError, match=r"pos: position unavailable") as err:
        codec.decode("csae", schema.encode("csae", "MessageFrame", (alt, raw)))
    assert err.value.reason == "out_of_range"


def test_unknown_choice_alternative_is_an_unknown_extension(csae_samples: list[CsaeSample]) -> None:
    data = bytearray(_bsm(csae_samples))
    data[0] |= 0x80  # MessageFrame's extension bit: an alternative of a later version
    with pytest.raises(codec.CodecError, match=r"^MessageFrame: unknown extension") as err:
        codec.decode("csae", bytes(data))
    assert err.value.reason == "unknown_extension"


def test_unknown_enumerated_value_names_the_field(csae_samples: list[CsaeSample]) -> None:
    rsm = next(s for s in csae_samples if s.name == "RSM").uper[0]
    alt, raw = schema.decode("csae", "MessageFrame", rsm)
    text = schema.FILES["csae"].read_text(encoding="utf-8")
    later = asn1tools.compile_string(text.replace("rsu (4), ...", "rsu (4), ..., robot (5)"), "uper")
    raw["participants"][0]["ptcType"] = "robot"
    with pytest.raises(codec.CodecError, match=r"participants\.ptcType: unknown extension") as err:
        codec.decode("csae", later.encode("MessageFrame", (alt, raw)))
    assert err.value.reason == "unknown_extension"


def test_a_later_sequence_member_is_skipped_as_x691_intends(csae_samples: list[CsaeSample]) -> None:
    alt, raw = schema.decode("csae", "MessageFrame", _bsm(csae_samples))
    text = schema.FILES["csae"].read_text(encoding="utf-8")
    last = "    emergencyExt   VehicleEmergencyExtensions OPTIONAL,\n    ..."
    later = asn1tools.compile_string(text.replace(last, last + ",\n    newThing INTEGER (0..9) OPTIONAL"), "uper")
    (m,) = codec.decode("csae", later.encode("MessageFrame", (alt, {**raw, "newThing": 7})))
    assert m.raw == raw


def test_wrong_type_is_named(csae_samples: list[CsaeSample], tim_hex: bytes) -> None:
    with pytest.raises(codec.CodecError, match=r"messageId: 31 .*not a message the platform reads") as err:
        codec.decode("j2735", tim_hex)
    assert err.value.reason == "wrong_type"
    with pytest.raises(codec.CodecError, match="unknown standard 'dsrc'"):
        codec.decode("dsrc", b"\x00")
    with pytest.raises(codec.CodecError, match="RSU frame carries CSAE"):
        codec.decode("j2735", csae_samples[0].frame, frame="rsu")


def test_bad_frames_name_the_offset(csae_samples: list[CsaeSample]) -> None:
    spat = next(s for s in csae_samples if s.name == "SPAT").frame
    with pytest.raises(codec.CodecError, match=r"shorter than the 16-byte header .*offset 10") as err:
        codec.decode_rsu_frame(spat[:10])
    assert err.value.reason == "frame"
    with pytest.raises(codec.CodecError, match=r"length field 261 at offset 16 does not match the 258 bytes"):
        codec.decode_rsu_frame(spat[:-3])
    bsm = next(s for s in csae_samples if s.name == "BSM").frame
    long = bsm[:16] + struct.pack("<B", 3) + bsm[17:]  # claims three BSMs, holds two
    with pytest.raises(codec.CodecError, match="length field"):
        codec.decode_rsu_frame(long)


@pytest.fixture(scope="module")
def real_inputs(shared_data: Path) -> list[tuple[str, str | None, bytes]]:
    """Every real capture: (standard, frame, bytes)."""
    out: list[tuple[str, str | None, bytes]] = []
    for line in (shared_data / "v2x-samples/csae-changsha/rsu_captures.txt").read_text(encoding="utf-8").splitlines():
        m = re.search(r"：([0-9a-f]{40,})$", line)
        if m:
            out.append(("csae", "rsu", bytes.fromhex(m.group(1))))
    for name in ("bsm", "spat", "map", "srm", "ssm"):
        text = (shared_data / f"v2x-samples/j2735-jpo-ode/decoder-output-{name}.xml").read_text(encoding="utf-8")
        hx = re.search(r"<asn1>\s*([0-9A-Fa-f]+)\s*</asn1>", text)
        assert hx is not None
        out.append(("j2735", None, bytes.fromhex(hx.group(1))))
    return out


def _only_codec_errors(std: str, frame: str | None, data: bytes) -> None:
    try:
        codec.decode(std, data, frame=frame, ref_ns=1_700_000_000 * 10**9)
    except codec.CodecError as err:
        assert err.reason in codec.REASONS and str(err)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=300), std=st.sampled_from(["csae", "j2735"]))
def test_random_bytes_never_crash_a_decoder(data: bytes, std: str) -> None:
    _only_codec_errors(std, None, data)
    _only_codec_errors("csae", "rsu", data)


@FUZZ
@given(pick=st.integers(0, 10**6), cut=st.integers(0, 10**6), flips=st.lists(st.integers(0, 10**6), max_size=4))
def test_truncated_and_flipped_captures_never_crash(
    pick: int, cut: int, flips: list[int], real_inputs: list[tuple[str, str | None, bytes]]
) -> None:
    std, frame, data = real_inputs[pick % len(real_inputs)]
    buf = bytearray(data)
    for f in flips:
        buf[f % len(buf)] ^= 1 << (f % 8)
    _only_codec_errors(std, frame, bytes(buf[: cut % (len(buf) + 1)]))
    _only_codec_errors(std, None, bytes(buf[16:])[: cut % (len(buf) + 1)])
