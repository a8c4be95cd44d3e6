"""The clearance a controller runs to go from any displayed state to a target state.

This is the documented meaning of "through proper clearance" for ``FORCE_PHASE``,
``SET_PROGRAM`` and ``ALL_RED`` commands (the reference controller model and the safety layer
both use it):

1. every drive-green link that is not green in the target turns amber; links already amber stay
   amber; links green in both keep their character; amber ends when the slowest amber link has
   had its ``amber_req`` (s);
2. then every link not kept green is red until, for each link that turns green in the target,
   each of its foes has been red for ``clear_req`` (s);
3. then the target state.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from control import states as st
from control.plan import ControllerPlan

F64 = npt.NDArray[np.float64]


def clearance(
    plan: ControllerPlan, chars: str, since: F64, target: str, now: float
) -> tuple[list[tuple[str, float]], float]:
    """Clearance steps from ``chars`` to ``target``.

    Parameters
    ----------
    plan
        The controller's plan (requirements per link).
    chars, target
        Displayed and target state strings, K characters each.
    since
        (K,) s: when each link's class (green / amber / red) last changed.
    now
        Current time, s.

    Returns
    -------
    steps
        ``[(state, end_time), ...]``: each intermediate state and when it ends, s.
    start
        When the target state begins, s (``now`` when no clearance is needed).
    """
    c, tg = st.codes(chars), st.codes(target)
    green_now, drive_now, amber_now = st.GREENISH[c], st.DRIVE[c], st.AMBER[c]
    green_tg = st.GREENISH[tg]
    keep = green_now & green_tg
    ambers = (drive_now & ~green_tg) | amber_now
    amber_end = np.where(amber_now, since + plan.amber_req, now + plan.amber_req)
    t1 = max(now, float(amber_end[ambers].max())) if ambers.any() else now
    # when each link not kept green has been red from
    red_since = np.where(ambers, t1, np.where(green_now & ~keep, now, since))
    new_green = green_tg & ~green_now
    pair = new_green[:, None] & (~keep & ~green_tg)[None, :] & plan.foes
    t2 = t1
    if pair.any():
        ready = red_since[None, :] + plan.clear_req
        t2 = max(t1, float(ready[pair].max()))
    arr = np.array(list(chars), dtype="<U1")
    steps: list[tuple[str, float]] = []
    if t1 > now:
        a1 = np.where(keep, arr, np.where(ambers, "y", "r"))
        steps.append(("".join(a1.tolist()), t1))
    if t2 > t1:
        a2 = np.where(keep, arr, "r")
        steps.append(("".join(a2.tolist()), t2))
    return steps, t2
