"""CSAE BSM (BasicSafetyMessage) <-> ``pb.Bsm``.

Kept: id (hex), secMark (resolved to ns), position, speed, heading, longitudinal acceleration,
size and vehicle class. The contract's bus line, schedule deviation and next stop have no
place in a CSAE BSM and are not sent.
"""

from __future__ import annotations

from typing import Any

from codec import classes, ids, kinematics, timebase
from codec.message import Context
from proto import pb


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.Bsm]:
    """BasicSafetyMessage value -> one ``pb.Bsm``.

    Raises
    ------
    CodecError
        When the position is "unavailable".
    """
    pos = raw["pos"]
    return (
        kinematics.bsm(
            vehicle=raw["id"],
            sec_mark=raw["secMark"],
            lat=pos["lat"],
            lon=pos["long"],
            motion=(raw["speed"], raw["heading"], raw["accelSet"]["long"]),
            size=raw["size"],
            cls=classes.from_vehicle_class(raw["vehicleClass"]["classification"]),
            ref_ns=ctx.ref_ns,
            field="BasicSafetyMessage.pos",
        ),
    )


def from_platform(msg: pb.Bsm, ctx: Context) -> dict[str, Any]:
    """``pb.Bsm`` -> BasicSafetyMessage value (motion confidences and brakes "not sent").

    Raises
    ------
    CodecError
        When the vehicle id is neither 16 hex digits nor up to 8 ASCII characters.
    """
    return {
        "msgCnt": ctx.msg_count,
        "id": ids.text_to_octets(msg.vehicle_id, 8, "Bsm.vehicle_id"),
        "secMark": timebase.ms_of_minute(msg.measured_ns),
        "pos": {"lat": msg.lat_e7, "long": msg.lon_e7},
        "transmission": "unavailable",
        "speed": msg.speed_002,
        "heading": msg.heading_00125,
        "accelSet": {
            "long": msg.accel_001,
            "lat": kinematics.ACCEL_UNAVAILABLE,
            "vert": kinematics.VERT_ACCEL_UNAVAILABLE,
            "yaw": 0,
        },
        "brakes": {},
        "size": {"width": msg.width_cm, "length": msg.length_cm},
        "vehicleClass": {"classification": classes.to_vehicle_class(msg.object_class)},
    }
