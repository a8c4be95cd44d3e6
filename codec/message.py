"""What a decoder returns, and what an adapter needs to know besides the message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message


@dataclass(frozen=True, slots=True)
class Context:
    """The circumstances of one message.

    Parameters
    ----------
    ref_ns
        Reference time (ns since the epoch, UTC) that resolves the standards' partial times
        (minute of the year, ms of the minute, 0.1 s of the hour) and stamps messages that
        carry no time of their own.
    sender_id
        The RSU id of the frame the message came in, ``""`` when not known.
    msg_count
        ``msgCnt`` / sequence number to put into encoded messages (0..127).
    """

    ref_ns: int
    sender_id: str = ""
    msg_count: int = 0


@dataclass(frozen=True, slots=True)
class DecodedMessage:
    """One standard V2X message, decoded.

    Attributes
    ----------
    std
        ``"csae"`` or ``"j2735"``.
    msg_type
        The standard's message: ``"BSM"``, ``"MAP"``, ``"RSM"``, ``"SPAT"``, ``"RSI"`` (CSAE);
        ``"BSM"``, ``"MAP"``, ``"SPAT"``, ``"SRM"``, ``"SSM"`` (J2735).
    raw
        The message as asn1tools decodes it, in the standard's own field names and units
        (for J2735 the open types BSM part II are decoded in place, unknown ones kept as bytes).
    platform
        The contract messages it maps to: BSM -> one ``pb.Bsm``; RSM -> one
        ``pb.PerceptionFrame``; SPAT -> one ``pb.Spat`` per intersection; MAP -> one
        ``pb.MapData`` per intersection; RSI -> one ``pb.RoadsideInfo``; SRM -> one
        ``pb.PriorityRequest`` per request; SSM -> one ``pb.Advisory`` (priority) per status.
    uper
        The UPER bytes of the MessageFrame.
    """

    std: str
    msg_type: str
    raw: dict[str, Any]
    platform: tuple[Message, ...] = field(default=())
    uper: bytes = b""
