"""Standard MAP messages -> ``pb.MapData``: the intersection geometry a junction's RSU broadcasts.

Both standards end in the same contract message (see :mod:`codec.csae.mapmsg` and
:mod:`codec.j2735.mapmsg` for what each reads): lanes with WGS84 polylines in the driving
direction, widths, allowed road users and speed limits, and connections with the signal group
that controls them. The lane id says where a lane sits:

- CSAE ``"{upstream}:{junction}:{laneID}"``: lane ``laneID`` of the link from the upstream node
  into the junction (a connection's ``to_lane`` names the link out of it the same way);
- J2735 ``"{junction}:{laneID}"``, ingress or egress as the lane says.
"""

from __future__ import annotations

from dataclasses import dataclass

from codec import api
from codec.errors import CodecError
from proto import pb


@dataclass(frozen=True, slots=True)
class LaneName:
    """A MAP lane id taken apart.

    Attributes
    ----------
    junction
        The junction whose MAP describes the lane (the link's downstream node for CSAE).
    upstream
        CSAE: the link's upstream node; ``None`` for a J2735 lane.
    number
        The standard's lane number (``laneID``).
    """

    junction: str
    upstream: str | None
    number: int


def lane_name(lane_id: str) -> LaneName | None:
    """Parse a lane id made by the MAP adapters; ``None`` for any other id."""
    parts = lane_id.split(":")
    if not parts[-1].isdigit() or not all(parts):
        return None
    if len(parts) == 3:
        return LaneName(parts[1], parts[0], int(parts[2]))
    if len(parts) == 2:
        return LaneName(parts[0], None, int(parts[1]))
    return None


def maps_from(std: str, data: bytes, frame: str | None = None, *, ref_ns: int | None = None) -> list[pb.MapData]:
    """Every intersection in the MAP message(s) of ``data`` (UPER or an RSU frame).

    Raises
    ------
    CodecError
        When ``data`` does not decode, or holds no MAP (``wrong_type``).
    """
    out = [p for m in api.decode(std, data, frame, ref_ns=ref_ns) if m.msg_type == "MAP" for p in m.platform]
    if not out:
        raise CodecError(f"{std}: the message is not a MAP", reason="wrong_type")
    return [m for m in out if isinstance(m, pb.MapData)]
