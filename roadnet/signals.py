"""Signal states (SUMO's one character per link) and the conflict checks on them.

State characters, as in SUMO:
``r`` red, ``y`` amber, ``g`` green that must yield (permissive), ``G`` green with priority
(protected), ``s`` green right-turn-on-red after stopping, ``u`` red+amber, ``o`` off blinking,
``O`` off (no signal).
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

B = npt.NDArray[np.bool_]

STATE_CHARS: Final = frozenset("ryYgGsuoO")
GREEN: Final = frozenset("gGs")
PROTECTED: Final = frozenset("G")
AMBER: Final = frozenset("yY")
RED: Final = frozenset("r")

#: SUMO state char -> proto LightState value (J2735 MovementPhaseState numbering of the contract)
LIGHT_STATE: Final[dict[str, int]] = {
    "r": 3,  # STOP_AND_REMAIN
    "s": 2,  # STOP_THEN_PROCEED
    "u": 4,  # PRE_MOVEMENT
    "g": 5,  # PERMISSIVE_GREEN
    "G": 6,  # PROTECTED_GREEN
    "y": 7,  # PERMISSIVE_CLEARANCE
    "Y": 8,  # PROTECTED_CLEARANCE
    "o": 9,  # CAUTION_CONFLICTING
    "O": 1,  # DARK
}


def as_array(state: str) -> npt.NDArray[np.str_]:
    """A state string as a (K,) array of one-character strings."""
    return np.array(list(state), dtype="<U1")


def green_mask(state: str) -> B:
    """(K,) True where the link may drive (g, G, s)."""
    return np.isin(as_array(state), list(GREEN))


class Conflict(NamedTuple):
    """Two links green together although their movements conflict."""

    a: int
    b: int
    kind: str  # "protected": neither yields to the other; "permissive" is not a conflict


def phase_conflicts(state: str, foes: B, yields: B) -> list[Conflict]:
    """Pairs of links green together on conflicting movements where neither gives way.

    A pair is acceptable when one of the two is a permissive green (``g``/``s``) that must yield
    to the other (``yields[a, b]``): that is a permissive movement, not a violation.

    Parameters
    ----------
    state
        One state character per link, length K.
    foes, yields
        (K, K) boolean relations of :meth:`RoadNetwork.tls_conflicts`.
    """
    s = as_array(state)
    g = np.isin(s, list(GREEN))
    perm = np.isin(s, ["g", "s"])
    both = foes & g[:, None] & g[None, :]
    ok = (perm[:, None] & yields) | (perm[None, :] & yields.T)
    bad = np.triu(both & ~ok, 1)
    return [Conflict(int(a), int(b), "protected") for a, b in zip(*np.nonzero(bad), strict=True)]


def missing_amber(prev: str, nxt: str) -> list[int]:
    """Links that go straight from a green to red between two consecutive states (no amber)."""
    p, n = as_array(prev), as_array(nxt)
    bad = np.isin(p, list(GREEN - {"s"})) & (n == "r")
    return [int(i) for i in np.flatnonzero(bad)]
