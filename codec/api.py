"""The codec stage's entry points: bytes <-> :class:`DecodedMessage` / contract messages."""

from __future__ import annotations

import time
from typing import Any, Final

from google.protobuf.message import Message

from codec import csae, j2735, schema
from codec.errors import CodecError
from codec.frame import decode_rsu_frame
from codec.message import Context, DecodedMessage

FRAMES: Final = ("rsu",)


def decode(
    std: str, data: bytes, frame: str | None = None, *, ref_ns: int | None = None, sender_id: str = ""
) -> list[DecodedMessage]:
    """Decode standard V2X bytes into messages in the standard's fields and in the contract.

    Parameters
    ----------
    std
        ``"csae"`` (YD/T 3709 / T/CSAE 53) or ``"j2735"``.
    data
        One UPER MessageFrame, or with ``frame="rsu"`` one RSU-to-centre frame
        (:mod:`codec.frame`, CSAE only).
    frame
        ``None`` or ``"rsu"``.
    ref_ns
        Reference time (ns since the epoch) that resolves minute-of-year / ms-of-minute /
        0.1 s-of-hour times. Default: the RSU frame's UTC time, else the current time.
    sender_id
        The sender's id when known without a frame (e.g. the MQTT topic's device id).

    Returns
    -------
    list of DecodedMessage
        One per MessageFrame, in order.

    Raises
    ------
    CodecError
        For anything that is not a well-formed message the platform can use; ``err.reason``
        says what kind of problem (:data:`codec.errors.REASONS`), the message names the field
        or byte offset.
    """
    schema.check_std(std)
    if frame is None:
        ctx = Context(time.time_ns() if ref_ns is None else ref_ns, sender_id)
        return [decode_message(std, bytes(data), ctx)]
    if frame != "rsu":
        raise CodecError(f"unknown frame {frame!r}; choose one of {', '.join(FRAMES)}", reason="frame", field="frame")
    if std != "csae":
        raise CodecError("the RSU frame carries CSAE messages; use std 'csae'", reason="wrong_type", field="std")
    rsu = decode_rsu_frame(data)
    ctx = Context(rsu.utc_ns if ref_ns is None else ref_ns, rsu.rsu_id)
    return [decode_message(std, m, ctx) for m in rsu.messages]


def decode_message(std: str, uper: bytes, ctx: Context) -> DecodedMessage:
    """One UPER MessageFrame of ``std`` -> :class:`DecodedMessage` (see :func:`decode`)."""
    return csae.decode(uper, ctx) if schema.check_std(std) == "csae" else j2735.decode(uper, ctx)


def encode(std: str, msg: Message, *, msg_count: int = 0, ref_ns: int | None = None) -> bytes:
    """A contract message -> one UPER MessageFrame of ``std``.

    CSAE: ``pb.Bsm`` -> BSM, ``pb.PerceptionFrame`` -> RSM, ``pb.Spat`` -> SPAT, ``pb.MapData``
    -> MAP, ``pb.RoadsideInfo`` -> RSI. J2735: ``pb.Bsm`` -> BSM, ``pb.Spat`` -> SPaT,
    ``pb.MapData`` -> MAP, ``pb.PriorityRequest`` -> SRM, ``pb.Advisory`` with ``priority`` -> SSM.

    Parameters
    ----------
    msg_count
        ``msgCnt`` / sequence number to send (0..127).
    ref_ns
        Time for fields the contract message does not carry (MAP timestamp). Default: now.

    Raises
    ------
    CodecError
        ``wrong_type`` for a message with no standard counterpart, ``out_of_range`` for a value
        that does not fit the standard (the message names the field).
    """
    ctx = Context(time.time_ns() if ref_ns is None else ref_ns, msg_count=msg_count)
    return csae.encode(msg, ctx) if schema.check_std(std) == "csae" else j2735.encode(msg, ctx)


def encode_raw(std: str, msg_type: str, raw: dict[str, Any]) -> bytes:
    """A message in the standard's own fields (as in :attr:`DecodedMessage.raw`) -> UPER MessageFrame."""
    return csae.encode_raw(msg_type, raw) if schema.check_std(std) == "csae" else j2735.encode_raw(msg_type, raw)
