"""Per-controller signal plans and safety requirements, derived once from the road network.

For every signal controller this module reads the map's programs (phases with duration,
minDur, maxDur and one state character per link) and the conflict relation
(:meth:`roadnet.RoadNetwork.tls_conflicts`) and derives, per link, what the safety layer and the
strategies need:

Requirements are read from the controller's *active* program (the city's plan in force); its
other programs are held to them (a generated default program without all-red fails, so the
safety layer refuses to switch to it).

* ``permitted[a, b]``: foes the active program shows green together (a permissive pairing);
* ``amber_req[k]``: the shortest amber run the programs give link k (default when never amber);
* ``clear_req[k, b]``: the all-red the programs keep between foe b's amber end and link k's
  green start (capped at the programs' clearance, default for pairs they never sequence);
* ``min_green_req[k]``: min(configured minimum, the programs' shortest green run of k), raised to
  the pedestrian minimum for crossing links;
* ``max_red_req[k]``: max(configured maximum red, the programs' longest red run of k);
* ``min_red_req[k]``: min(configured minimum red, the programs' shortest red run of k).

Stages are the *flexible* phases (a green phase whose end is decided: maxDur > minDur, or a long
fixed green when ``adapt_fixed_phases``); everything between two stages is a fixed transition
that follows the program. Durations are seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from control import states as st
from control.config import SafetyConfig
from roadnet import RoadNetwork
from roadnet.model import CROSSING

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
T = TypeVar("T")

#: entries a plan's memo holds before it is reset (the keys include displayed states: unbounded)
MEMO_MAX = 4096

#: gaps longer than this between a foe's amber end and a green start are scheduling, not clearance
CLEARANCE_HORIZON_S = 8.0


@dataclass(frozen=True)
class ProgramPlan:
    """One program of one controller; arrays over its H phases and K links.

    Attributes
    ----------
    states
        H state strings.
    green, amber, drive
        (H, K) greenish / amber / drive-green masks.
    duration, eff_min, eff_max
        (H,) s: the program's duration and the effective min/max the control layer respects.
    flexible
        (H,) the stages: green phases whose end the control layer decides.
    resumable
        (H,) phases a controller may enter straight from red (a green and no amber).
    next_green_wait
        (H, K) s: time from the end of phase h to link k's next green when the phases in between
        run their programmed durations (inf: never green).
    """

    index: int
    program_id: str
    states: list[str]
    green: B
    amber: B
    drive: B
    duration: F64
    eff_min: F64
    eff_max: F64
    flexible: B
    resumable: B
    next_green_wait: F64

    @cached_property
    def klass(self) -> npt.NDArray[np.int8]:
        """(H, K) link class per phase: 2 green, 1 amber, 0 red."""
        out = np.zeros(self.green.shape, dtype=np.int8)
        out[self.amber] = 1
        out[self.green] = 2
        return out

    @property
    def n_phases(self) -> int:
        """H."""
        return len(self.states)

    @cached_property
    def stages(self) -> I64:
        """Phase indices of the stages, in program order."""
        return np.flatnonzero(self.flexible)

    def next_resumable(self, h: int) -> int:
        """The first phase at or after ``h`` (cyclically) that may be entered from red."""
        n = self.n_phases
        for i in range(n):
            j = (h + i) % n
            if self.resumable[j]:
                return j
        return h

    def next_stage(self, h: int) -> int:
        """The first stage strictly after phase ``h`` (cyclically); ``h`` when it is the only one."""
        n = self.n_phases
        for i in range(1, n + 1):
            j = (h + i) % n
            if self.flexible[j]:
                return j
        return h


@dataclass(frozen=True)
class ControllerPlan:
    """Programs and per-link safety requirements of one signal controller (K links)."""

    tls: int
    tls_id: str
    n_links: int
    foes: B  #: (K, K)
    yields: B  #: (K, K)
    permitted: B  #: (K, K) foes the programs show green together
    crossing: B  #: (K,) pedestrian crossing links
    amber_req: F64  #: (K,) s
    clear_req: F64  #: (K, K) s, all-red between foe b's amber end and k's green
    min_green_req: F64  #: (K,) s
    max_red_req: F64  #: (K,) s (inf: never green in any program)
    amber_to_green_ok: B  #: (K,) links a program of the map turns from amber straight to green
    min_red_req: F64  #: (K,) s a link stays red before its next green
    programs: dict[int, ProgramPlan]  #: by network program index
    groups: I64  #: (K,) signal group (1-based) of each link

    def program(self, p: int) -> ProgramPlan:
        """The plan of network program ``p`` (``KeyError`` when it is not this controller's)."""
        return self.programs[p]

    def program_by_id(self, program_id: str) -> ProgramPlan | None:
        """The plan of this controller's program named ``program_id``."""
        for pp in self.programs.values():
            if pp.program_id == program_id:
                return pp
        return None

    @cached_property
    def all_red(self) -> str:
        """The all-red state string."""
        return "r" * self.n_links

    @cached_property
    def memo(self) -> dict[tuple[Any, ...], Any]:
        """Values derived from this plan and a key alone (e.g. the rules' masks per state change), kept.

        The plan is immutable, so an entry never goes stale; fill it through :meth:`memoised`,
        which bounds its size.
        """
        return {}

    def memoised(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """The memo's value for ``key``, built by ``build()`` on a miss (the memo is reset past :data:`MEMO_MAX`)."""
        memo = self.memo
        hit = memo.get(key)
        if hit is None:
            if len(memo) > MEMO_MAX:
                memo.clear()
            hit = memo[key] = build()
        out: T = hit
        return out


def _effective(net: RoadNetwork, p: int, cfg: SafetyConfig) -> tuple[list[str], F64, F64, F64, B, B, B, B]:
    hs = list(net.phases(p))
    states = [net.phase_state[h] for h in hs]
    dur = net.phase_duration[hs].astype(np.float64)
    mn = np.minimum(net.phase_min[hs].astype(np.float64), dur)
    mx = np.maximum(net.phase_max[hs].astype(np.float64), dur)
    green = np.array([st.GREENISH[st.codes(s)] for s in states]).reshape(len(hs), -1)
    amber = np.array([st.AMBER[st.codes(s)] for s in states]).reshape(len(hs), -1)
    drive = np.array([st.DRIVE[st.codes(s)] for s in states]).reshape(len(hs), -1)
    has_green = drive.any(axis=1)
    no_amber = ~amber.any(axis=1)
    flexible = has_green & no_amber & (mx > mn)
    if cfg.adapt_fixed_phases:
        adapt = has_green & no_amber & (mx <= mn) & (dur >= cfg.adapt_min_duration_s)
        mn = np.where(adapt, np.maximum(cfg.min_green_s, 0.5 * dur), mn)
        mx = np.where(adapt, 2.0 * dur, mx)
        flexible |= adapt
    return states, dur, mn, mx, green, amber, drive, flexible


def _runs(mask: F64 | B, dur: F64) -> list[tuple[int, int, float]]:
    """(link, start phase, length s) of each cyclic run of True in a (H, K) mask."""
    m = np.asarray(mask, dtype=np.bool_)
    h, k = m.shape
    out: list[tuple[int, int, float]] = []
    for link in range(k):
        col = m[:, link]
        if col.all() or not col.any():
            continue
        for start in range(h):
            if col[start] and not col[start - 1]:
                length = 0.0
                j = start
                while col[j % h]:
                    length += float(dur[j % h])
                    j += 1
                out.append((link, start, length))
    return out


def _next_green_wait(green: B, dur: F64) -> F64:
    """(H, K) shortest time from the end of phase h to link k's next green (inf: never)."""
    h, k = green.shape
    out = np.full((h, k), np.inf)
    for i in range(h):
        t = 0.0
        for step in range(1, h + 1):
            j = (i + step) % h
            newly = green[j] & np.isinf(out[i])
            out[i, newly] = t
            t += float(dur[j])
    return out


def _clearances(green: B, amber: B, drive: B, perm: B, dur: F64, foes: B, yields: B) -> F64:
    """(K, K) shortest gap from foe b's amber end to link k's green start over the program (inf: none)."""
    h, k = green.shape
    obs = np.full((k, k), np.inf)
    # walk two cycles so every start sees the previous cycle's amber ends
    last_amber_end = np.full(k, -np.inf)
    t = 0.0
    for step in range(2 * h):
        i = step % h
        prev = (i - 1) % h
        ended = amber[prev] & ~amber[i]
        last_amber_end[ended] = t
        if step >= h:
            new_green = green[i] & ~green[prev]
            red_foe = ~green[i] & ~amber[i]
            gives_way = perm[i][:, None] & yields
            pair = new_green[:, None] & red_foe[None, :] & foes & ~gives_way & np.isfinite(last_amber_end)[None, :]
            gap = np.broadcast_to(t - last_amber_end[None, :], (k, k))
            obs = np.where(pair, np.minimum(obs, gap), obs)
        t += float(dur[i])
    return obs


def build_plans(net: RoadNetwork, cfg: SafetyConfig | None = None) -> list[ControllerPlan]:
    """The :class:`ControllerPlan` of every signal controller of ``net``, in controller order."""
    cfg = cfg or SafetyConfig()
    out: list[ControllerPlan] = []
    crossing_lane = net.edge_function[net.lane_edge] == CROSSING if len(net.lane_ids) else np.zeros(0, np.bool_)
    for t, tid in enumerate(net.tls_ids):
        k = int(net.tls_n_links[t])
        foes, yields = net.tls_conflicts(t)
        permitted = np.zeros((k, k), dtype=np.bool_)
        amber_req = np.full(k, np.inf)
        clear_obs = np.full((k, k), np.inf)
        min_run = np.full(k, np.inf)
        max_red_run = np.zeros(k)
        min_red_run = np.full(k, np.inf)
        ever_green = np.zeros(k, dtype=np.bool_)
        a2g = np.zeros(k, dtype=np.bool_)
        programs: dict[int, ProgramPlan] = {}
        for p in net.programs_of(t):
            states, dur, mn, mx, green, amber, drive, flexible = _effective(net, int(p), cfg)
            if green.shape[1] != k:
                continue
            programs[int(p)] = ProgramPlan(
                index=int(p),
                program_id=net.program_ids[int(p)],
                states=states,
                green=green,
                amber=amber,
                drive=drive,
                duration=dur,
                eff_min=mn,
                eff_max=mx,
                flexible=flexible,
                resumable=np.asarray(drive.any(axis=1) & ~amber.any(axis=1), dtype=np.bool_),
                next_green_wait=_next_green_wait(green, dur),
            )
            # requirements come from the active program: the others are checked against them
            if int(p) != int(net.tls_active_program[t]):
                continue
            for row in green:
                permitted |= row[:, None] & row[None, :]
            for link, _, length in _runs(amber, mn):
                amber_req[link] = min(amber_req[link], length)
            for link, _, length in _runs(drive, mn):
                min_run[link] = min(min_run[link], length)
            for link, _, length in _runs(~green, mx):
                max_red_run[link] = max(max_red_run[link], length)
            for link, _, length in _runs(~green & ~amber, mn):
                min_red_run[link] = min(min_red_run[link], length)
            ever_green |= green.any(axis=0)
            a2g |= (np.roll(amber, 1, axis=0) & green).any(axis=0)
            perm = np.array([st.PERMISSIVE[st.codes(s)] for s in states]).reshape(len(states), -1)
            clear_obs = np.minimum(clear_obs, _clearances(green, amber, drive, perm, mn, foes, yields))
        permitted &= foes
        amber_req = np.where(np.isfinite(amber_req), amber_req, cfg.amber_s)
        short = clear_obs[np.isfinite(clear_obs) & (clear_obs <= CLEARANCE_HORIZON_S)]
        cap = max(cfg.all_red_s, float(short.max()) if len(short) else 0.0)
        clear_req = np.where(np.isfinite(clear_obs), np.minimum(clear_obs, cap), cfg.all_red_s)
        clear_req = np.where(foes, clear_req, 0.0)
        crossing = np.zeros(k, dtype=np.bool_)
        cs = np.flatnonzero((net.conn_tls == t) & (net.conn_link >= 0) & (net.conn_link < k))
        if len(cs):
            lanes_cross = crossing_lane[net.conn_from_lane[cs]] | crossing_lane[net.conn_to_lane[cs]]
            crossing[net.conn_link[cs][lanes_cross]] = True
        min_green = np.minimum(cfg.min_green_s, np.where(np.isfinite(min_run), min_run, cfg.min_green_s))
        ped = cfg.ped_walk_s + _crossing_length(net, t, k) / cfg.ped_speed_mps
        min_green = np.where(crossing, np.maximum(min_green, ped), min_green)
        max_red = np.where(ever_green, np.maximum(cfg.max_red_s, max_red_run), np.inf)
        out.append(
            ControllerPlan(
                tls=t,
                tls_id=tid,
                n_links=k,
                foes=foes,
                yields=yields,
                permitted=permitted,
                crossing=crossing,
                amber_req=amber_req,
                clear_req=clear_req,
                min_green_req=min_green,
                max_red_req=max_red,
                amber_to_green_ok=a2g,
                min_red_req=np.minimum(cfg.min_red_s, min_red_run),
                programs=programs,
                groups=net.tls_groups(t).astype(np.int64),
            )
        )
    return out


def _crossing_length(net: RoadNetwork, t: int, k: int) -> F64:
    """(K,) length of the crossing a link leads over, m (0 for vehicle links)."""
    out = np.zeros(k)
    cs = np.flatnonzero((net.conn_tls == t) & (net.conn_link >= 0) & (net.conn_link < k))
    for c in cs:
        for lane in (net.conn_from_lane[c], net.conn_to_lane[c]):
            if net.edge_function[net.lane_edge[lane]] == CROSSING:
                out[net.conn_link[c]] = max(out[net.conn_link[c]], float(net.lane_length[lane]))
    return out
