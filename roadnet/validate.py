"""Checks of a network that name the offending element.

Errors make a map unfit for control (a program state whose length differs from its links, two
protected greens on conflicting movements in one phase, an element off its lane); warnings are
worth a look (a green that ends without amber, a controller with unused links).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from roadnet.model import RoadNetwork
from roadnet.signals import STATE_CHARS, missing_amber, phase_conflicts


@dataclass(frozen=True)
class Issue:
    """One finding: severity ``error`` or ``warning``, the element, and what is wrong."""

    severity: str
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.element}: {self.message}"


def _lane(net: RoadNetwork, i: int) -> str:
    return net.lane_ids[i] if 0 <= i < len(net.lane_ids) else f"#{i}"


def check_programs(net: RoadNetwork) -> list[Issue]:
    """Program structure and the conflict relation, phase by phase."""
    out: list[Issue] = []
    for t, tid in enumerate(net.tls_ids):
        k = int(net.tls_n_links[t])
        foes, yields = net.tls_conflicts(t)
        conns = net.tls_link_conns[t]
        progs = net.programs_of(t)
        if len(progs) == 0:
            out.append(Issue("warning", f"signal controller {tid}", "has no program"))
        for p in progs:
            states = [net.phase_state[h] for h in net.phases(int(p))]
            for n_ph, h in enumerate(net.phases(int(p))):
                el = f"signal controller {tid} program {net.program_ids[p]} phase {n_ph}"
                st = net.phase_state[h]
                if len(st) != k:
                    out.append(
                        Issue(
                            "error",
                            el,
                            f"state {st!r} has {len(st)} characters, the controller has {k} links",
                        )
                    )
                    continue
                bad = set(st) - STATE_CHARS
                if bad:
                    out.append(Issue("error", el, f"state {st!r} holds unknown characters {''.join(sorted(bad))!r}"))
                    continue
                if net.phase_duration[h] <= 0:
                    out.append(Issue("error", el, f"duration {net.phase_duration[h]} s is not positive"))
                if not net.phase_min[h] <= net.phase_duration[h] <= net.phase_max[h]:
                    out.append(
                        Issue(
                            "warning",
                            el,
                            f"duration {net.phase_duration[h]} s outside "
                            f"[minDur {net.phase_min[h]}, maxDur {net.phase_max[h]}]",
                        )
                    )
                for c in phase_conflicts(st, foes, yields):
                    ca, cb = conns[c.a], conns[c.b]
                    what = ""
                    if ca >= 0 and cb >= 0:
                        what = (
                            f" ({_lane(net, int(net.conn_from_lane[ca]))}->{_lane(net, int(net.conn_to_lane[ca]))} and "
                            f"{_lane(net, int(net.conn_from_lane[cb]))}->{_lane(net, int(net.conn_to_lane[cb]))})"
                        )
                    out.append(Issue("error", el, f"protected greens on conflicting links {c.a} and {c.b}{what}"))
                nxt = states[(n_ph + 1) % len(states)]
                if len(nxt) == k and len(states) > 1:
                    links = missing_amber(st, nxt)
                    if links:
                        out.append(Issue("warning", el, f"links {links} go from green to red without amber"))
        unused = np.flatnonzero(conns < 0)
        if len(unused):
            out.append(Issue("warning", f"signal controller {tid}", f"links {unused.tolist()} control no connection"))
    return out


def check_positions(net: RoadNetwork) -> list[Issue]:
    """Lanes with usable geometry; stops, parking and detectors on their lanes."""
    out: list[Issue] = []
    for i in np.flatnonzero(np.diff(net.lane_shape_offsets) < 2):
        out.append(Issue("error", f"lane {net.lane_ids[i]}", "shape has fewer than 2 points"))
    for i in np.flatnonzero(net.lane_length <= 0):
        out.append(Issue("error", f"lane {net.lane_ids[i]}", f"length {net.lane_length[i]} m is not positive"))
    for i in np.flatnonzero(net.lane_speed <= 0):
        out.append(Issue("error", f"lane {net.lane_ids[i]}", f"speed limit {net.lane_speed[i]} m/s is not positive"))
    tables = (
        ("bus stop", net.stop_ids, net.stop_lane, net.stop_start, net.stop_end),
        ("parking area", net.parking_ids, net.parking_lane, net.parking_start, net.parking_end),
        (
            "detector",
            net.detector_ids,
            net.detector_lane,
            net.detector_pos,
            net.detector_pos + net.detector_length,
        ),
    )
    for kind, ids, lanes, a, b in tables:
        length = net.lane_length[lanes]
        tol = 0.1
        bad = (a < -tol) | (b > length + tol) | (a > b + tol)
        for i in np.flatnonzero(bad):
            out.append(
                Issue(
                    "error",
                    f"{kind} {ids[i]}",
                    f"spans {a[i]:.1f}..{b[i]:.1f} m, outside lane {net.lane_ids[lanes[i]]} of {length[i]:.1f} m",
                )
            )
    return out


def validate(net: RoadNetwork) -> list[Issue]:
    """Every check; errors first."""
    issues = check_positions(net) + check_programs(net)
    return sorted(issues, key=lambda i: i.severity != "error")
