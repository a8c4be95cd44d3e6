"""The Chinese Day-1 message set (YD/T 3709 / T/CSAE 53): BSM, MAP, RSM, SPAT, RSI in a MessageFrame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from google.protobuf.message import Message

from codec import schema
from codec.csae import bsm, mapmsg, rsi, rsm, spat
from codec.errors import CodecError
from codec.message import Context, DecodedMessage
from proto import pb

STD: Final = "csae"
#: MessageFrame alternative -> message type name.
FRAMES: Final = {"bsmFrame": "BSM", "mapFrame": "MAP", "rsmFrame": "RSM", "spatFrame": "SPAT", "rsiFrame": "RSI"}
FRAME_OF: Final = {v: k for k, v in FRAMES.items()}
_TO: Final[dict[str, Callable[[dict[str, Any], Context], tuple[Message, ...]]]] = {
    "BSM": bsm.to_platform,
    "MAP": mapmsg.to_platform,
    "RSM": rsm.to_platform,
    "SPAT": spat.to_platform,
    "RSI": rsi.to_platform,
}
#: Contract message type -> (message type, adapter) for encoding.
_FROM: Final[dict[type[Message], tuple[str, Callable[[Any, Context], dict[str, Any]]]]] = {
    pb.Bsm: ("BSM", bsm.from_platform),
    pb.MapData: ("MAP", mapmsg.from_platform),
    pb.PerceptionFrame: ("RSM", rsm.from_platform),
    pb.Spat: ("SPAT", spat.from_platform),
    pb.RoadsideInfo: ("RSI", rsi.from_platform),
}


def decode(uper: bytes, ctx: Context) -> DecodedMessage:
    """One UPER MessageFrame -> :class:`DecodedMessage` with its contract messages.

    Raises
    ------
    CodecError
        For bytes that are not a MessageFrame of this set or values the platform cannot use.
    """
    alt, raw = schema.decode(STD, "MessageFrame", uper)
    msg_type = FRAMES[alt]
    try:
        platform = _TO[msg_type](raw, ctx)
    except CodecError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, OverflowError) as exc:
        raise CodecError(f"MessageFrame.{alt}: cannot map to the platform ({exc!r})", reason="malformed") from None
    return DecodedMessage(STD, msg_type, raw, platform, bytes(uper))


def encode(msg: Message, ctx: Context) -> bytes:
    """A contract message (``pb.Bsm``, ``pb.MapData``, ``pb.PerceptionFrame``, ``pb.Spat``,
    ``pb.RoadsideInfo``) -> UPER MessageFrame bytes.

    Raises
    ------
    CodecError
        ``wrong_type`` for another message, or when a value does not fit the standard.
    """
    entry = _FROM.get(type(msg))
    if entry is None:
        raise CodecError(
            f"csae: no standard message for {type(msg).__name__}; give one of " + ", ".join(t.__name__ for t in _FROM),
            reason="wrong_type",
        )
    msg_type, adapter = entry
    return encode_raw(msg_type, adapter(msg, ctx))


def encode_raw(msg_type: str, raw: dict[str, Any]) -> bytes:
    """A message value in the standard's own fields -> UPER MessageFrame bytes."""
    if msg_type not in FRAME_OF:
        raise CodecError(f"csae: unknown message type {msg_type!r}; one of {', '.join(FRAME_OF)}", reason="wrong_type")
    return schema.encode(STD, "MessageFrame", (FRAME_OF[msg_type], raw))
