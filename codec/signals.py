"""Signal states, controller modes and timing confidence shared by the SPAT adapters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from codec import bits, ids
from codec.errors import CodecError
from proto import pb

#: CSAE LightState -> contract LightState. The CSAE set numbers its states like J2735's
#: MovementPhaseState (flashing-green is its pre-movement, yellow its clearance).
CSAE_LIGHT: Final = {
    "unavailable": pb.LIGHT_STATE_UNAVAILABLE,
    "dark": pb.LIGHT_STATE_DARK,
    "flashing-red": pb.LIGHT_STATE_STOP_THEN_PROCEED,
    "red": pb.LIGHT_STATE_STOP_AND_REMAIN,
    "flashing-green": pb.LIGHT_STATE_PRE_MOVEMENT,
    "permissive-green": pb.LIGHT_STATE_PERMISSIVE_GREEN,
    "protected-green": pb.LIGHT_STATE_PROTECTED_GREEN,
    "yellow": pb.LIGHT_STATE_PERMISSIVE_CLEARANCE,
    "flashing-yellow": pb.LIGHT_STATE_CAUTION_CONFLICTING,
}
#: Contract LightState -> CSAE LightState (protected clearance is sent as yellow).
CSAE_LIGHT_OF: Final = {v: k for k, v in CSAE_LIGHT.items()} | {pb.LIGHT_STATE_PROTECTED_CLEARANCE: "yellow"}

#: J2735 MovementPhaseState -> contract LightState (the contract follows J2735).
J2735_LIGHT: Final = {
    "unavailable": pb.LIGHT_STATE_UNAVAILABLE,
    "dark": pb.LIGHT_STATE_DARK,
    "stop-Then-Proceed": pb.LIGHT_STATE_STOP_THEN_PROCEED,
    "stop-And-Remain": pb.LIGHT_STATE_STOP_AND_REMAIN,
    "pre-Movement": pb.LIGHT_STATE_PRE_MOVEMENT,
    "permissive-Movement-Allowed": pb.LIGHT_STATE_PERMISSIVE_GREEN,
    "protected-Movement-Allowed": pb.LIGHT_STATE_PROTECTED_GREEN,
    "permissive-clearance": pb.LIGHT_STATE_PERMISSIVE_CLEARANCE,
    "protected-clearance": pb.LIGHT_STATE_PROTECTED_CLEARANCE,
    "caution-Conflicting-Traffic": pb.LIGHT_STATE_CAUTION_CONFLICTING,
}
J2735_LIGHT_OF: Final = {v: k for k, v in J2735_LIGHT.items()}

# IntersectionStatusObject bits (both standards): 0 manual control, 2 failure flash,
# 5 fixed-time operation, 6 traffic-dependent operation.
_MODE_BITS: Final = (
    (0, pb.CONTROL_MODE_OVERRIDE),
    (2, pb.CONTROL_MODE_FLASHING),
    (6, pb.CONTROL_MODE_CLOUD),
    (5, pb.CONTROL_MODE_LOCAL_PLAN),
)
_BIT_OF_MODE: Final = {
    pb.CONTROL_MODE_OVERRIDE: 0,
    pb.CONTROL_MODE_FLASHING: 2,
    pb.CONTROL_MODE_CLOUD: 6,
    pb.CONTROL_MODE_LOCAL_PLAN: 5,
    pb.CONTROL_MODE_FALLBACK: 5,
}

#: J2735 TimeIntervalConfidence code -> confidence in percent.
J2735_CONFIDENCE_PCT: Final = (21, 36, 47, 56, 62, 68, 73, 77, 81, 85, 88, 91, 94, 96, 98, 100)


def mode_of(status: tuple[bytes, int]) -> pb.ControlMode:
    """IntersectionStatusObject -> contract ControlMode (first match of manual, flash, adaptive, fixed)."""
    for bit, mode in _MODE_BITS:
        if bits.is_set(status, bit):
            return mode
    return pb.CONTROL_MODE_UNKNOWN


def status_of(mode: pb.ControlMode) -> tuple[bytes, int]:
    """Contract ControlMode -> IntersectionStatusObject (FALLBACK is sent as fixed-time operation)."""
    bit = _BIT_OF_MODE.get(mode)
    return bits.make(16, [] if bit is None else [bit])


def j2735_confidence(pct: int) -> int:
    """Percent -> the J2735 TimeIntervalConfidence code whose percentage is nearest."""
    return min(range(16), key=lambda i: (abs(J2735_CONFIDENCE_PCT[i] - pct), i))


def csae_light(state: pb.LightState) -> str:
    """Contract LightState -> CSAE LightState name; :class:`CodecError` for a value the contract lacks."""
    name = CSAE_LIGHT_OF.get(state)
    if name is None:
        raise CodecError(f"SignalGroupState.state: {state} is not a LightState", reason="out_of_range", field="state")
    return name


def j2735_phase_state(state: pb.LightState) -> str:
    """Contract LightState -> J2735 MovementPhaseState name; :class:`CodecError` for a value the contract lacks."""
    name = J2735_LIGHT_OF.get(state)
    if name is None:
        raise CodecError(f"SignalGroupState.state: {state} is not a LightState", reason="out_of_range", field="state")
    return name


def spats(
    intersections: list[dict[str, Any]],
    id_key: str,
    time_of: Callable[[dict[str, Any]], int],
    groups_of: Callable[[dict[str, Any], int], list[pb.SignalGroupState]],
) -> tuple[pb.Spat, ...]:
    """One ``pb.Spat`` per intersection state of either standard.

    Parameters
    ----------
    intersections
        The SPAT's IntersectionState values.
    id_key
        The member holding the intersection reference.
    time_of
        The intersection's time (ns) from its value.
    groups_of
        Its signal group states from its value and time.
    """
    out = []
    for inter in intersections:
        t0 = time_of(inter)
        out.append(
            pb.Spat(
                junction_id=ids.junction_id(inter[id_key]),
                timestamp_ns=t0,
                mode=mode_of(inter["status"]),
                groups=groups_of(inter, t0),
            )
        )
    return tuple(out)
