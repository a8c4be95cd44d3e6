"""Road-user classes as a bitmask over :class:`proto` ObjectClass values, and SUMO's vClasses.

A lane's ``allow`` is a ``uint16`` bitmask with bit ``1 << cls`` set when class ``cls`` may use it.
The numbering is the wire contract's ObjectClass (1 car, 2 bus, 3 truck, 4 robotaxi,
5 pedestrian, 6 cyclist, 7 motorcycle, 8 emergency).
"""

from __future__ import annotations

from typing import Final

UNKNOWN: Final = 0
CAR: Final = 1
BUS: Final = 2
TRUCK: Final = 3
ROBOTAXI: Final = 4
PEDESTRIAN: Final = 5
CYCLIST: Final = 6
MOTORCYCLE: Final = 7
EMERGENCY: Final = 8

NAMES: Final[dict[int, str]] = {
    UNKNOWN: "unknown",
    CAR: "car",
    BUS: "bus",
    TRUCK: "truck",
    ROBOTAXI: "robotaxi",
    PEDESTRIAN: "pedestrian",
    CYCLIST: "cyclist",
    MOTORCYCLE: "motorcycle",
    EMERGENCY: "emergency",
}


def bit(cls: int) -> int:
    """The allow-mask bit of one class."""
    return 1 << cls


ALL: Final = sum(bit(c) for c in NAMES if c != UNKNOWN) | bit(UNKNOWN)
VEHICLES: Final = ALL & ~bit(PEDESTRIAN)
MOTOR_VEHICLES: Final = bit(CAR) | bit(BUS) | bit(TRUCK) | bit(ROBOTAXI) | bit(MOTORCYCLE) | bit(EMERGENCY)
BUS_LANE: Final = bit(BUS) | bit(EMERGENCY)

#: SUMO vClass -> our class bits. Classes SUMO has and we do not model map to the nearest one.
SUMO_VCLASS: Final[dict[str, int]] = {
    "passenger": bit(CAR) | bit(ROBOTAXI),
    "private": bit(CAR),
    "taxi": bit(ROBOTAXI),
    "bus": bit(BUS),
    "coach": bit(BUS),
    "trolleybus": bit(BUS),
    "truck": bit(TRUCK),
    "trailer": bit(TRUCK),
    "delivery": bit(TRUCK),
    "motorcycle": bit(MOTORCYCLE),
    "moped": bit(MOTORCYCLE),
    "bicycle": bit(CYCLIST),
    "scooter": bit(CYCLIST),
    "pedestrian": bit(PEDESTRIAN),
    "emergency": bit(EMERGENCY),
    "authority": bit(EMERGENCY),
    "army": bit(EMERGENCY),
    "vip": bit(CAR),
    "evehicle": bit(CAR),
    "custom1": 0,
    "custom2": 0,
    "hov": bit(CAR) | bit(ROBOTAXI),
    "tram": 0,
    "rail_urban": 0,
    "rail": 0,
    "rail_electric": 0,
    "rail_fast": 0,
    "ship": 0,
    "container": bit(TRUCK),
    "cable_car": 0,
    "subway": 0,
    "aircraft": 0,
    "wheelchair": bit(PEDESTRIAN),
    "drone": 0,
    "ignoring": 0,
    "all": ALL,
}


def from_sumo(allow: str | None, disallow: str | None) -> int:
    """Allow mask from SUMO ``allow``/``disallow`` attributes (space separated vClasses).

    Neither given: everything allowed. Unknown vClass names are ignored.
    """
    if allow is not None and allow.strip():
        mask = 0
        for name in allow.split():
            mask |= SUMO_VCLASS.get(name, 0)
        # "unknown" objects may use whatever cars may use
        if mask & bit(CAR):
            mask |= bit(UNKNOWN)
        return mask
    mask = ALL
    if disallow:
        for name in disallow.split():
            mask &= ~SUMO_VCLASS.get(name, 0)
    return mask
