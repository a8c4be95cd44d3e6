"""J2735 MAP <-> ``pb.MapData`` (one per IntersectionGeometry).

Lane ids are ``"{junction}:{laneID}"``; a connection's ``to_lane`` is ``"{remote or same
junction}:{lane}"``. Node lists are centimetre offsets, each from the previous node (the first
from the reference point); J2735 lists an ingress lane from its stop line outwards, so its
polyline is reversed into the driving direction. A lane's width is the intersection's
``laneWidth`` plus its first node's ``dWidth``; its speed limit the first node's
``speedLimits`` attribute, else the intersection's. A computed lane is its reference lane
shifted by the x/y offsets (rotation and scale are not applied).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final

from codec import bits, geo, ids, lanes, timebase
from codec.errors import CodecError
from codec.message import Context
from proto import pb

MAX_NODES: Final = 63


def _max_speed(limits: list[dict[str, Any]] | None) -> int | None:
    for lim in limits or ():
        if lim["type"] == "vehicleMaxSpeed":
            return int(lim["speed"])
    return None


def _lane_limit(nodes: list[dict[str, Any]]) -> int | None:
    for kind, value in nodes[0].get("attributes", {}).get("data", ()) if nodes else ():
        if kind == "speedLimits":
            return _max_speed(value)
    return None


def _polylines(geom: dict[str, Any], ref: tuple[int, int]) -> dict[int, tuple[list[int], list[int]]]:
    """laneID -> polyline in node order (stop line first for ingress lanes)."""
    out: dict[int, tuple[list[int], list[int]]] = {}
    computed = []
    for lane in geom["laneSet"]:
        kind, value = lane["nodeList"]
        if kind == "nodes":
            out[lane["laneID"]] = geo.polyline_from_offsets([n["delta"] for n in value], ref)
        else:
            computed.append((lane["laneID"], value))
    for lane_id, c in computed:
        base = out.get(c["referenceLaneId"])
        if base is None:
            raise CodecError(
                f"GenericLane {lane_id}.nodeList.computed.referenceLaneId: lane {c['referenceLaneId']} "
                "is not a lane with nodes in this intersection",
                reason="out_of_range",
                field="referenceLaneId",
            )
        dx, dy = c["offsetXaxis"][1], c["offsetYaxis"][1]
        shifted = [geo.e7_to_cm(la, lo, ref) for la, lo in zip(*base, strict=True)]
        pts = [geo.cm_to_e7(x + dx, y + dy, ref) for x, y in shifted]
        out[lane_id] = ([p[0] for p in pts], [p[1] for p in pts])
    return out


def _intersection(geom: dict[str, Any]) -> pb.MapData:
    junction = ids.junction_id(geom["id"])
    ref = (geom["refPoint"]["lat"], geom["refPoint"]["long"])
    geo.check_position(*ref, f"IntersectionGeometry[{junction}].refPoint")
    width0 = geom.get("laneWidth", 0)
    limit0 = _max_speed(geom.get("speedLimits")) or 0
    out = pb.MapData(junction_id=junction, ref_lat_e7=ref[0], ref_lon_e7=ref[1], revision=geom["revision"])
    polylines = _polylines(geom, ref)
    for lane in geom["laneSet"]:
        attrs = lane["laneAttributes"]
        ingress = bits.is_set(attrs["directionalUse"], 0)
        lat, lon = polylines[lane["laneID"]]
        if ingress:
            lat, lon = lat[::-1], lon[::-1]
        kind, value = lane["nodeList"]
        nodes = value if kind == "nodes" else []
        first = nodes[0].get("attributes", {}) if nodes else {}
        limit = _lane_limit(nodes)
        lane_id = f"{junction}:{lane['laneID']}"
        out.lanes.add(
            lane_id=lane_id,
            lat_e7=lat,
            lon_e7=lon,
            width_cm=max(0, width0 + first.get("dWidth", 0)),
            ingress=ingress,
            allowed_classes=lanes.allowed_of(attrs["laneType"]),
            speed_limit_002=limit0 if limit is None else limit,
        )
        for c in lane.get("connectsTo", ()):
            remote = ids.junction_id(c["remoteIntersection"]) if "remoteIntersection" in c else junction
            out.connections.add(
                from_lane=lane_id,
                to_lane=f"{remote}:{c['connectingLane']['lane']}",
                group_id=c.get("signalGroup", 0),
                maneuver=lanes.maneuver_of(c["connectingLane"].get("maneuver")),
            )
    return out


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.MapData, ...]:
    """MapData value -> one ``pb.MapData`` per IntersectionGeometry (road segments are not read).

    Raises
    ------
    CodecError
        When a reference point is "unavailable" or a computed lane has no reference lane.
    """
    return tuple(_intersection(g) for g in raw.get("intersections", ()))


def _numbers(msg: pb.MapData) -> dict[str, int]:
    """Lane id -> laneID: ``"{junction}:{n}"`` keeps ``n``, other ids get free numbers from 1."""
    out: dict[str, int] = {}
    for lane in msg.lanes:
        head, _, n = lane.lane_id.rpartition(":")
        if head == msg.junction_id and n.isdigit() and int(n) <= 255:
            out[lane.lane_id] = int(n)
    free = (i for i in range(1, 256) if i not in set(out.values()))
    for lane in msg.lanes:
        if lane.lane_id not in out:
            out[lane.lane_id] = next(free, 0)
    return out


def _connection(c: pb.MapConnection, junction: str, numbers: dict[str, int]) -> dict[str, Any]:
    if c.to_lane in numbers:
        remote, lane_no = junction, numbers[c.to_lane]
    else:
        remote, _, n = c.to_lane.rpartition(":")
        lane_no = ids.small_int(n, 255, f"MapConnection.to_lane {c.to_lane!r}")
    out: dict[str, Any] = {"connectingLane": {"lane": lane_no}}
    if c.maneuver:
        out["connectingLane"]["maneuver"] = lanes.maneuver_bits(c.maneuver)
    if remote != junction:
        out["remoteIntersection"] = ids.node_ref(remote, f"MapConnection.to_lane {c.to_lane!r}")
    if c.group_id:
        out["signalGroup"] = c.group_id
    return out


def _nodes(lane: pb.MapLane, ref: tuple[int, int]) -> list[dict[str, Any]]:
    lat, lon = list(lane.lat_e7), list(lane.lon_e7)
    if len(lat) != len(lon) or len(lat) < 2:
        raise CodecError(
            f"MapLane {lane.lane_id!r}: a J2735 lane needs 2..63 points with as many latitudes as longitudes",
            reason="out_of_range",
            field="lat_e7",
        )
    if lane.ingress:
        lat, lon = lat[::-1], lon[::-1]
    if len(lat) > MAX_NODES:
        keep = [round(i * (len(lat) - 1) / (MAX_NODES - 1)) for i in range(MAX_NODES)]
        lat, lon = [lat[i] for i in keep], [lon[i] for i in keep]
    return [{"delta": d} for d in geo.polyline_offsets(lat, lon, ref)]


def from_platform(msg: pb.MapData, ctx: Context) -> dict[str, Any]:
    """``pb.MapData`` -> MapData value with one IntersectionGeometry.

    The most common lane width and speed limit are the intersection's; others go on a lane's
    first node (``dWidth``, ``speedLimits``). Lanes of more than 63 points are thinned.

    Raises
    ------
    CodecError
        When the junction id is not a node reference, a lane has fewer than 2 points, a
        connection's lane is unknown, or a value is out of its range.
    """
    if not msg.lanes:
        raise CodecError("MapData.lanes: a J2735 intersection needs 1..255 lanes", reason="out_of_range", field="lanes")
    ref = (msg.ref_lat_e7, msg.ref_lon_e7)
    numbers = _numbers(msg)
    width0 = Counter(lane.width_cm for lane in msg.lanes).most_common(1)[0][0]
    limit0 = Counter(lane.speed_limit_002 for lane in msg.lanes).most_common(1)[0][0]
    lane_set = []
    for lane in msg.lanes:
        conns = [_connection(c, msg.junction_id, numbers) for c in msg.connections if c.from_lane == lane.lane_id]
        nodes = _nodes(lane, ref)
        attrs: dict[str, Any] = {}
        if lane.width_cm != width0:
            attrs["dWidth"] = lane.width_cm - width0
        if lane.speed_limit_002 != limit0:
            attrs["data"] = [("speedLimits", [{"type": "vehicleMaxSpeed", "speed": lane.speed_limit_002}])]
        if attrs:
            nodes[0]["attributes"] = attrs
        generic: dict[str, Any] = {
            "laneID": numbers[lane.lane_id],
            "laneAttributes": {
                "directionalUse": bits.make(2, [0] if lane.ingress else [1]),
                "sharedWith": bits.make(10, []),
                "laneType": lanes.lane_type_of(lane.allowed_classes),
            },
            "nodeList": ("nodes", nodes),
        }
        codes = "".join(c.maneuver for c in msg.connections if c.from_lane == lane.lane_id)
        if codes:
            generic["maneuvers"] = lanes.maneuver_bits(codes)
        if conns:
            generic["connectsTo"] = conns
        lane_set.append(generic)
    geom: dict[str, Any] = {
        "id": ids.node_ref(msg.junction_id, "MapData.junction_id"),
        "revision": msg.revision % 128,
        "refPoint": {"lat": ref[0], "long": ref[1]},
        "laneWidth": width0,
        "laneSet": lane_set,
    }
    if limit0:
        geom["speedLimits"] = [{"type": "vehicleMaxSpeed", "speed": limit0}]
    return {
        "timeStamp": timebase.moy_of(ctx.ref_ns),
        "msgIssueRevision": msg.revision % 128,
        "layerType": "intersectionData",
        "intersections": [geom],
    }
