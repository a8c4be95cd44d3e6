"""Road-user classes: the standards' vehicle classes and roles <-> the contract's ObjectClass."""

from __future__ import annotations

from typing import Final

from proto import pb

# BasicVehicleClass (shared by J2735 and the CSAE set) is grouped in tens: 10 passenger,
# 20 light truck, 25 truck, 40 motorcycle, 50 transit, 60 emergency, 80 other travellers.
_RANGES: Final = (
    (10, 25, pb.OBJECT_CLASS_CAR),
    (25, 40, pb.OBJECT_CLASS_TRUCK),
    (40, 50, pb.OBJECT_CLASS_MOTORCYCLE),
    (50, 60, pb.OBJECT_CLASS_BUS),
    (60, 70, pb.OBJECT_CLASS_EMERGENCY),
)
_TRAVELLERS: Final = {82: pb.OBJECT_CLASS_PEDESTRIAN, 83: pb.OBJECT_CLASS_PEDESTRIAN,
                      84: pb.OBJECT_CLASS_PEDESTRIAN, 85: pb.OBJECT_CLASS_CYCLIST}  # fmt: skip
#: ObjectClass -> the BasicVehicleClass sent for it (ROBOTAXI goes as "passenger, other").
VEHICLE_CLASS_OF: Final = {
    pb.OBJECT_CLASS_UNKNOWN: 0,
    pb.OBJECT_CLASS_CAR: 10,
    pb.OBJECT_CLASS_ROBOTAXI: 11,
    pb.OBJECT_CLASS_TRUCK: 25,
    pb.OBJECT_CLASS_MOTORCYCLE: 40,
    pb.OBJECT_CLASS_BUS: 50,
    pb.OBJECT_CLASS_EMERGENCY: 60,
    pb.OBJECT_CLASS_PEDESTRIAN: 82,
    pb.OBJECT_CLASS_CYCLIST: 85,
}
#: J2735 BasicVehicleRole -> ObjectClass, for the roles that decide the class.
ROLE_CLASS: Final = {
    "publicTransport": pb.OBJECT_CLASS_BUS,
    "transit": pb.OBJECT_CLASS_BUS,
    "emergency": pb.OBJECT_CLASS_EMERGENCY,
    "police": pb.OBJECT_CLASS_EMERGENCY,
    "fire": pb.OBJECT_CLASS_EMERGENCY,
    "ambulance": pb.OBJECT_CLASS_EMERGENCY,
    "roadRescue": pb.OBJECT_CLASS_EMERGENCY,
    "truck": pb.OBJECT_CLASS_TRUCK,
    "dangerousGoods": pb.OBJECT_CLASS_TRUCK,
    "motorcycle": pb.OBJECT_CLASS_MOTORCYCLE,
    "cyclist": pb.OBJECT_CLASS_CYCLIST,
    "pedestrian": pb.OBJECT_CLASS_PEDESTRIAN,
}
#: ObjectClass -> J2735 BasicVehicleRole sent for it.
ROLE_OF: Final = {
    pb.OBJECT_CLASS_BUS: "publicTransport",
    pb.OBJECT_CLASS_EMERGENCY: "emergency",
    pb.OBJECT_CLASS_TRUCK: "truck",
    pb.OBJECT_CLASS_MOTORCYCLE: "motorcycle",
    pb.OBJECT_CLASS_CYCLIST: "cyclist",
    pb.OBJECT_CLASS_PEDESTRIAN: "pedestrian",
}


def from_vehicle_class(code: int) -> pb.ObjectClass:
    """BasicVehicleClass (0..255) -> ObjectClass (ROBOTAXI is never produced)."""
    for lo, hi, cls in _RANGES:
        if lo <= code < hi:
            return cls
    return _TRAVELLERS.get(code, pb.OBJECT_CLASS_UNKNOWN)


def to_vehicle_class(cls: pb.ObjectClass) -> int:
    """ObjectClass value -> BasicVehicleClass (unknown values -> 0)."""
    return VEHICLE_CLASS_OF.get(cls, 0)
