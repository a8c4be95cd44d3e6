"""Transit signal priority ids shared by the SRM and SSM adapters.

A request is known to both ends by ``"{vehicle}:{junction}:{requestID}:{sequence}:{inbound}"``:
the requester (J2735 ``stationID`` in decimal or ``entityID`` in hex), the intersection, the
SRM's request id and sequence number, and the inbound access point (``lane13``,
``approach2``, ``connection5``). An SRM decodes to a ``PriorityRequest`` with this
``request_id``; control answers with a ``PriorityResponse`` carrying it back, and the SSM
encoder reads everything it must echo from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from codec import ids
from codec.errors import CodecError

_ACCESS: Final = {"lane": "lane", "approach": "approach", "connection": "connection"}
_ACCESS_RE: Final = re.compile(r"^(lane|approach|connection)?(\d+)$")


@dataclass(frozen=True, slots=True)
class RequestKey:
    """The parts of a priority request id."""

    vehicle: str
    junction: str
    request: int
    sequence: int
    inbound: tuple[str, int]

    def __str__(self) -> str:
        return f"{self.vehicle}:{self.junction}:{self.request}:{self.sequence}:{self.inbound[0]}{self.inbound[1]}"

    @classmethod
    def parse(cls, text: str, field: str) -> RequestKey:
        """Parse a request id made by :meth:`__str__`.

        Raises
        ------
        CodecError
            When ``text`` is not such an id.
        """
        vehicle, junction, request, sequence, inbound = ids.split_id(text, 5, field)
        return cls(
            vehicle,
            junction,
            ids.small_int(request, 255, field),
            ids.small_int(sequence, 127, field),
            access_point(inbound, field),
        )


def access_point(text: str, field: str) -> tuple[str, int]:
    """``"lane13"`` / ``"13"`` / ``"approach2"`` / ``"connection5"`` -> IntersectionAccessPoint choice."""
    m = _ACCESS_RE.match(text)
    if m is None:
        raise CodecError(
            f"{field}: {text!r} is not an access point like 'lane13', 'approach2' or 'connection5'",
            reason="out_of_range",
            field=field,
        )
    kind = m.group(1) or "lane"
    return kind, ids.small_int(m.group(2), 15 if kind == "approach" else 255, field)


def vehicle_of(vid: tuple[str, Any]) -> str:
    """J2735 VehicleID choice -> platform vehicle id (stationID decimal, entityID hex)."""
    kind, value = vid
    return str(value) if kind == "stationID" else bytes(value).hex()


def vehicle_id(text: str, field: str) -> tuple[str, Any]:
    """Platform vehicle id -> J2735 VehicleID choice (decimal -> stationID, 8 hex digits -> entityID)."""
    if text.isdigit() and int(text) < 2**32:
        return "stationID", int(text)
    return "entityID", ids.hex_to_octets(text, 4, field)
