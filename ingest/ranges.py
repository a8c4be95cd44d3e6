"""Wire value ranges (V2X conventions), in wire units and in the SI units of the decoded arrays."""

from __future__ import annotations

import math
from typing import Final

from proto import pb, units

#: |latitude| and |longitude| bounds, 1e-7 degree (J2735 uses 900000001 / 1800000001 for "unavailable").
LAT_E7_MAX: Final = 900_000_000
LON_E7_MAX: Final = 1_800_000_000
#: 0.02 m/s units; this value means "unavailable" (J2735 Speed).
SPEED_UNAVAILABLE_002: Final = units.SPEED_MAX_002 + 1
#: 0.0125 degree units; this value means "unavailable" (J2735 Heading).
HEADING_UNAVAILABLE: Final = units.HEADING_UNITS
#: 0.01 m/s^2 units; +-2000 valid, 2001 "unavailable".
ACCEL_MAX_001: Final = 2001
#: Largest ObjectClass / LightState / ControlMode value of the contract.
MAX_CLASS: Final = max(pb.ObjectClass.values())
MAX_LIGHT_STATE: Final = max(pb.LightState.values())
MAX_CONTROL_MODE: Final = max(pb.ControlMode.values())
#: Character widths of the string columns of proto.BSM_DTYPE / proto.VEHICLE_REPORT_DTYPE.
VEHICLE_ID_MAX: Final = 40
BUS_LINE_MAX: Final = 16

#: The same bounds in the decoded arrays' SI units (m/s, radians).
SPEED_UNAVAILABLE_MPS: Final = SPEED_UNAVAILABLE_002 * 0.02
HEADING_UNAVAILABLE_RAD: Final = 2.0 * math.pi
#: Tolerance when comparing decoded floats with the bounds above.
EPS: Final = 1e-9
