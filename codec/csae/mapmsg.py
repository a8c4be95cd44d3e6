"""CSAE MAP <-> ``pb.MapData`` (one per node).

A CSAE MAP node lists its *incoming* links (upstream node -> node), each with lanes that end
at the node's stop line; a lane's ``connectsTo`` names the lane it feeds on the link from the
node to a remote node, and the signal phase that controls it. Lane ids are
``"{upstream}:{node}:{laneID}"`` (:mod:`codec.ids`), so a connection's ``to_lane`` is
``"{node}:{remote}:{lane}"``; outgoing lanes are described by the remote node's own MAP and are
not in this message. Point offsets are taken relative to the node's reference position; a
lane without points uses its link's; a link without lanes becomes one lane numbered 0.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final

from codec import geo, ids, lanes, timebase
from codec.errors import CodecError
from codec.message import Context
from proto import pb

MAX_POINTS: Final = 31


def _max_speed(limits: list[dict[str, Any]] | None) -> int:
    for lim in limits or ():
        if lim["type"] == "vehicleMaxSpeed":
            return int(lim["speed"])
    return 0


def _polyline(points: list[dict[str, Any]], ref: tuple[int, int]) -> tuple[list[int], list[int]]:
    ll = [geo.ll_to_e7(p["posOffset"]["offsetLL"], ref) for p in points]
    return [p[0] for p in ll], [p[1] for p in ll]


def _node(node: dict[str, Any], revision: int) -> pb.MapData:
    junction = ids.junction_id(node["id"])
    ref = (node["refPos"]["lat"], node["refPos"]["long"])
    geo.check_position(*ref, f"MapData.nodes[{junction}].refPos")
    out = pb.MapData(junction_id=junction, ref_lat_e7=ref[0], ref_lon_e7=ref[1], revision=revision)
    for link in node.get("inLinks", ()):
        up = ids.junction_id(link["upstreamNodeId"])
        link_lanes = link.get("lanes") or [
            {"laneID": 0, "connectsTo": [dict(m, connectingLane={"lane": 0}) for m in link.get("movements", ())]}
        ]
        for lane in link_lanes:
            lane_id = f"{up}:{junction}:{lane['laneID']}"
            lat, lon = _polyline(lane.get("points") or link.get("points") or [], ref)
            lane_type = lane.get("laneAttributes", {}).get("laneType")
            out.lanes.add(
                lane_id=lane_id,
                lat_e7=lat,
                lon_e7=lon,
                width_cm=lane.get("laneWidth", link["linkWidth"] // len(link_lanes)),
                ingress=True,
                allowed_classes=lanes.allowed_of(lane_type),
                speed_limit_002=_max_speed(lane.get("speedLimits")) or _max_speed(link.get("speedLimits")),
            )
            for c in lane.get("connectsTo", ()):
                cl = c.get("connectingLane", {"lane": 0})
                out.connections.add(
                    from_lane=lane_id,
                    to_lane=f"{junction}:{ids.junction_id(c['remoteIntersection'])}:{cl['lane']}",
                    group_id=c.get("phaseId", 0),
                    maneuver=lanes.maneuver_of(cl.get("maneuver")),
                )
    return out


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.MapData, ...]:
    """MapData value -> one ``pb.MapData`` per node (``revision`` = ``msgCnt``).

    Raises
    ------
    CodecError
        When a node's reference position is "unavailable".
    """
    return tuple(_node(n, raw["msgCnt"]) for n in raw["nodes"])


class _LaneNames:
    """Lane ids -> (node reference, lane number); non-standard ids get synthetic upstream nodes.

    An id that is not ``"{a}:{b}:{n}"`` (say a SUMO lane ``"e12_1"``) is grouped by its edge
    (``"e12"``), the edge becoming a link from a synthetic node numbered 65535, 65534, ... in
    the junction's region, and its lane index + 1 the lane number.
    """

    def __init__(self, junction: str) -> None:
        self.junction = junction
        self.region = ids.node_ref(junction, "MapData.junction_id").get("region")
        self.synthetic: dict[str, str] = {}

    def _edge_node(self, edge: str) -> str:
        if edge not in self.synthetic:
            n = 65535 - len(self.synthetic)
            self.synthetic[edge] = f"{self.region}-{n}" if self.region is not None else str(n)
        return self.synthetic[edge]

    def split(self, lane_id: str, incoming: bool) -> tuple[str, int]:
        """(the other node's junction id, lane number) of a lane into (``incoming``) or out of the junction."""
        parts = lane_id.split(":")
        if len(parts) == 3 and parts[2].isdigit():
            return (parts[0] if incoming else parts[1]), ids.small_int(parts[2], 255, f"MapLane {lane_id!r}")
        edge, _, idx = lane_id.rpartition("_")
        if edge and idx.isdigit():
            return self._edge_node(edge), min(int(idx) + 1, 255)
        return self._edge_node(lane_id), 1


def _points(lane: pb.MapLane, ref: tuple[int, int]) -> list[dict[str, Any]]:
    n = len(lane.lat_e7)
    if n != len(lane.lon_e7):
        raise CodecError(
            f"MapLane {lane.lane_id!r}: {n} latitudes, {len(lane.lon_e7)} longitudes",
            reason="malformed",
            field="lat_e7",
        )
    keep = range(n) if n <= MAX_POINTS else [round(i * (n - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)]
    return [{"posOffset": {"offsetLL": geo.e7_to_ll(lane.lat_e7[i], lane.lon_e7[i], ref)}} for i in keep]


def _lane(
    lane: pb.MapLane, number: int, conns: list[tuple[dict[str, Any], str]], ref: tuple[int, int]
) -> dict[str, Any]:
    """One Lane value; ``conns`` are its Connection values with their manoeuvre letters."""
    out: dict[str, Any] = {"laneID": number, "laneWidth": lane.width_cm}
    if lane.allowed_classes != lanes.VEHICLES:
        out["laneAttributes"] = {"laneType": lanes.lane_type_of(lane.allowed_classes)}
    codes = "".join(code for _, code in conns)
    if codes:
        out["maneuvers"] = lanes.maneuver_bits(codes)
    if conns:
        out["connectsTo"] = [c for c, _ in conns]
    if lane.speed_limit_002:
        out["speedLimits"] = [{"type": "vehicleMaxSpeed", "speed": lane.speed_limit_002}]
    if len(lane.lat_e7) >= 2:
        out["points"] = _points(lane, ref)
    return out


def from_platform(msg: pb.MapData, ctx: Context) -> dict[str, Any]:
    """``pb.MapData`` -> MapData value with one node whose incoming links hold the ingress lanes.

    Ingress lanes are grouped into links by their upstream node (from the lane id, see
    :class:`_LaneNames`); egress lanes belong to the remote nodes' MAPs and are only referenced
    by connections. A lane longer than 31 points is thinned to 31 (ends kept).

    Raises
    ------
    CodecError
        When the junction id is not a node reference, a lane number exceeds 255, or a value is
        out of its range.
    """
    names = _LaneNames(msg.junction_id)
    ref = (msg.ref_lat_e7, msg.ref_lon_e7)
    conns: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    for c in msg.connections:
        remote, lane_no = names.split(c.to_lane, incoming=False)
        conn: dict[str, Any] = {
            "remoteIntersection": ids.node_ref(remote, f"MapConnection.to_lane {c.to_lane!r}"),
            "connectingLane": {"lane": lane_no},
            "phaseId": c.group_id,
        }
        if c.maneuver:
            conn["connectingLane"]["maneuver"] = lanes.maneuver_bits(c.maneuver)
        conns[c.from_lane].append((conn, c.maneuver))
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    widths: dict[str, int] = defaultdict(int)
    for lane in msg.lanes:
        if not lane.ingress:
            continue
        up, number = names.split(lane.lane_id, incoming=True)
        links[up].append(_lane(lane, number, conns.get(lane.lane_id, []), ref))
        widths[up] += lane.width_cm
    in_links = []
    for up, link_lanes in links.items():
        movements = {
            (ids.junction_id(c["remoteIntersection"]), c["phaseId"]): c["remoteIntersection"]
            for ln in link_lanes
            for c in ln.get("connectsTo", ())
        }
        link: dict[str, Any] = {
            "upstreamNodeId": ids.node_ref(up, f"upstream node of link {up!r}"),
            "linkWidth": min(widths[up], 32767),
            "lanes": link_lanes,
        }
        if movements:
            link["movements"] = [{"remoteIntersection": r, "phaseId": k[1]} for k, r in movements.items()]
        in_links.append(link)
    node: dict[str, Any] = {
        "id": ids.node_ref(msg.junction_id, "MapData.junction_id"),
        "refPos": {"lat": ref[0], "long": ref[1]},
    }
    if in_links:
        node["inLinks"] = in_links
    return {"msgCnt": msg.revision % 128, "timeStamp": timebase.moy_of(ctx.ref_ns), "nodes": [node]}
