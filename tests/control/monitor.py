"""An independent monitor of a displayed signal trace (plain loops, no code shared with control.rules).

It replays a :class:`control.machine.SignalMachine` log link by link and reports every instant
where two foes are green together without a permissive pairing the map allows, an amber or an
all-red is cut short, or a green ends before its minimum.
"""

from __future__ import annotations

from control.machine import Transition
from control.plan import ControllerPlan

GREEN = set("gGsoO")
DRIVE = set("gG")
PERMISSIVE = set("gsoO")
AMBER = set("yY")
TOL = 1e-3


def klass(c: str) -> str:
    return "G" if c in GREEN else ("Y" if c in AMBER else "R")


def problems(plan: ControllerPlan, log: list[Transition], start_chars: str, t0: float) -> list[str]:
    """Every safety problem of a trace that starts showing ``start_chars`` at ``t0`` (all classes new)."""
    k = plan.n_links
    chars = list(start_chars)
    since = [t0] * k
    out: list[str] = []
    for tr in log:
        t = tr.t
        new = list(tr.chars)
        # conflicting greens in the new state
        for a in range(k):
            for b in range(a + 1, k):
                if not (plan.foes[a, b] and new[a] in GREEN and new[b] in GREEN):
                    continue
                gives_way = (new[a] in PERMISSIVE and plan.yields[a, b]) or (new[b] in PERMISSIVE and plan.yields[b, a])
                if not (plan.permitted[a, b] and gives_way):
                    out.append(f"t={t:.2f} conflicting greens {a},{b}: {tr.chars}")
        for i in range(k):
            old_k, new_k = klass(chars[i]), klass(new[i])
            held = t - since[i]
            if chars[i] in DRIVE and new_k == "R":
                out.append(f"t={t:.2f} link {i} green->red without amber")
            if old_k == "Y" and new_k == "R" and held < plan.amber_req[i] - TOL:
                out.append(f"t={t:.2f} link {i} amber {held:.2f} s < {plan.amber_req[i]:.2f}")
            if old_k == "Y" and new_k == "G" and not plan.amber_to_green_ok[i]:
                out.append(f"t={t:.2f} link {i} amber->green")
            if chars[i] in DRIVE and new_k == "Y" and held < plan.min_green_req[i] - TOL:
                out.append(f"t={t:.2f} link {i} green {held:.2f} s < min {plan.min_green_req[i]:.2f}")
            if old_k == "R" and new_k == "G" and held < plan.min_red_req[i] - TOL:
                out.append(f"t={t:.2f} link {i} red only {held:.2f} s before green")
            if old_k != "G" and new_k == "G":
                for b in range(k):
                    if not plan.foes[i, b] or new[b] in GREEN:
                        continue
                    if new[i] in PERMISSIVE and plan.yields[i, b]:
                        continue
                    if klass(new[b]) == "Y":
                        out.append(f"t={t:.2f} link {i} green while foe {b} shows amber")
                        continue
                    red_for = t - since[b] if klass(chars[b]) == "R" else 0.0
                    if red_for < plan.clear_req[i, b] - TOL:
                        out.append(f"t={t:.2f} link {i} green {red_for:.2f} s after foe {b} (< {plan.clear_req[i, b]})")
        for i in range(k):
            if klass(chars[i]) != klass(new[i]):
                since[i] = t
        chars = new
    return out
