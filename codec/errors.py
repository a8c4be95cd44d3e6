"""The one exception of the codec stage."""

from __future__ import annotations

from typing import Final

#: Reasons a message is set aside, for counters (``CodecError.reason``).
REASONS: Final = (
    "truncated",  # the bytes end before the message does
    "malformed",  # the bits do not follow the ASN.1 definition (bad length, bad index, trailing bytes)
    "out_of_range",  # a value outside its constraint or its usable range (e.g. latitude unavailable)
    "unknown_extension",  # a CHOICE alternative or ENUMERATED value added by a later version
    "wrong_type",  # a well-formed message of a type the platform does not take here
    "frame",  # the RSU-to-centre frame around the messages is inconsistent
)


class CodecError(ValueError):
    """A standard V2X message (or its frame) that cannot be decoded or encoded.

    ``str(err)`` names the field (dotted ASN.1 path, e.g. ``MessageFrame.spatFrame.intersections.
    phases.phaseStates.light``) or the byte offset that is wrong, so the message says what to fix.

    Parameters
    ----------
    message
        Human-readable text; it starts with the field path when one is known.
    reason
        One of :data:`REASONS`; ingest counts rejected messages by it.
    field
        Dotted path of the offending field, ``""`` when not known.
    offset
        Bit offset into the UPER message, or byte offset into an RSU frame (see the message);
        ``None`` when not known.
    """

    def __init__(self, message: str, *, reason: str, field: str = "", offset: int | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown CodecError reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.offset = offset
