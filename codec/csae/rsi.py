"""CSAE RSI (RoadSideInformation: events near an RSU) <-> ``pb.RoadsideInfo``.

Each road traffic event (RTE) becomes one ``pb.Event`` and, when it has a radius, one
``pb.HazardWarning`` with the same ``event_id`` = ``"{rsu}:rte{rteId}:type{eventType}"``; the
standard's event type code (GB/T 29100) is kept in that id because the contract's
``EventKind`` has no agreed code table (``kind`` stays unspecified). Priority (one octet) is
read as severity, the event radius is in 0.1 m, start/end times are minutes of the year.
Traffic signs (RTS) and reference paths/links stay in the raw message only.
"""

from __future__ import annotations

import re
from typing import Any, Final

from codec import geo, ids, timebase
from codec.errors import CodecError
from codec.message import Context
from proto import pb

_EVENT_ID: Final = re.compile(r":rte(\d+):type(\d+)$")


def _text(desc: tuple[str, Any] | None) -> str:
    if desc is None:
        return ""
    kind, value = desc
    return value if kind == "textString" else bytes(value).decode("gb2312", errors="replace")


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.RoadsideInfo]:
    """RoadSideInformation value -> one ``pb.RoadsideInfo`` (``timestamp_ns`` from ``moy``, else the reference).

    Raises
    ------
    CodecError
        When the reference position is "unavailable".
    """
    rsu = ids.octets_to_text(raw["id"])
    ref_pos = raw["refPos"]
    geo.check_position(ref_pos["lat"], ref_pos["long"], "RoadSideInformation.refPos")
    ref = (ref_pos["lat"], ref_pos["long"])
    info = pb.RoadsideInfo(rsu_id=rsu, timestamp_ns=timebase.from_moy_ms(raw.get("moy"), None, ctx.ref_ns))
    for rte in raw.get("rtes", ()):
        event_id = f"{rsu}:rte{rte['rteId']}:type{rte['eventType']}"
        lat, lon = geo.ll_to_e7(rte["eventPos"]["offsetLL"], ref) if "eventPos" in rte else ref
        times = rte.get("timeDetails", {})
        text = _text(rte.get("description"))
        info.events.add(
            event_id=event_id,
            severity=min(rte["priority"][0], 5) if "priority" in rte else 0,
            start_ns=timebase.minute_start_ns(times["startTime"], ctx.ref_ns) if "startTime" in times else 0,
            end_ns=timebase.minute_start_ns(times["endTime"], ctx.ref_ns) if "endTime" in times else 0,
            lat_e7=lat,
            lon_e7=lon,
            description=text,
        )
        if "eventRadius" in rte:
            info.hazards.add(event_id=event_id, lat_e7=lat, lon_e7=lon, radius_m=rte["eventRadius"] / 10.0, text=text)
    return (info,)


def _description(text: str) -> tuple[str, Any]:
    if text.isascii():
        return "textString", text
    try:
        return "textGB2312", text.encode("gb2312")
    except UnicodeEncodeError:
        raise CodecError(
            f"Event.description: {text!r} has characters outside ASCII and GB2312",
            reason="out_of_range",
            field="description",
        ) from None


def _rte(index: int, event: pb.Event | None, hazard: pb.HazardWarning | None, ref: tuple[int, int]) -> dict[str, Any]:
    any_ = event if event is not None else hazard
    assert any_ is not None
    m = _EVENT_ID.search(any_.event_id)
    rte: dict[str, Any] = {
        "rteId": int(m.group(1)) if m else index,
        "eventType": int(m.group(2)) if m else 0,
        "eventSource": "unknown",
        "eventPos": {"offsetLL": geo.e7_to_ll(any_.lat_e7, any_.lon_e7, ref)},
    }
    if hazard is not None:
        rte["eventRadius"] = max(0, min(65535, round(hazard.radius_m * 10)))
    text = (event.description if event is not None else "") or (hazard.text if hazard is not None else "")
    if text:
        rte["description"] = _description(text)
    if event is not None:
        times = {}
        if event.start_ns:
            times["startTime"] = timebase.moy_of(event.start_ns)
        if event.end_ns:
            times["endTime"] = timebase.moy_of(event.end_ns)
        if times:
            rte["timeDetails"] = times
        if event.severity:
            rte["priority"] = bytes([min(event.severity, 255)])
    return rte


def from_platform(msg: pb.RoadsideInfo, ctx: Context) -> dict[str, Any]:
    """``pb.RoadsideInfo`` -> RoadSideInformation value; events and hazards with one id merge into one RTE.

    The reference position is the first event's (0, 0 when there is none); an id of the form
    made by :func:`to_platform` gives back its rteId and event type, other ids are numbered in
    order with event type 0.

    Raises
    ------
    CodecError
        When the RSU id does not fit 8 octets, a text is not ASCII or GB2312, or there are more
        than 8 events.
    """
    merged: dict[str, list[Any]] = {}
    for e in msg.events:
        merged.setdefault(e.event_id, [None, None])[0] = e
    for h in msg.hazards:
        merged.setdefault(h.event_id, [None, None])[1] = h
    first = next(iter(merged.values()), None)
    src = None if first is None else (first[0] if first[0] is not None else first[1])
    ref = (src.lat_e7, src.lon_e7) if src is not None else (0, 0)
    out: dict[str, Any] = {
        "msgCnt": ctx.msg_count,
        "moy": timebase.moy_of(msg.timestamp_ns),
        "id": ids.text_to_octets(msg.rsu_id, 8, "RoadsideInfo.rsu_id"),
        "refPos": {"lat": ref[0], "long": ref[1]},
    }
    if merged:
        out["rtes"] = [_rte(i, e, h, ref) for i, (e, h) in enumerate(merged.values())]
    return out
