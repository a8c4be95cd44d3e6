"""Signal state strings (SUMO's one character per link) as vectors of link classes.

Classes used by the safety rules:

* *drive green* ``g G``: a green that must end through amber and respects minimum green;
* *greenish* ``g G s o O``: anything that lets vehicles enter, for the conflict check;
* *permissive* ``g s o O``: a green that gives way (may run with a foe it yields to);
* *amber* ``y Y``; *red* everything else (``r u``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

B = npt.NDArray[np.bool_]
U8 = npt.NDArray[np.uint8]


def _lut(chars: str) -> B:
    a = np.zeros(256, dtype=np.bool_)
    for c in chars:
        a[ord(c)] = True
    return a


DRIVE: Final = _lut("gG")
GREENISH: Final = _lut("gGsoO")
PERMISSIVE: Final = _lut("gsoO")
AMBER: Final = _lut("yY")
RED: Final = _lut("ru")


def codes(state: str) -> U8:
    """(K,) uint8 character codes of a state string."""
    return np.frombuffer(state.encode("ascii"), dtype=np.uint8)


def klass(state: str) -> npt.NDArray[np.int8]:
    """(K,) link class: 2 green (greenish), 1 amber, 0 red."""
    c = codes(state)
    out = np.zeros(len(c), dtype=np.int8)
    out[AMBER[c]] = 1
    out[GREENISH[c]] = 2
    return out


@lru_cache(maxsize=4096)
def class_changed(prev: str, chars: str) -> B:
    """(K,) links whose class (green / amber / red) differs between two states (read-only, memoised)."""
    out: B = klass(prev) != klass(chars)
    out.flags.writeable = False
    return out


def with_chars(state: str, mask: B, char: str) -> str:
    """``state`` with the links of ``mask`` (K,) replaced by ``char``."""
    a = np.array(list(state), dtype="<U1")
    a[mask] = char
    return "".join(a.tolist())
