"""J2735 BSM (BasicSafetyMessage) <-> ``pb.Bsm``.

Core data carries id (hex), secMark, position, speed, heading, acceleration and size. The
class comes from part II ``SupplementalVehicleExtensions.classDetails``: its role when that
decides (public transport -> bus, emergency roles -> emergency, ...), else its ``keyType``
(BasicVehicleClass), else unknown. Bus line, schedule deviation and next stop are not in a BSM.
"""

from __future__ import annotations

from typing import Any

from codec import bits, classes, ids, kinematics, timebase
from codec.message import Context
from proto import pb

SAFETY_EXT = 0
SUPPLEMENTAL_EXT = 2
#: part II id -> type name of its value (the others are kept as bytes).
PART_II_TYPES = {SAFETY_EXT: "VehicleSafetyExtensions", SUPPLEMENTAL_EXT: "SupplementalVehicleExtensions"}


def _class(raw: dict[str, Any]) -> pb.ObjectClass:
    for part in raw.get("partII", ()):
        value = part["partII-Value"]
        if part["partII-Id"] != SUPPLEMENTAL_EXT or not isinstance(value, dict):
            continue
        details = value.get("classDetails", {})
        if details.get("role") in classes.ROLE_CLASS:
            return classes.ROLE_CLASS[details["role"]]
        code = details.get("keyType", value.get("classification"))
        if code is not None:
            return classes.from_vehicle_class(code)
    return pb.OBJECT_CLASS_UNKNOWN


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.Bsm]:
    """BasicSafetyMessage value (part II decoded) -> one ``pb.Bsm``.

    Raises
    ------
    CodecError
        When the position is "unavailable".
    """
    core = raw["coreData"]
    return (
        kinematics.bsm(
            vehicle=core["id"],
            sec_mark=core["secMark"],
            lat=core["lat"],
            lon=core["long"],
            motion=(core["speed"], core["heading"], core["accelSet"]["long"]),
            size=core["size"],
            cls=_class(raw),
            ref_ns=ctx.ref_ns,
            field="BasicSafetyMessage.coreData",
        ),
    )


def from_platform(msg: pb.Bsm, ctx: Context) -> dict[str, Any]:
    """``pb.Bsm`` -> BasicSafetyMessage value; the class goes in part II when known.

    Raises
    ------
    CodecError
        When the vehicle id is neither 8 hex digits nor up to 4 ASCII characters.
    """
    unavailable = "unavailable"
    out: dict[str, Any] = {
        "coreData": {
            "msgCnt": ctx.msg_count,
            "id": ids.text_to_octets(msg.vehicle_id, 4, "Bsm.vehicle_id"),
            "secMark": timebase.ms_of_minute(msg.measured_ns),
            "lat": msg.lat_e7,
            "long": msg.lon_e7,
            "elev": -4096,
            "accuracy": {"semiMajor": 255, "semiMinor": 255, "orientation": 65535},
            "transmission": unavailable,
            "speed": msg.speed_002,
            "heading": msg.heading_00125,
            "angle": 127,
            "accelSet": {
                "long": msg.accel_001,
                "lat": kinematics.ACCEL_UNAVAILABLE,
                "vert": kinematics.VERT_ACCEL_UNAVAILABLE,
                "yaw": 0,
            },
            "brakes": {
                "wheelBrakes": bits.make(5, [0]),
                "traction": unavailable,
                "abs": unavailable,
                "scs": unavailable,
                "brakeBoost": unavailable,
                "auxBrakes": unavailable,
            },
            "size": {"width": msg.width_cm, "length": msg.length_cm},
        }
    }
    if msg.object_class != pb.OBJECT_CLASS_UNKNOWN:
        details: dict[str, Any] = {"keyType": classes.to_vehicle_class(msg.object_class)}
        if msg.object_class in classes.ROLE_OF:
            details["role"] = classes.ROLE_OF[msg.object_class]
        out["partII"] = [{"partII-Id": SUPPLEMENTAL_EXT, "partII-Value": {"classDetails": details}}]
    return out
