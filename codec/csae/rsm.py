"""CSAE RSM (RoadsideSafetyMessage: participants an RSU perceives) <-> ``pb.PerceptionFrame``.

One RSM is one frame of one roadside sensor: ``sensor_id`` is the RSM's 8-octet id (ASCII or
hex, see :mod:`codec.ids`), ``capture_ns`` the latest participant ``secMark``. The position
confidence class becomes a diagonal covariance (``cov_ee = cov_nn = r**2``, ``cov_en = 0``);
an RSM carries 1..16 participants.
"""

from __future__ import annotations

import math
from typing import Any, Final

from codec import classes, geo, ids, kinematics, timebase
from codec.errors import CodecError
from codec.message import Context
from proto import pb

#: PositionConfidence -> accuracy radius in metres, finest last.
POS_CONFIDENCE_M: Final = {
    "a500m": 500.0,
    "a200m": 200.0,
    "a100m": 100.0,
    "a50m": 50.0,
    "a20m": 20.0,
    "a10m": 10.0,
    "a5m": 5.0,
    "a2m": 2.0,
    "a1m": 1.0,
    "a50cm": 0.5,
    "a20cm": 0.2,
    "a10cm": 0.1,
    "a5cm": 0.05,
    "a2cm": 0.02,
    "a1cm": 0.01,
}
_PTC_CLASS: Final = {
    "non-motor": pb.OBJECT_CLASS_CYCLIST,
    "pedestrian": pb.OBJECT_CLASS_PEDESTRIAN,
}
_PTC_OF: Final = {pb.OBJECT_CLASS_CYCLIST: "non-motor", pb.OBJECT_CLASS_PEDESTRIAN: "pedestrian"}


def _class_of(p: dict[str, Any]) -> pb.ObjectClass:
    ptc = p["ptcType"]
    if ptc == "motor":
        if "vehicleClass" in p:
            cls = classes.from_vehicle_class(p["vehicleClass"]["classification"])
            if cls != pb.OBJECT_CLASS_UNKNOWN:
                return cls
        return pb.OBJECT_CLASS_CAR
    return _PTC_CLASS.get(ptc, pb.OBJECT_CLASS_UNKNOWN)


def confidence_radius(cov_ee: float, cov_nn: float) -> str:
    """Diagonal covariance (m^2) -> the finest PositionConfidence no better than it ("unavailable" for NaN)."""
    r = math.sqrt(max(cov_ee, cov_nn))
    if math.isnan(r):
        return "unavailable"
    fit = [name for name, m in POS_CONFIDENCE_M.items() if m >= r]
    return fit[-1] if fit else "a500m"


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.PerceptionFrame]:
    """RoadsideSafetyMessage value -> one ``pb.PerceptionFrame``.

    Raises
    ------
    CodecError
        When the reference or a participant position is "unavailable".
    """
    ref_pos = raw["refPos"]
    geo.check_position(ref_pos["lat"], ref_pos["long"], "RoadsideSafetyMessage.refPos")
    ref = (ref_pos["lat"], ref_pos["long"])
    frame = pb.PerceptionFrame(sensor_id=ids.octets_to_text(raw["id"]))
    radii: list[float] = []
    times: list[int] = []
    for i, p in enumerate(raw["participants"]):
        lat, lon = geo.ll_to_e7(p["pos"]["offsetLL"], ref)
        geo.check_position(lat, lon, f"RoadsideSafetyMessage.participants[{i}].pos")
        times.append(timebase.from_moy_ms(None, p["secMark"], ctx.ref_ns))
        frame.local_id.append(p["ptcId"])
        frame.lat_e7.append(lat)
        frame.lon_e7.append(lon)
        frame.speed_002.append(kinematics.speed(p["speed"]))
        frame.heading_00125.append(kinematics.heading(p["heading"]))
        frame.length_cm.append(p["size"]["length"])
        frame.width_cm.append(p["size"]["width"])
        frame.object_class.append(_class_of(p))
        radii.append(POS_CONFIDENCE_M.get(p["posConfidence"]["pos"], math.nan))
    frame.capture_ns = max(times) if times else ctx.ref_ns
    if any(not math.isnan(r) for r in radii):
        frame.cov_ee.extend(r * r for r in radii)
        frame.cov_en.extend(0.0 if not math.isnan(r) else math.nan for r in radii)
        frame.cov_nn.extend(r * r for r in radii)
    return (frame,)


def from_platform(msg: pb.PerceptionFrame, ctx: Context) -> dict[str, Any]:
    """``pb.PerceptionFrame`` -> RoadsideSafetyMessage value (reference position: the first object).

    Raises
    ------
    CodecError
        When the frame has no objects or more than 16, columns differ in length, or the sensor id
        does not fit 8 octets.
    """
    n = len(msg.local_id)
    if not 1 <= n <= 16:
        raise CodecError(
            f"PerceptionFrame.local_id: {n} objects; an RSM carries 1..16", reason="out_of_range", field="local_id"
        )
    for col in ("lat_e7", "lon_e7", "speed_002", "heading_00125", "length_cm", "width_cm", "object_class"):
        if len(getattr(msg, col)) != n:
            raise CodecError(
                f"PerceptionFrame.{col}: {len(getattr(msg, col))} values for {n} objects",
                reason="malformed",
                field=col,
            )
    has_cov = len(msg.cov_ee) == n and len(msg.cov_nn) == n
    ref = (msg.lat_e7[0], msg.lon_e7[0])
    participants = []
    for i in range(n):
        cls = msg.object_class[i]
        p: dict[str, Any] = {
            "ptcType": _PTC_OF.get(cls, "unknown" if cls == pb.OBJECT_CLASS_UNKNOWN else "motor"),
            "ptcId": msg.local_id[i],
            "source": "unknown",
            "secMark": timebase.ms_of_minute(msg.capture_ns),
            "pos": {"offsetLL": geo.e7_to_ll(msg.lat_e7[i], msg.lon_e7[i], ref)},
            "posConfidence": {"pos": confidence_radius(msg.cov_ee[i], msg.cov_nn[i]) if has_cov else "unavailable"},
            "speed": msg.speed_002[i],
            "heading": msg.heading_00125[i],
            "size": {"width": msg.width_cm[i], "length": msg.length_cm[i]},
        }
        if p["ptcType"] == "motor":
            p["vehicleClass"] = {"classification": classes.to_vehicle_class(cls)}
        participants.append(p)
    return {
        "msgCnt": ctx.msg_count,
        "id": ids.text_to_octets(msg.sensor_id, 8, "PerceptionFrame.sensor_id"),
        "refPos": {"lat": ref[0], "long": ref[1]},
        "participants": participants,
    }
