"""J2735 SRM (SignalRequestMessage) -> ``pb.PriorityRequest`` (one per request), and back.

``request_id`` is the :class:`codec.j2735.priority.RequestKey` of the request, ``approach_lane``
``"{junction}:{lane}"`` (the MAP lane id) or ``"{junction}:approach{n}"`` /
``"{junction}:connection{n}"``; ``eta_ns`` the request's minute/second (0 when not sent);
``bus_line`` the requestor's ``routeName``; ``schedule_deviation_ms`` its ``transitSchedule``
(10 s steps, positive = behind schedule). A priority cancellation sets ``cancel``.
"""

from __future__ import annotations

import zlib
from typing import Any

from codec import ids, timebase
from codec.j2735 import priority
from codec.message import Context
from proto import pb

_SCHEDULE_UNKNOWN = -122
_STEP_MS = 10_000


def _access_text(junction: str, point: tuple[str, int]) -> str:
    kind, n = point
    return f"{junction}:{n}" if kind == "lane" else f"{junction}:{kind}{n}"


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.PriorityRequest, ...]:
    """SignalRequestMessage value -> one ``pb.PriorityRequest`` per SignalRequestPackage."""
    requestor = raw["requestor"]
    vehicle = priority.vehicle_of(requestor["id"])
    t0 = timebase.from_moy_ms(raw.get("timeStamp"), raw["second"], ctx.ref_ns)
    schedule = requestor.get("transitSchedule", _SCHEDULE_UNKNOWN)
    out = []
    for package in raw.get("requests", ()):
        req = package["request"]
        junction = ids.junction_id(req["id"])
        key = priority.RequestKey(vehicle, junction, req["requestID"], raw.get("sequenceNumber", 0), req["inBoundLane"])
        has_eta = "minute" in package or "second" in package
        out.append(
            pb.PriorityRequest(
                request_id=str(key),
                vehicle_id=vehicle,
                junction_id=junction,
                approach_lane=_access_text(junction, req["inBoundLane"]),
                eta_ns=timebase.from_moy_ms(package.get("minute"), package.get("second"), t0) if has_eta else 0,
                schedule_deviation_ms=0 if schedule == _SCHEDULE_UNKNOWN else schedule * _STEP_MS,
                bus_line=requestor.get("routeName", ""),
                cancel=req["requestType"] == "priorityCancellation",
            )
        )
    return tuple(out)


def from_platform(msg: pb.PriorityRequest, ctx: Context) -> dict[str, Any]:
    """``pb.PriorityRequest`` -> SignalRequestMessage value from a public-transport requestor.

    A ``request_id`` in :class:`~codec.j2735.priority.RequestKey` form gives back its request
    id and sequence number; any other id is hashed to a request id (0..255) and sent with the
    message count as sequence number.

    Raises
    ------
    CodecError
        When the vehicle id is neither a stationID (decimal < 2**32) nor 8 hex digits, the
        junction is not a node reference, or the approach lane is not an access point.
    """
    junction = msg.junction_id
    _, _, access = msg.approach_lane.rpartition(":")
    inbound = priority.access_point(access, "PriorityRequest.approach_lane")
    try:
        key = priority.RequestKey.parse(msg.request_id, "PriorityRequest.request_id")
        request, sequence = key.request, key.sequence
    except ValueError:
        request, sequence = zlib.crc32(msg.request_id.encode()) % 256, ctx.msg_count
    requestor: dict[str, Any] = {
        "id": priority.vehicle_id(msg.vehicle_id, "PriorityRequest.vehicle_id"),
        "type": {"role": "publicTransport"},
    }
    if msg.bus_line:
        requestor["routeName"] = msg.bus_line
    if msg.schedule_deviation_ms:
        requestor["transitSchedule"] = max(-121, min(120, round(msg.schedule_deviation_ms / _STEP_MS)))
    package: dict[str, Any] = {
        "request": {
            "id": ids.node_ref(junction, "PriorityRequest.junction_id"),
            "requestID": request,
            "requestType": "priorityCancellation" if msg.cancel else "priorityRequest",
            "inBoundLane": inbound,
        }
    }
    if msg.eta_ns:
        package["minute"] = timebase.moy_of(msg.eta_ns)
        package["second"] = timebase.ms_of_minute(msg.eta_ns)
    return {
        "timeStamp": timebase.moy_of(ctx.ref_ns),
        "second": timebase.ms_of_minute(ctx.ref_ns),
        "sequenceNumber": sequence,
        "requests": [package],
        "requestor": requestor,
    }
