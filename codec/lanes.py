"""Lane attributes shared by the MAP adapters: allowed road users and manoeuvres."""

from __future__ import annotations

from typing import Any, Final

from codec import bits
from proto import pb


def _mask(*classes: int) -> int:
    m = 0
    for c in classes:
        m |= 1 << c
    return m


#: Road users of a general vehicle lane.
VEHICLES: Final = _mask(
    pb.OBJECT_CLASS_CAR,
    pb.OBJECT_CLASS_BUS,
    pb.OBJECT_CLASS_TRUCK,
    pb.OBJECT_CLASS_ROBOTAXI,
    pb.OBJECT_CLASS_MOTORCYCLE,
    pb.OBJECT_CLASS_EMERGENCY,
)
PEDESTRIANS: Final = _mask(pb.OBJECT_CLASS_PEDESTRIAN)
CYCLISTS: Final = _mask(pb.OBJECT_CLASS_CYCLIST)
#: LaneTypeAttributes choice -> allowed-classes mask (tracked vehicles, parking, medians: none).
LANE_TYPE_MASK: Final = {
    "vehicle": VEHICLES,
    "crosswalk": PEDESTRIANS,
    "sidewalk": PEDESTRIANS,
    "bikeLane": CYCLISTS,
}
#: AllowedManeuvers bit -> the contract's manoeuvre letter (straight, left, right, U-turn).
MANEUVER_BIT: Final = {"s": 0, "l": 1, "r": 2, "t": 3}


def allowed_of(lane_type: tuple[str, Any] | None) -> int:
    """LaneTypeAttributes choice (``None``: not sent, a vehicle lane) -> allowed-classes bitmask."""
    if lane_type is None:
        return VEHICLES
    return LANE_TYPE_MASK.get(lane_type[0], 0)


def lane_type_of(allowed: int) -> tuple[str, tuple[bytes, int]]:
    """Allowed-classes bitmask -> LaneTypeAttributes choice (pedestrian-only crosswalk, cyclist-only bike lane)."""
    if allowed == PEDESTRIANS:
        return "crosswalk", bits.make(16, [])
    if allowed == CYCLISTS:
        return "bikeLane", bits.make(16, [])
    return "vehicle", bits.make(8, [])


def maneuver_of(value: tuple[bytes, int] | None) -> str:
    """AllowedManeuvers -> ``"s"``, ``"l"``, ``"r"``, ``"t"`` (first set in that order) or ``""``."""
    if value is None:
        return ""
    for code, bit in MANEUVER_BIT.items():
        if bits.is_set(value, bit):
            return code
    return ""


def maneuver_bits(codes: str) -> tuple[bytes, int]:
    """Manoeuvre letters (e.g. ``"sl"``) -> AllowedManeuvers (12 bits); unknown letters are ignored."""
    return bits.make(12, sorted({MANEUVER_BIT[c] for c in codes if c in MANEUVER_BIT}))
