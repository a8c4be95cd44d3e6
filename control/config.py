"""Configuration of the control layer: strategy per junction, safety limits, TSP, GLOSA, routing.

Every value is SI (seconds, metres, m/s). A :class:`ControlConfig` is plain data: build it in
code, or from a dict (``ControlConfig.from_dict``) as the CLI and the platform adapter do.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Literal

StrategyName = Literal["local", "fixed", "actuated", "max-pressure"]
#: "local": send no timing commands, the field controllers run the map's own programs.
STRATEGIES: Final[tuple[str, ...]] = ("local", "fixed", "actuated", "max-pressure")


@dataclass(frozen=True)
class SafetyConfig:
    """Limits every signal decision is checked against (floors where the map's programs are silent)."""

    min_green_s: float = 5.0  #: configured minimum green of a link (the program's own runs may be shorter)
    amber_s: float = 3.0  #: amber of a link the programs never show amber for
    all_red_s: float = 2.0  #: all-red before a conflicting green, for pairs the programs never clear
    max_red_s: float = 120.0  #: maximum red of a link (raised to the program's own longest red)
    min_red_s: float = 1.0  #: a link that turned red stays red this long (or the program's shortest red)
    ped_walk_s: float = 7.0  #: walk time of a pedestrian crossing link
    ped_speed_mps: float = 1.2  #: crossing speed for the pedestrian clearance
    default_expiry_s: float = 120.0  #: expiry given to a command that carries none
    max_expiry_s: float = 600.0  #: longest expiry accepted
    #: treat long fixed green phases (min == max, >= ``adapt_min_duration_s``) as adjustable,
    #: with min = max(min_green_s, 0.5 duration) and max = 2 duration (off: field controllers
    #: hold such phases to the map's minDur/maxDur anyway)
    adapt_fixed_phases: bool = False
    adapt_min_duration_s: float = 10.0


@dataclass(frozen=True)
class FixedTimeConfig:
    """Webster fixed-time plans recomputed from measured flows."""

    saturation_vph: float = 1800.0  #: saturation flow per lane, veh/h
    recompute_s: float = 300.0  #: recompute period, s
    min_cycle_s: float = 40.0
    max_cycle_s: float = 150.0
    startup_lost_s: float = 2.0  #: lost time per stage on top of the all-red
    #: coordinated chains: lists of controller ids along an arterial; they share one cycle and
    #: get offsets = travel time from the first junction at ``progression_speed_mps``
    arterials: tuple[tuple[str, ...], ...] = ()
    progression_speed_mps: float = 12.0


@dataclass(frozen=True)
class ActuatedConfig:
    """Gap-out / max-out actuation."""

    gap_s: float = 3.0  #: the green is extended while a served lane saw a vehicle within this gap
    extension_s: float = 2.0  #: each extension, s
    #: a served lane whose queue is still discharging (queued vehicles) also extends the green
    queue_extends: bool = True


@dataclass(frozen=True)
class MaxPressureConfig:
    """Cyclic max-pressure (the program's stage order; the stage's green ends on lower pressure)."""

    hysteresis_veh: float = 0.0  #: another stage must beat the current one by this much
    extension_s: float = 2.0  #: a kept stage runs at least this much longer (the decision slot)
    #: vehicles counted on a lane: "count" (all on it), "queue" (its stop-line queue) or
    #: "queue+arriving" (the queue plus moving vehicles in the detector zone)
    measure: str = "count"
    #: do not cut a discharging platoon: keep the stage while its ending lanes saw a vehicle
    #: within this gap (s); 0 disables
    platoon_gap_s: float = 2.5
    #: count the vehicles on lanes feeding (fed by) a short approach (exit) lane through
    #: unsignalised connections, up to this far, m; 0 counts the lane alone
    reach_m: float = 150.0


@dataclass(frozen=True)
class TspConfig:
    """Transit signal priority."""

    enabled: bool = True
    detect_range_m: float = 200.0  #: buses farther from the stop line are not considered
    max_eta_s: float = 40.0
    max_extension_s: float = 15.0
    budget_s_per_cycle: float = 20.0  #: granted seconds of priority per controller per cycle
    early_threshold_s: float = -30.0  #: a bus earlier than this (schedule_dev below it) gets none
    #: a bus at least this late may draw the whole budget; an earlier one a share falling linearly
    #: to none at ``early_threshold_s`` (the rest stays for later buses)
    late_full_s: float = 0.0
    #: acceleration a bus's ETA assumes up to the speed limit (a bus pulling out of a stop), m/s²
    bus_accel_mps2: float = 1.0
    margin_s: float = 2.0  #: an extended green ends this long after the bus arrives
    #: an early green starts this long before the bus arrives (it would brake for the red before)
    green_lead_s: float = 5.0
    expiry_s: float = 20.0


@dataclass(frozen=True)
class GlosaConfig:
    """Green light optimal speed advisory."""

    enabled: bool = True
    range_m: float = 300.0
    v_min_mps: float = 5.0
    margin_s: float = 1.5  #: arrive this long after green starts / before it ends
    headway_s: float = 2.0  #: discharge headway of a queued vehicle ahead
    horizon_s: float = 120.0
    expiry_s: float = 3.0
    resend_s: float = 1.0  #: re-send an unchanged advisory this often
    period_s: float = 0.5  #: compute advice this often
    min_confidence_pct: float = 0.0  #: windows predicted with less confidence are not used


@dataclass(frozen=True)
class RoutingConfig:
    """Routing on live edge travel times."""

    enabled: bool = True
    period_s: float = 10.0
    min_gain_s: float = 30.0  #: advise a new route when it saves this much ...
    min_gain_frac: float = 0.15  #: ... and this fraction of the current route's time
    closed_penalty_s: float = 3600.0
    expiry_s: float = 60.0


@dataclass(frozen=True)
class ControlConfig:
    """Everything the control layer is configured with.

    Parameters
    ----------
    strategy
        Default strategy of every signal controller.
    per_junction
        Strategy of named controllers (controller id -> strategy name), overriding the default.
    """

    strategy: StrategyName = "actuated"
    per_junction: dict[str, str] = field(default_factory=dict)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    fixed: FixedTimeConfig = field(default_factory=FixedTimeConfig)
    actuated: ActuatedConfig = field(default_factory=ActuatedConfig)
    max_pressure: MaxPressureConfig = field(default_factory=MaxPressureConfig)
    tsp: TspConfig = field(default_factory=TspConfig)
    glosa: GlosaConfig = field(default_factory=GlosaConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    command_expiry_s: float = 10.0  #: expiry of strategy timing commands beyond their planned end

    def strategy_of(self, tls_id: str) -> str:
        """The strategy name of one controller."""
        return self.per_junction.get(tls_id, self.strategy)

    def __post_init__(self) -> None:
        for name in [self.strategy, *self.per_junction.values()]:
            if name not in STRATEGIES:
                raise ValueError(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ControlConfig:
        """Build from nested plain dicts (unknown keys raise ``ValueError`` naming them)."""
        subs = {
            "safety": SafetyConfig,
            "fixed": FixedTimeConfig,
            "actuated": ActuatedConfig,
            "max_pressure": MaxPressureConfig,
            "tsp": TspConfig,
            "glosa": GlosaConfig,
            "routing": RoutingConfig,
        }
        known = {f.name for f in fields(cls)}
        bad = sorted(set(d) - known)
        if bad:
            raise ValueError(f"unknown control settings {bad}; known: {sorted(known)}")
        kw: dict[str, Any] = {}
        for k, v in d.items():
            if k in subs and isinstance(v, dict):
                sub = subs[k]
                sub_known = {f.name for f in fields(sub)}
                sbad = sorted(set(v) - sub_known)
                if sbad:
                    raise ValueError(f"unknown {k} settings {sbad}; known: {sorted(sub_known)}")
                kw[k] = replace(sub(), **v)
            else:
                kw[k] = v
        return cls(**kw)
