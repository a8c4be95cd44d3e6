"""The Chinese Day-1 message set (YD/T 3709 / T/CSAE 53): BSM, MAP, RSM, SPAT, RSI in a MessageFrame."""

from __future__ import annotations

from typing import Any, Final

from google.protobuf.message import Message

from codec import schema
from codec.adapters import Adapters
from codec.csae import bsm, mapmsg, rsi, rsm, spat
from codec.errors import CodecError
from codec.message import Context, DecodedMessage
from proto import pb

STD: Final = "csae"
#: MessageFrame alternative -> message type name.
FRAMES: Final = {"bsmFrame": "BSM", "mapFrame": "MAP", "rsmFrame": "RSM", "spatFrame": "SPAT", "rsiFrame": "RSI"}
FRAME_OF: Final = {v: k for k, v in FRAMES.items()}
ADAPTERS: Final = Adapters(
    STD,
    {
        "BSM": bsm.to_platform,
        "MAP": mapmsg.to_platform,
        "RSM": rsm.to_platform,
        "SPAT": spat.to_platform,
        "RSI": rsi.to_platform,
    },
    {
        pb.Bsm: ("BSM", bsm.from_platform),
        pb.MapData: ("MAP", mapmsg.from_platform),
        pb.PerceptionFrame: ("RSM", rsm.from_platform),
        pb.Spat: ("SPAT", spat.from_platform),
        pb.RoadsideInfo: ("RSI", rsi.from_platform),
    },
)


def decode(uper: bytes, ctx: Context) -> DecodedMessage:
    """One UPER MessageFrame -> :class:`DecodedMessage` with its contract messages.

    Raises
    ------
    CodecError
        For bytes that are not a MessageFrame of this set or values the platform cannot use.
    """
    alt, raw = schema.decode(STD, "MessageFrame", uper)
    msg_type = FRAMES[alt]
    platform = ADAPTERS.to_platform(msg_type, raw, ctx, f"MessageFrame.{alt}")
    return DecodedMessage(STD, msg_type, raw, platform, bytes(uper))


def encode(msg: Message, ctx: Context) -> bytes:
    """A contract message (``pb.Bsm``, ``pb.MapData``, ``pb.PerceptionFrame``, ``pb.Spat``,
    ``pb.RoadsideInfo``) -> UPER MessageFrame bytes.

    Raises
    ------
    CodecError
        ``wrong_type`` for another message, or when a value does not fit the standard.
    """
    return encode_raw(*ADAPTERS.from_platform(msg, ctx))


def encode_raw(msg_type: str, raw: dict[str, Any]) -> bytes:
    """A message value in the standard's own fields -> UPER MessageFrame bytes."""
    if msg_type not in FRAME_OF:
        raise CodecError(f"csae: unknown message type {msg_type!r}; one of {', '.join(FRAME_OF)}", reason="wrong_type")
    return schema.encode(STD, "MessageFrame", (FRAME_OF[msg_type], raw))
