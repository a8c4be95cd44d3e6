"""Virtual signal controllers: local program, SPaT, and commands only within the safety limits.

An independent :class:`Monitor` watches the link states every tick (it knows nothing of the
controller's plan) and records any conflicting green, green without amber, amber shorter than the
program's, all-red shorter than the program's, or green shorter than its phase's minimum.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proto import pb
from roadnet import RoadNetwork, corridor, grid
from roadnet.signals import phase_conflicts
from sim.devices.signals import SignalControllers

DT = 0.1
EPOCH_NS = 1_767_225_600_000_000_000


class Monitor:
    """Watches (K,) link states tick by tick and lists every safety violation it sees."""

    def __init__(self, ctl: SignalControllers) -> None:
        self.ctl = ctl
        net = ctl.net
        self.k = len(ctl.link_state)
        self.cls = self._classes(ctl.link_state)
        self.since = np.full(self.k, -np.inf)  # start of the current class (unknown at start)
        self.red_at = np.full(self.k, -np.inf)  # when each link last turned red from amber
        self.violations: list[str] = []
        self.owner = np.repeat(np.arange(ctl.n), np.diff(net.tls_link_offsets))
        # per link: shortest minDur among the program phases that show it green
        self.min_green = np.full(self.k, np.inf)
        for t in range(ctl.n):
            sl = ctl.links(t)
            for p in net.programs_of(t):
                for h in net.phases(int(p)):
                    g = np.array([c in "gG" for c in net.phase_state[h]])
                    seg = self.min_green[sl]
                    seg[g] = np.minimum(seg[g], net.phase_min[h])
        self.amber_min = np.array([ctl.clearance_min(t)[0] for t in range(ctl.n)])
        self.all_red = np.array([ctl.clearance_min(t)[1] for t in range(ctl.n)])

    @staticmethod
    def _classes(ls: np.ndarray) -> np.ndarray:
        out = np.full(len(ls), "x", dtype="<U1")
        out[np.isin(ls, ["g", "G"])] = "g"
        out[np.isin(ls, ["y", "Y"])] = "y"
        out[np.isin(ls, ["r", "u"])] = "r"
        out[ls == "s"] = "s"
        return out

    def see(self, now: float, ls: np.ndarray) -> None:
        cls = self._classes(ls)
        changed = np.flatnonzero(cls != self.cls)
        for i in changed.tolist():
            a, b, t = self.cls[i], cls[i], int(self.owner[i])
            lasted = now - self.since[i]
            if a == "g" and b == "r":
                self.violations.append(f"t={now:.1f} link {i}: green straight to red")
            if a == "g" and lasted < self.min_green[i] - 1e-6:
                self.violations.append(f"t={now:.1f} link {i}: green {lasted:.1f} s < min {self.min_green[i]}")
            if a == "y" and lasted < self.amber_min[t] - 1e-6:
                self.violations.append(f"t={now:.1f} link {i}: amber {lasted:.1f} s < {self.amber_min[t]}")
            if a == "y" and b == "r":
                self.red_at[i] = now
            if b == "g":
                sl = self.ctl.links(t)
                foes, _ = self.ctl.conflicts(t)
                j = i - sl.start
                foe_links = np.flatnonzero(foes[j]) + sl.start
                # a foe whose amber ended less than the all-red ago, or is not red at all yet
                recent = now - self.red_at[foe_links] < self.all_red[t] - 1e-6
                not_red = np.isin(cls[foe_links], ["y"])
                if (recent | not_red).any():
                    self.violations.append(f"t={now:.1f} link {i}: green without all-red after a foe's amber")
            self.since[i] = now
        for t in np.unique(self.owner[changed]).tolist():
            sl = self.ctl.links(t)
            foes, yields = self.ctl.conflicts(t)
            state = "".join(ls[sl].tolist())
            if phase_conflicts(state, foes, yields):
                self.violations.append(f"t={now:.1f} controller {t}: conflicting greens {state}")
        self.cls = cls


def run(ctl: SignalControllers, until: float, mon: Monitor | None = None) -> None:
    """Advance ``ctl`` tick by tick up to simulated time ``until``."""
    n = round((until - ctl.now) / DT)
    t0 = ctl.now
    for i in range(1, n + 1):
        ls = ctl.advance(t0 + i * DT)
        if mon is not None:
            mon.see(ctl.now, ls)


def cmd(
    ctl: SignalControllers,
    kind: int,
    *,
    junction: str = "J0_0",
    expires_in: float = 60.0,
    source: str = "test",
    **kw: object,
) -> pb.SignalCommand:
    return pb.SignalCommand(
        command_id=f"c{len(ctl.results)}",
        junction_id=junction,
        kind=kind,  # type: ignore[arg-type]
        issued_ns=ctl.ns_of_t(ctl.now),
        expires_ns=ctl.ns_of_t(ctl.now + expires_in) if expires_in else 0,
        source=source,
        **kw,  # type: ignore[arg-type]
    )


def add_program(net: RoadNetwork, t: int, pid: str, phases: Sequence[tuple[float, str, float, float]]) -> RoadNetwork:
    """A copy of ``net`` with one more program for controller ``t``."""
    n = dataclasses.replace(net)
    n.program_tls = np.append(net.program_tls, t)
    n.program_ids = [*net.program_ids, pid]
    n.program_type = [*net.program_type, "static"]
    n.program_offset = np.append(net.program_offset, 0.0)
    n.program_phase_offsets = np.append(net.program_phase_offsets, net.program_phase_offsets[-1] + len(phases))
    n.phase_duration = np.append(net.phase_duration, [p[0] for p in phases])
    n.phase_state = [*net.phase_state, *(p[1] for p in phases)]
    n.phase_min = np.append(net.phase_min, [p[2] for p in phases])
    n.phase_max = np.append(net.phase_max, [p[3] for p in phases])
    n.phase_name = [*net.phase_name, *("" for _ in phases)]
    return n


def make_foes(net: RoadNetwork, t: int, a: int, b: int) -> RoadNetwork:
    """A copy of ``net`` where links ``a`` and ``b`` of controller ``t`` conflict (both ways)."""
    n = dataclasses.replace(net, junction_foes=net.junction_foes.copy(), junction_response=net.junction_response.copy())
    ca = int(np.flatnonzero((net.conn_tls == t) & (net.conn_link == a))[0])
    cb = int(np.flatnonzero((net.conn_tls == t) & (net.conn_link == b))[0])
    j = int(net.conn_junction[ca])
    size, off = int(net.junction_n_requests[j]), int(net.junction_mat_offsets[j])
    ra, rb = int(net.conn_request[ca]), int(net.conn_request[cb])
    for x, y in ((ra, rb), (rb, ra)):
        n.junction_foes[off + x * size + y] = True
        n.junction_response[off + x * size + y] = False
    return n


@pytest.fixture
def net() -> RoadNetwork:
    return grid(2, 2)


# ---------------------------------------------------------------------------- local program


def test_local_program_cycles_with_program_durations(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    mon = Monitor(ctl)
    seen: list[tuple[float, int]] = []
    for i in range(1, 1401):
        ctl.advance(i * DT)
        mon.see(ctl.now, ctl.link_state)
        if not seen or seen[-1][1] != int(ctl.phase[0]):
            seen.append((round(ctl.now, 1), int(ctl.phase[0])))
    assert seen[:7] == [(0.1, 0), (30.0, 1), (33.0, 2), (35.0, 3), (65.0, 4), (68.0, 5), (70.0, 0)]
    assert mon.violations == []
    assert ctl.results == []


def test_program_offset_places_the_cycle() -> None:
    n = grid(1, 1)
    n.program_offset = np.array([35.0])
    ctl = SignalControllers(n, epoch_ns=EPOCH_NS)
    # a positive offset delays the program: at t=0 it is 35 s before its start, i.e. at 35 s of 70
    assert ctl.phase[0] == 3 and ctl.elapsed[0] == pytest.approx(0.0)


def test_spat_reports_groups_with_consistent_end_times(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    run(ctl, 10.0)
    spats = ctl.spat()
    assert [s.junction_id for s in spats] == net.tls_ids
    s = spats[0]
    assert s.mode == pb.CONTROL_MODE_LOCAL_PLAN and s.program_id == "0" and s.phase_index == 0
    assert s.link_state == ctl.state[0] and s.timestamp_ns == EPOCH_NS + 10 * 10**9
    by_group = {g.group_id: g for g in s.groups}
    assert set(by_group) == {1, 2, 3, 4}
    # group 1 (through, green now): ends with the 30 s green; min at minDur 8, max at maxDur 60
    g1 = by_group[1]
    assert g1.state == pb.LIGHT_STATE_PROTECTED_GREEN
    assert g1.likely_end_ns == EPOCH_NS + 30 * 10**9
    assert g1.min_end_ns == EPOCH_NS + 10 * 10**9  # min 8 s has passed: it may end now
    assert g1.max_end_ns == EPOCH_NS + 60 * 10**9
    # group 3 (red): turns green after the green, amber and all-red
    g3 = by_group[3]
    assert g3.state == pb.LIGHT_STATE_STOP_AND_REMAIN
    assert g3.likely_end_ns == EPOCH_NS + 35 * 10**9
    for g in s.groups:
        assert g.min_end_ns <= g.likely_end_ns <= g.max_end_ns
    env = pb.Envelope(sender_id=s.junction_id, seq=1, schema_version=1, spat=s)
    assert pb.Envelope.FromString(env.SerializeToString()).spat.groups[0].group_id == 1


# ---------------------------------------------------------------------------- refusals


def test_refuses_a_command_for_a_conflicting_phase(net: RoadNetwork) -> None:
    # links 9 and 12 (both protected through in stage B) made foes: phase 3 now conflicts
    bad = make_foes(net, 0, 9, 12)
    ctl = SignalControllers(bad, epoch_ns=EPOCH_NS)
    run(ctl, 12.0)
    for kind in (pb.COMMAND_KIND_FORCE_PHASE, pb.COMMAND_KIND_EARLY_GREEN):
        res = ctl.apply(cmd(ctl, kind, phase_index=3))
        assert not res.accepted
        assert "conflicting greens" in res.reason and "9" in res.reason and "12" in res.reason
    assert ctl.mode[0] == pb.CONTROL_MODE_LOCAL_PLAN
    assert ctl.spat([0])[0].mode == pb.CONTROL_MODE_LOCAL_PLAN
    assert ctl.end[0] == pytest.approx(30.0)  # plan untouched


def test_refuses_a_program_with_conflicting_greens(net: RoadNetwork) -> None:
    conflict = "G" * 16  # every movement at once
    n2 = add_program(net, 0, "bad", [(20.0, conflict, 10.0, 30.0), (3.0, "y" * 16, 3.0, 3.0)])
    ctl = SignalControllers(n2, epoch_ns=EPOCH_NS)
    res = ctl.apply(cmd(ctl, pb.COMMAND_KIND_SET_PROGRAM, program_id="bad"))
    assert not res.accepted and "conflicting greens" in res.reason


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"junction": "nope", "kind": pb.COMMAND_KIND_HOLD_PHASE}, "unknown signal controller 'nope'"),
        ({"kind": pb.COMMAND_KIND_FORCE_PHASE, "phase_index": 9}, "unknown phase 9"),
        ({"kind": pb.COMMAND_KIND_FORCE_PHASE, "phase_index": 1}, "clearance phase"),
        ({"kind": pb.COMMAND_KIND_SET_PROGRAM, "program_id": "zz"}, "unknown program 'zz'"),
        ({"kind": pb.COMMAND_KIND_HOLD_PHASE, "expires_in": 0}, "no expiry"),
        ({"kind": pb.COMMAND_KIND_HOLD_PHASE, "expires_in": -5}, "already expired"),
        ({"kind": pb.COMMAND_KIND_EXTEND_GREEN, "duration_s": -3.0}, "duration_s must be > 0"),
        ({"kind": pb.COMMAND_KIND_UNSPECIFIED}, "unknown command kind"),
    ],
    ids=["controller", "phase", "amber-phase", "program", "no-expiry", "expired", "duration", "kind"],
)
def test_refuses_invalid_commands_with_a_reason(net: RoadNetwork, kw: dict[str, object], expected: str) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    run(ctl, 5.0)
    kind = kw.pop("kind")
    res = ctl.apply(cmd(ctl, kind, **kw))  # type: ignore[arg-type]
    assert not res.accepted and expected in res.reason
    assert ctl.results[-1] == res


def test_hold_is_refused_during_clearance(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    run(ctl, 31.0)  # amber of stage A
    res = ctl.apply(cmd(ctl, pb.COMMAND_KIND_HOLD_PHASE))
    assert not res.accepted and "clearance" in res.reason


# ---------------------------------------------------------------------------- safety limits


def test_a_forced_phase_never_cuts_the_minimum_green(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    mon = Monitor(ctl)
    run(ctl, 2.0, mon)
    res = ctl.apply(cmd(ctl, pb.COMMAND_KIND_FORCE_PHASE, phase_index=3))
    assert res.accepted and ctl.mode[0] == pb.CONTROL_MODE_CLOUD
    changes: list[tuple[float, str]] = []
    for i in range(1, 200):
        ctl.advance(2.0 + i * DT)
        mon.see(ctl.now, ctl.link_state)
        if not changes or changes[-1][1] != ctl.state[0]:
            changes.append((round(ctl.now, 1), ctl.state[0]))
    # green A until its min (8 s), then the program's amber (3 s) and all-red (2 s), then B
    assert changes[:4] == [
        (2.1, "GGGgGGgGrrrrrrrr"),
        (8.0, "yyyyyyyyrrrrrrrr"),
        (11.0, "rrrrrrrrrrrrrrrr"),
        (13.0, "rrrrrrrrgGGGGgGG"),
    ]
    assert mon.violations == []
    # other controllers carry on with their local program
    assert ctl.state[1] == "GGGgGGgGrrrrrrrr"


def test_set_duration_below_the_minimum_is_raised_to_it(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    run(ctl, 3.0)
    res = ctl.apply(cmd(ctl, pb.COMMAND_KIND_SET_DURATION, duration_s=1.0))
    assert res.accepted and "minDur" in res.reason
    run(ctl, 7.9)
    assert ctl.state[0].startswith("GGG")
    run(ctl, 8.0)
    assert ctl.state[0].startswith("yyy")


def test_a_hold_is_capped_at_the_phase_max(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    mon = Monitor(ctl)
    run(ctl, 5.0, mon)
    res = ctl.apply(cmd(ctl, pb.COMMAND_KIND_HOLD_PHASE, expires_in=300.0))
    assert res.accepted
    spat = ctl.spat([0])[0]
    assert {g.group_id: g.max_end_ns for g in spat.groups}[1] == EPOCH_NS + 60 * 10**9
    run(ctl, 59.9, mon)
    assert ctl.state[0].startswith("GGG")
    run(ctl, 60.0, mon)
    assert ctl.state[0].startswith("yyy")  # maxDur 60 s reached although the command lasts
    assert mon.violations == []


def test_a_hold_is_capped_by_the_max_red_of_waiting_links(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS, max_red=40.0)
    run(ctl, 5.0)
    assert ctl.apply(cmd(ctl, pb.COMMAND_KIND_HOLD_PHASE, expires_in=300.0)).accepted
    run(ctl, 39.9)
    assert ctl.state[0].startswith("GGG")
    run(ctl, 40.0)  # stage B links have been red since 0 s
    assert ctl.state[0].startswith("yyy")


def test_extend_green_is_capped_and_says_so(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    run(ctl, 20.0)
    res = ctl.apply(cmd(ctl, pb.COMMAND_KIND_EXTEND_GREEN, duration_s=10.0))
    assert res.accepted and res.reason == ""
    assert ctl.end[0] == pytest.approx(40.0)
    res = ctl.apply(cmd(ctl, pb.COMMAND_KIND_EXTEND_GREEN, duration_s=100.0))
    assert res.accepted and "capped" in res.reason
    assert ctl.end[0] == pytest.approx(60.0)


def test_a_command_in_amber_never_shortens_the_clearance(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    mon = Monitor(ctl)
    run(ctl, 30.5, mon)  # 0.5 s into the amber
    assert ctl.state[0].startswith("yyy")
    for kind in (pb.COMMAND_KIND_ALL_RED, pb.COMMAND_KIND_FORCE_PHASE):
        assert ctl.apply(cmd(ctl, kind, phase_index=0)).accepted
    run(ctl, 32.9, mon)
    assert ctl.state[0].startswith("yyy")  # the full 3 s amber
    run(ctl, 33.0, mon)
    assert set(ctl.state[0]) == {"r"}
    run(ctl, 34.9, mon)
    assert set(ctl.state[0]) == {"r"}  # and the full 2 s all-red
    run(ctl, 35.0, mon)
    assert ctl.state[0] == "GGGgGGgGrrrrrrrr"  # the forced stage A, not the program's B
    assert mon.violations == []


def test_all_red_holds_then_reverts_on_expiry(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    mon = Monitor(ctl)
    run(ctl, 10.0, mon)
    assert ctl.apply(cmd(ctl, pb.COMMAND_KIND_ALL_RED, expires_in=20.0, source="operator:alice")).accepted
    assert ctl.spat([0])[0].mode == pb.CONTROL_MODE_OVERRIDE
    run(ctl, 15.0, mon)
    assert set(ctl.state[0]) == {"r"}
    run(ctl, 29.9, mon)
    assert set(ctl.state[0]) == {"r"}
    run(ctl, 30.1, mon)
    # expiry: back to the local program at its next green (stage B follows stage A)
    assert ctl.state[0] == "rrrrrrrrgGGGGgGG"
    assert ctl.mode[0] == pb.CONTROL_MODE_FALLBACK
    assert ctl.results[-1].reason.startswith("expired")
    assert mon.violations == []


# ---------------------------------------------------------------------------- expiry and release


def test_reverts_to_the_local_program_when_a_hold_expires(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    run(ctl, 25.0)
    assert ctl.apply(cmd(ctl, pb.COMMAND_KIND_HOLD_PHASE, expires_in=15.0)).accepted
    assert ctl.spat([0])[0].mode == pb.CONTROL_MODE_CLOUD
    run(ctl, 39.9)
    assert ctl.state[0].startswith("GGG")
    run(ctl, 40.1)
    # the local green (30 s) is over: the program's clearance follows at once
    assert ctl.state[0].startswith("yyy")
    assert ctl.spat([0])[0].mode == pb.CONTROL_MODE_FALLBACK
    assert [r.reason for r in ctl.results] == ["", "expired: reverted to the local program"]
    run(ctl, 45.0)
    assert ctl.state[0] == "rrrrrrrrgGGGGgGG"


def test_forced_phase_reverts_after_expiry_with_local_durations(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    mon = Monitor(ctl)
    run(ctl, 10.0, mon)
    assert ctl.apply(cmd(ctl, pb.COMMAND_KIND_FORCE_PHASE, phase_index=3, expires_in=50.0)).accepted
    run(ctl, 59.9, mon)
    assert ctl.state[0] == "rrrrrrrrgGGGGgGG"  # B held (its max is 60 s)
    run(ctl, 60.1, mon)
    assert ctl.state[0].startswith("rrrrrrrryyy")  # held past its 30 s: ends at expiry
    assert ctl.mode[0] == pb.CONTROL_MODE_FALLBACK
    run(ctl, 65.1, mon)
    assert ctl.state[0] == "GGGgGGgGrrrrrrrr"
    assert mon.violations == []


def test_release_returns_at_once(net: RoadNetwork) -> None:
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS)
    run(ctl, 20.0)
    assert ctl.apply(cmd(ctl, pb.COMMAND_KIND_HOLD_PHASE, expires_in=100.0)).accepted
    run(ctl, 35.0)
    assert ctl.apply(cmd(ctl, pb.COMMAND_KIND_RELEASE, expires_in=0)).accepted
    assert ctl.mode[0] == pb.CONTROL_MODE_LOCAL_PLAN
    run(ctl, 35.2)
    assert ctl.state[0].startswith("yyy")


def test_early_green_cuts_the_conflicting_green_to_its_minimum() -> None:
    n = corridor(3)  # arterial green 40 s (min 10), side street 20 s (min 6), amber 3, all-red 2
    ctl = SignalControllers(n, epoch_ns=EPOCH_NS)
    mon = Monitor(ctl)
    run(ctl, 46.0, mon)  # side street green since 45 s
    assert ctl.state[1].startswith("rrr")
    assert ctl.apply(cmd(ctl, pb.COMMAND_KIND_EARLY_GREEN, junction="C1", phase_index=0)).accepted
    first = int(n.program_phase_offsets[1])
    while not (ctl.phase[1] == first and ctl.elapsed[1] == 0.0):
        ctl.advance(round(ctl.now + DT, 6))
        mon.see(ctl.now, ctl.link_state)
    # side street 6 s (its min) + amber 3 + all-red 2: arterial green at 56 s instead of 70 s
    assert ctl.now == pytest.approx(56.0)
    assert ctl.state[0] == n.phase_state[3]  # C0 untouched: still its side-street green
    assert mon.violations == []


def test_set_program_switches_and_reverts(net: RoadNetwork) -> None:
    alt = [
        (15.0, "GGGgGGgGrrrrrrrr", 8.0, 30.0),
        (4.0, "yyyyyyyyrrrrrrrr", 4.0, 4.0),
        (3.0, "rrrrrrrrrrrrrrrr", 3.0, 3.0),
        (45.0, "rrrrrrrrgGGGGgGG", 8.0, 60.0),
        (4.0, "rrrrrrrryyyyyyyy", 4.0, 4.0),
        (3.0, "rrrrrrrrrrrrrrrr", 3.0, 3.0),
    ]
    n2 = add_program(net, 0, "peak", alt)
    ctl = SignalControllers(n2, epoch_ns=EPOCH_NS)
    mon = Monitor(ctl)
    run(ctl, 12.0, mon)
    assert ctl.apply(cmd(ctl, pb.COMMAND_KIND_SET_PROGRAM, program_id="peak", expires_in=200.0)).accepted
    run(ctl, 30.0, mon)
    assert ctl.spat([0])[0].program_id == "peak"
    run(ctl, 212.5, mon)  # expired at 212 s in peak's stage B: its amber (4 s) and all-red (3 s) run
    assert ctl.spat([0])[0].program_id == "peak" and ctl.state[0].startswith("rrrrrrrryyy")
    run(ctl, 219.0, mon)
    assert ctl.spat([0])[0].program_id == "0" and ctl.state[0] == "GGGgGGgGrrrrrrrr"
    assert mon.violations == []


# ---------------------------------------------------------------------------- property


KINDS = [
    pb.COMMAND_KIND_HOLD_PHASE,
    pb.COMMAND_KIND_FORCE_PHASE,
    pb.COMMAND_KIND_SET_PROGRAM,
    pb.COMMAND_KIND_ALL_RED,
    pb.COMMAND_KIND_EXTEND_GREEN,
    pb.COMMAND_KIND_EARLY_GREEN,
    pb.COMMAND_KIND_RELEASE,
    pb.COMMAND_KIND_SET_DURATION,
]

command_st = st.tuples(
    st.integers(0, 150),  # ticks to wait before the command
    st.integers(0, 1),  # controller
    st.sampled_from(KINDS),
    st.integers(0, 6),  # phase index (6 is unknown)
    st.sampled_from(["0", "peak", "zz"]),
    st.floats(-5.0, 90.0),  # duration_s
    st.floats(-2.0, 120.0),  # expires in s
)


def _peak_net() -> RoadNetwork:
    base = corridor(2)
    k = int(base.tls_n_links[0])
    a = base.phase_state[0]
    b = base.phase_state[3]
    amber_a = base.phase_state[1]
    amber_b = base.phase_state[4]
    return add_program(
        base,
        0,
        "peak",
        [
            (25.0, a, 12.0, 50.0),
            (4.0, amber_a, 4.0, 4.0),
            (3.0, "r" * k, 3.0, 3.0),
            (10.0, b, 5.0, 20.0),
            (4.0, amber_b, 4.0, 4.0),
            (2.0, "r" * k, 2.0, 2.0),
        ],
    )


PEAK_NET = _peak_net()


@settings(max_examples=60, deadline=None)
@given(st.lists(command_st, min_size=1, max_size=15), st.floats(0.0, 69.0))
def test_random_commands_never_break_the_safety_rules(commands: list[tuple[Any, ...]], start: float) -> None:
    net = PEAK_NET
    ctl = SignalControllers(net, epoch_ns=EPOCH_NS, t0=start, max_red=90.0)
    mon = Monitor(ctl)
    for wait, t, kind, phase, prog, dur, exp in commands:
        run(ctl, ctl.now + wait * DT, mon)
        c = pb.SignalCommand(
            command_id="x",
            junction_id=net.tls_ids[t],
            kind=kind,
            phase_index=phase,
            program_id=prog,
            duration_s=dur,
            expires_ns=ctl.ns_of_t(ctl.now + exp),
        )
        ctl.apply(c)
        for s in ctl.spat():
            for g in s.groups:
                assert g.min_end_ns <= g.likely_end_ns <= g.max_end_ns
    run(ctl, ctl.now + 150.0, mon)
    assert mon.violations == []
    # after every command has expired all controllers are back on their local program
    run(ctl, ctl.now + 200.0, mon)
    assert np.isinf(ctl.expiry).all()
    assert ctl.program.tolist() == net.tls_active_program.tolist()
    assert mon.violations == []
