"""Identifiers: standard node references and octet ids <-> the platform's string ids.

Platform ids made here (documented so that control and ingest can rely on them):

- junction: ``"{region}-{id}"`` for a node/intersection reference with a region,
  ``"{id}"`` without (``"255-9"``, ``"12110"``); no ``/``, ``+`` or ``#`` so it can be a topic level;
- CSAE lane: ``"{upstream junction}:{junction}:{laneID}"``, the lane ``laneID`` of the link from
  the upstream node to the node (``"1-148:1-149:1"``);
- J2735 lane: ``"{junction}:{laneID}"`` (``"12110:2"``);
- vehicle ids: the octets in lower-case hex (BSM ``id``), or a J2735 ``stationID`` in decimal;
- RSU ids: the 8 octets as ASCII with trailing NULs removed when printable, else hex.
"""

from __future__ import annotations

import re
import string
from typing import Final

from codec.errors import CodecError

_PRINTABLE: Final = frozenset(string.ascii_letters + string.digits + string.punctuation + " ")
_HEX: Final = re.compile(r"^[0-9a-fA-F]*$")


def junction_id(ref: dict[str, int]) -> str:
    """``NodeReferenceID`` / ``IntersectionReferenceID`` -> platform junction id."""
    return f"{ref['region']}-{ref['id']}" if "region" in ref else str(ref["id"])


def node_ref(junction: str, field: str = "junction_id") -> dict[str, int]:
    """Platform junction id -> ``{"region"?, "id"}``; inverse of :func:`junction_id`.

    Raises
    ------
    CodecError
        When the id is not ``"{id}"`` or ``"{region}-{id}"`` with numbers in 0..65535.
    """
    parts = junction.split("-")
    if len(parts) in (1, 2) and all(p.isdigit() and int(p) <= 65535 for p in parts):
        nums = [int(p) for p in parts]
        return {"id": nums[0]} if len(nums) == 1 else {"region": nums[0], "id": nums[1]}
    raise CodecError(
        f"{field}: {junction!r} is not a standard node reference; use '<id>' or '<region>-<id>' with numbers 0..65535",
        reason="out_of_range",
        field=field,
    )


def octets_to_text(raw: bytes) -> str:
    """Octet id -> ASCII (trailing NULs removed) when printable, else lower-case hex."""
    text = raw.rstrip(b"\x00")
    if text and all(chr(c) in _PRINTABLE for c in text):
        return text.decode("ascii")
    return raw.hex()


def text_to_octets(text: str, size: int, field: str) -> bytes:
    """Inverse of :func:`octets_to_text`: ``2*size`` hex digits, or up to ``size`` ASCII chars NUL-padded.

    Raises
    ------
    CodecError
        When the id fits neither form.
    """
    if len(text) == 2 * size and _HEX.match(text):
        return bytes.fromhex(text)
    if len(text) <= size and all(c in _PRINTABLE for c in text):
        return text.encode("ascii").ljust(size, b"\x00")
    raise CodecError(
        f"{field}: {text!r} must be {2 * size} hex digits or at most {size} printable ASCII characters",
        reason="out_of_range",
        field=field,
    )


def hex_to_octets(text: str, size: int, field: str) -> bytes:
    """Vehicle id (``2*size`` hex digits) -> octets.

    Raises
    ------
    CodecError
        When ``text`` is not ``2*size`` hex digits.
    """
    if len(text) == 2 * size and _HEX.match(text):
        return bytes.fromhex(text)
    raise CodecError(f"{field}: {text!r} must be {2 * size} hex digits", reason="out_of_range", field=field)


def split_id(text: str, n: int, field: str) -> list[str]:
    """Split a composite platform id on ``:`` into exactly ``n`` parts, else raise :class:`CodecError`."""
    parts = text.split(":")
    if len(parts) != n or not all(parts):
        raise CodecError(f"{field}: {text!r} does not have {n} ':'-separated parts", reason="out_of_range", field=field)
    return parts


def small_int(text: str, hi: int, field: str) -> int:
    """A decimal id part in ``0..hi``, else :class:`CodecError`."""
    if text.isdigit() and int(text) <= hi:
        return int(text)
    raise CodecError(f"{field}: {text!r} is not a number in 0..{hi}", reason="out_of_range", field=field)
