"""The standards' "unavailable" codes for motion values, read as the contract's zero."""

from __future__ import annotations

from typing import Final

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
