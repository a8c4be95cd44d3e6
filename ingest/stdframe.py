"""The hook to the standard V2X codec (``codec`` package) for RSU-to-centre frames on ``v2x/v1/rsu/{id}/frame/up``.

Ingest does not depend on ``codec``: :func:`load_std_decoder` looks for it at run time and
returns ``None`` when it is not installed; frames then are set aside as ``std_unavailable``.
A :data:`StdDecoder` is any callable from the frame's bytes to the platform messages it
carries (``pb.PerceptionFrame``, ``pb.Bsm``, ``pb.Spat``, ...); it raises ``ValueError``
(``codec.CodecError`` is one) on a frame it cannot decode, counted as ``std_decode_error``;
anything else it raises is a bug, counted as ``internal_error`` with its traceback logged.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from typing import TypeAlias

from google.protobuf.message import Message

StdDecoder: TypeAlias = Callable[[bytes], Sequence[Message]]


def load_std_decoder() -> StdDecoder | None:
    """A decoder built on ``codec.decode("csae", payload, frame="rsu")`` when ``codec`` is importable, else ``None``.

    The vendor frame's UTC time resolves the standard messages' partial times; each decoded
    message's ``platform`` contract messages are returned in order. ``codec.CodecError`` (a
    ``ValueError``) marks a frame that cannot be decoded.
    """
    try:
        if importlib.util.find_spec("codec") is None:
            return None
        codec = importlib.import_module("codec")
    except ImportError:
        return None
    decode_std = getattr(codec, "decode", None)
    if decode_std is None:
        return None

    def decode(payload: bytes) -> Sequence[Message]:
        return [p for m in decode_std("csae", payload, frame="rsu") for p in m.platform]

    return decode
