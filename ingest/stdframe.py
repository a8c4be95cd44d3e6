"""The hook to the standard V2X codec (``codec`` package) for RSU-to-centre frames on ``v2x/v1/rsu/{id}/frame/up``.

Ingest does not depend on ``codec``: :func:`load_std_decoder` looks for it at run time and
returns ``None`` when it is not installed; frames then are set aside as ``std_unavailable``.
A :data:`StdDecoder` is any callable from the frame's bytes to the platform messages it
carries (``pb.PerceptionFrame``, ``pb.Bsm``, ``pb.Spat``, ...); it raises on a frame it cannot
decode (counted as ``std_decode_error``).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias

from google.protobuf.message import Message

StdDecoder: TypeAlias = Callable[[bytes], Sequence[Message]]


def _platform_messages(decoded: Iterable[Any]) -> list[Message]:
    out: list[Message] = []
    for d in decoded:
        p = d if isinstance(d, Message) else getattr(d, "platform", None)
        if isinstance(p, Message):
            out.append(p)
        elif isinstance(p, Iterable):
            out.extend(x for x in p if isinstance(x, Message))
    return out


def load_std_decoder() -> StdDecoder | None:
    """A decoder built on ``codec.decode_rsu_frame`` when the ``codec`` package is importable, else ``None``.

    ``codec.decode_rsu_frame(data)`` parses the vendor frame; its result (or its ``messages``)
    are decoded messages whose ``platform`` attribute holds the platform message(s). Elements
    that are still raw UPER bytes go through ``codec.decode("csae", data)``.
    """
    try:
        if importlib.util.find_spec("codec") is None:
            return None
        codec = importlib.import_module("codec")
    except ImportError:
        return None
    decode_frame = getattr(codec, "decode_rsu_frame", None)
    if decode_frame is None:
        return None
    decode_std = getattr(codec, "decode", None)

    def decode(payload: bytes) -> Sequence[Message]:
        frame = decode_frame(payload)
        items = getattr(frame, "messages", frame)
        out: list[Message] = []
        for item in items if isinstance(items, Iterable) else [items]:
            if isinstance(item, bytes | bytearray) and decode_std is not None:
                out.extend(_platform_messages(decode_std("csae", bytes(item))))
            else:
                out.extend(_platform_messages([item]))
        return out

    return decode
