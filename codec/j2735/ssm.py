"""J2735 SSM (SignalStatusMessage) <-> ``pb.Advisory`` carrying a ``PriorityResponse``.

The response's ``request_id`` must be the :class:`~codec.j2735.priority.RequestKey` the SRM
decoded to: the SSM echoes the requester, request id, sequence number and inbound access point
from it. Status: requested/granted/rejected/unknown map both ways (processing and
watch-other-traffic read as requested; max-presence and reservice-locked as rejected);
cancelled and completed requests have no SSM status and are not sent. The action and amount of
the response stay inside the platform.
"""

from __future__ import annotations

from typing import Any, Final

from codec import ids, timebase
from codec.errors import CodecError
from codec.j2735 import priority
from codec.message import Context
from proto import pb

STATUS: Final = {
    "unknown": pb.PRIORITY_STATUS_UNKNOWN,
    "requested": pb.PRIORITY_STATUS_REQUESTED,
    "processing": pb.PRIORITY_STATUS_REQUESTED,
    "watchOtherTraffic": pb.PRIORITY_STATUS_REQUESTED,
    "granted": pb.PRIORITY_STATUS_GRANTED,
    "rejected": pb.PRIORITY_STATUS_REJECTED,
    "maxPresence": pb.PRIORITY_STATUS_REJECTED,
    "reserviceLocked": pb.PRIORITY_STATUS_REJECTED,
}
STATUS_OF: Final = {
    pb.PRIORITY_STATUS_UNKNOWN: "unknown",
    pb.PRIORITY_STATUS_REQUESTED: "requested",
    pb.PRIORITY_STATUS_GRANTED: "granted",
    pb.PRIORITY_STATUS_REJECTED: "rejected",
}


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.Advisory, ...]:
    """SignalStatusMessage value -> one ``pb.Advisory`` (priority) per SignalStatusPackage."""
    t0 = timebase.from_moy_ms(raw.get("timeStamp"), raw["second"], ctx.ref_ns)
    out = []
    for status in raw["status"]:
        junction = ids.junction_id(status["id"])
        for package in status["sigStatus"]:
            requester = package.get("requester", {})
            vehicle = priority.vehicle_of(requester["id"]) if "id" in requester else ""
            key = priority.RequestKey(
                vehicle, junction, requester.get("request", 0), requester.get("sequenceNumber", 0), package["inboundOn"]
            )
            out.append(
                pb.Advisory(
                    advisory_id=f"ssm:{key}",
                    vehicle_id=vehicle,
                    issued_ns=t0,
                    priority=pb.PriorityResponse(
                        request_id=str(key), junction_id=junction, status=STATUS[package["status"]]
                    ),
                )
            )
    return tuple(out)


def from_platform(msg: pb.Advisory, ctx: Context) -> dict[str, Any]:
    """``pb.Advisory`` with ``priority`` -> SignalStatusMessage value (one status, one package).

    Raises
    ------
    CodecError
        ``wrong_type`` when the advisory is not a priority response; ``out_of_range`` when its
        request id is not a request key or its status has no SSM counterpart.
    """
    if msg.WhichOneof("kind") != "priority":
        raise CodecError(
            "Advisory.kind: an SSM answers a priority request; set Advisory.priority", reason="wrong_type", field="kind"
        )
    resp = msg.priority
    key = priority.RequestKey.parse(resp.request_id, "PriorityResponse.request_id")
    status = STATUS_OF.get(resp.status)
    if status is None:
        raise CodecError(
            f"PriorityResponse.status: {pb.PriorityStatus.Name(resp.status)} has no SSM status; "
            "drop the request from the SSM instead",
            reason="out_of_range",
            field="status",
        )
    package: dict[str, Any] = {"inboundOn": key.inbound, "status": status}
    if key.vehicle:  # an anonymous request is answered without a requester
        package["requester"] = {
            "id": priority.vehicle_id(key.vehicle, "PriorityResponse.request_id"),
            "request": key.request,
            "sequenceNumber": key.sequence,
            "typeData": {"role": "publicTransport"},
        }
    return {
        "timeStamp": timebase.moy_of(msg.issued_ns),
        "second": timebase.ms_of_minute(msg.issued_ns),
        "sequenceNumber": ctx.msg_count,
        "status": [
            {
                "sequenceNumber": ctx.msg_count,
                "id": ids.node_ref(resp.junction_id or key.junction, "PriorityResponse.junction_id"),
                "sigStatus": [package],
            }
        ],
    }
