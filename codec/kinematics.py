"""Motion values of both standards (shared units), their "unavailable" codes read as the contract's zero."""

from __future__ import annotations

from typing import Final

from codec import geo, timebase
from proto import pb

SPEED_UNAVAILABLE: Final = 8191
HEADING_UNAVAILABLE: Final = 28800
ACCEL_UNAVAILABLE: Final = 2001
VERT_ACCEL_UNAVAILABLE: Final = -127


def speed(units: int) -> int:
    """Speed in 0.02 m/s; "unavailable" (8191) -> 0."""
    return 0 if units == SPEED_UNAVAILABLE else units


def heading(units: int) -> int:
    """Heading in 0.0125 degree; "unavailable" (28800) -> 0."""
    return 0 if units >= HEADING_UNAVAILABLE else units


def accel(units: int) -> int:
    """Acceleration in 0.01 m/s^2; "unavailable" (2001) -> 0."""
    return 0 if units == ACCEL_UNAVAILABLE else units


def bsm(
    *,
    vehicle: bytes,
    sec_mark: int,
    lat: int,
    lon: int,
    motion: tuple[int, int, int],
    size: dict[str, int],
    cls: pb.ObjectClass,
    ref_ns: int,
    field: str,
) -> pb.Bsm:
    """A ``pb.Bsm`` from a BSM's core values (both standards share their units).

    Parameters
    ----------
    vehicle
        The BSM ``id`` octets (the vehicle id is their hex).
    sec_mark
        ms of the minute, resolved against ``ref_ns``.
    motion
        (speed 0.02 m/s, heading 0.0125 degree, longitudinal acceleration 0.01 m/s^2), with
        the standards' "unavailable" codes.
    size
        ``{"width": cm, "length": cm}``.
    field
        Path of the position, for the error when it is "unavailable".

    Raises
    ------
    CodecError
        When the position is "unavailable".
    """
    geo.check_position(lat, lon, field)
    return pb.Bsm(
        vehicle_id=vehicle.hex(),
        measured_ns=timebase.from_moy_ms(None, sec_mark, ref_ns),
        lat_e7=lat,
        lon_e7=lon,
        speed_002=speed(motion[0]),
        heading_00125=heading(motion[1]),
        accel_001=accel(motion[2]),
        object_class=cls,
        length_cm=size["length"],
        width_cm=size["width"],
    )
