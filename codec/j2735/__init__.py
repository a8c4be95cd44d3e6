"""SAE J2735: BSM, SPaT, MAP, SRM, SSM in a MessageFrame (messageId + open-type value)."""

from __future__ import annotations

import contextlib
from typing import Any, Final

from google.protobuf.message import Message

from codec import schema
from codec.adapters import Adapters
from codec.errors import CodecError
from codec.j2735 import bsm, mapmsg, spat, srm, ssm
from codec.message import Context, DecodedMessage
from proto import pb

STD: Final = "j2735"
#: DSRCmsgID -> (message type, ASN.1 type name).
MESSAGES: Final = {
    18: ("MAP", "MapData"),
    19: ("SPAT", "SPAT"),
    20: ("BSM", "BasicSafetyMessage"),
    29: ("SRM", "SignalRequestMessage"),
    30: ("SSM", "SignalStatusMessage"),
}
ID_OF: Final = {v[0]: k for k, v in MESSAGES.items()}
ADAPTERS: Final = Adapters(
    STD,
    {
        "MAP": mapmsg.to_platform,
        "SPAT": spat.to_platform,
        "BSM": bsm.to_platform,
        "SRM": srm.to_platform,
        "SSM": ssm.to_platform,
    },
    {
        pb.MapData: ("MAP", mapmsg.from_platform),
        pb.Spat: ("SPAT", spat.from_platform),
        pb.Bsm: ("BSM", bsm.from_platform),
        pb.PriorityRequest: ("SRM", srm.from_platform),
        pb.Advisory: ("SSM", ssm.from_platform),
    },
)


def type_name(msg_type: str) -> str:
    """Message type (``"BSM"``...) -> ASN.1 type name (``"BasicSafetyMessage"``...)."""
    if msg_type not in ID_OF:
        raise CodecError(f"j2735: unknown message type {msg_type!r}; one of {', '.join(ID_OF)}", reason="wrong_type")
    return MESSAGES[ID_OF[msg_type]][1]


def _decode_part_ii(raw: dict[str, Any]) -> None:
    """Decode BSM part II values in place; an id or value this subset cannot read stays bytes."""
    for part in raw.get("partII", ()):
        name = bsm.PART_II_TYPES.get(part["partII-Id"])
        # kept as bytes when undecodable: part II is optional detail, the core data stands on its own
        if name is not None:
            with contextlib.suppress(CodecError):
                part["partII-Value"] = schema.decode(STD, name, part["partII-Value"])


def _encode_part_ii(raw: dict[str, Any]) -> dict[str, Any]:
    parts = []
    for part in raw.get("partII", ()):
        value = part["partII-Value"]
        if isinstance(value, dict):
            name = bsm.PART_II_TYPES.get(part["partII-Id"])
            if name is None:
                raise CodecError(
                    f"BasicSafetyMessage.partII: id {part['partII-Id']} has no type here; give its value as bytes",
                    reason="wrong_type",
                    field="partII-Id",
                )
            value = schema.encode(STD, name, value)
        parts.append({**part, "partII-Value": value})
    return {**raw, "partII": parts} if parts else raw


def decode(uper: bytes, ctx: Context) -> DecodedMessage:
    """One UPER MessageFrame -> :class:`DecodedMessage` with its contract messages.

    Raises
    ------
    CodecError
        ``wrong_type`` for a message id the platform does not read, else as
        :func:`codec.schema.decode`; a value the platform cannot use (position unavailable).
    """
    frame = schema.decode(STD, "MessageFrame", uper)
    msg_id = frame["messageId"]
    if msg_id not in MESSAGES:
        raise CodecError(
            f"MessageFrame.messageId: {msg_id} is not a message the platform reads ("
            + ", ".join(f"{k} {v[0]}" for k, v in MESSAGES.items())
            + ")",
            reason="wrong_type",
            field="MessageFrame.messageId",
        )
    msg_type, name = MESSAGES[msg_id]
    raw = schema.decode(STD, name, frame["value"])
    if msg_type == "BSM":
        _decode_part_ii(raw)
    platform = ADAPTERS.to_platform(msg_type, raw, ctx, name)
    return DecodedMessage(STD, msg_type, raw, platform, bytes(uper))


def encode(msg: Message, ctx: Context) -> bytes:
    """A contract message (``pb.MapData``, ``pb.Spat``, ``pb.Bsm``, ``pb.PriorityRequest``,
    ``pb.Advisory`` with a priority response) -> UPER MessageFrame bytes.

    Raises
    ------
    CodecError
        ``wrong_type`` for another message, or when a value does not fit the standard.
    """
    return encode_raw(*ADAPTERS.from_platform(msg, ctx))


def encode_raw(msg_type: str, raw: dict[str, Any]) -> bytes:
    """A message value in the standard's own fields (BSM part II as values or bytes) -> MessageFrame bytes."""
    name = type_name(msg_type)
    if msg_type == "BSM":
        raw = _encode_part_ii(raw)
    value = schema.encode(STD, name, raw)
    return schema.encode(STD, "MessageFrame", {"messageId": ID_OF[msg_type], "value": value})
