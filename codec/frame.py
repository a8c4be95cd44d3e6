"""The vendor RSU-to-centre binary frame around CSAE MessageFrames.

Layout (little-endian)::

    8 bytes  RSU id, ASCII (NUL-padded)
    8 bytes  UTC time of the frame, ms since the epoch
    BSM:     1 byte count n, then n times (2-byte length, that many bytes of UPER MessageFrame)
    others:  2-byte length, then that many bytes of one UPER MessageFrame

The two bodies are told apart by their consistency: the BSM layout must use every byte and
each of its messages must start with the ``bsmFrame`` choice (first four bits 0); otherwise
the single-message layout must use every byte.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from codec import ids
from codec.errors import CodecError

HEADER: Final = 16


@dataclass(frozen=True, slots=True)
class RsuFrame:
    """One RSU-to-centre frame.

    Attributes
    ----------
    rsu_id
        The 8-byte id as ASCII without trailing NULs (hex when not printable).
    utc_ms
        The RSU's UTC time of the frame, ms since the epoch.
    messages
        The UPER MessageFrames it carries, in order.
    """

    rsu_id: str
    utc_ms: int
    messages: tuple[bytes, ...]

    @property
    def utc_ns(self) -> int:
        """The frame time in ns since the epoch."""
        return self.utc_ms * 1_000_000


def _bsm_layout(body: bytes) -> tuple[bytes, ...] | None:
    if not body:
        return None
    n, pos, out = body[0], 1, []
    for _ in range(n):
        if pos + 2 > len(body):
            return None
        (length,) = struct.unpack_from("<H", body, pos)
        msg = body[pos + 2 : pos + 2 + length]
        if len(msg) != length or not msg or msg[0] >> 4 != 0:
            return None
        out.append(msg)
        pos += 2 + length
    return tuple(out) if n and pos == len(body) else None


def decode_rsu_frame(data: bytes) -> RsuFrame:
    """Split an RSU-to-centre frame into its header and UPER MessageFrames.

    Parameters
    ----------
    data
        The whole frame, e.g. one MQTT payload of ``v2x/v1/rsu/{id}/frame/up``.

    Raises
    ------
    CodecError
        (reason ``frame``) when the frame is shorter than its header or its length fields do
        not match its size; the message gives the byte offset.
    """
    data = bytes(data)
    if len(data) < HEADER + 2:
        raise CodecError(
            f"rsu frame: {len(data)} bytes, shorter than the 16-byte header and a length (offset {len(data)})",
            reason="frame",
            field="frame",
            offset=len(data),
        )
    rsu_id = ids.octets_to_text(data[:8])
    (utc_ms,) = struct.unpack_from("<Q", data, 8)
    body = data[HEADER:]
    messages = _bsm_layout(body)
    if messages is None:
        (length,) = struct.unpack_from("<H", body, 0)
        if length == 0 or 2 + length != len(body):
            raise CodecError(
                f"rsu frame: length field {length} at offset {HEADER} does not match the {len(body) - 2} bytes "
                "after it (nor is the body a consistent BSM count/length list)",
                reason="frame",
                field="length",
                offset=HEADER,
            )
        messages = (body[2:],)
    return RsuFrame(rsu_id, utc_ms, messages)


def encode_rsu_frame(rsu_id: str, utc_ms: int, messages: Sequence[bytes]) -> bytes:
    """Build an RSU-to-centre frame (BSM layout when every message is a ``bsmFrame``).

    Raises
    ------
    CodecError
        When the id does not fit 8 octets, there is no message, several non-BSM messages, more
        than 255 messages, or a message longer than 65535 bytes.
    """
    if not messages or len(messages) > 255:
        raise CodecError(f"rsu frame: {len(messages)} messages; give 1..255", reason="frame", field="messages")
    if any(len(m) > 0xFFFF or not m for m in messages):
        raise CodecError("rsu frame: a message is empty or longer than 65535 bytes", reason="frame", field="messages")
    head = ids.text_to_octets(rsu_id, 8, "rsu_id") + struct.pack("<Q", utc_ms)
    if all(m[0] >> 4 == 0 for m in messages):
        return head + bytes([len(messages)]) + b"".join(struct.pack("<H", len(m)) + m for m in messages)
    if len(messages) != 1:
        raise CodecError(
            "rsu frame: only BSMs can share a frame; send one MAP/RSM/SPAT/RSI per frame",
            reason="frame",
            field="messages",
        )
    return head + struct.pack("<H", len(messages[0])) + messages[0]
