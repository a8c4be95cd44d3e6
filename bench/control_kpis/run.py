"""One closed-loop run: a scenario in lock-step with the platform's control, its KPIs.

The same pieces ``xj sim run`` wires (``sim.scenario``, ``sim.engine.Engine``,
``sim.devices.FieldDevices``, ``sim.lockstep.run``, ``sim.kpi``), called in-process so that the
benchmark can pass control settings the CLI does not expose (``config``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"


@dataclass(frozen=True)
class RunSpec:
    """What to run: scenario file, control strategy ("local": the map's programs), TSP, GLOSA, seed."""

    scenario: str
    control: str = "local"
    tsp: bool = False
    glosa: bool = False
    seed: int = 1
    until: float | None = None  #: simulated s (None: the scenario's duration)
    config: dict[str, Any] = field(default_factory=dict)
    picture: str = "truth"  #: "truth" (oracle lane states) or "fused" (fusion's tracker and picture)
    obu_share: float | None = None  #: share of vehicles with an OBU (None: the scenario's)
    compliance: float | None = None  #: share of drivers following advice (None: the scenario's)
    label: str = ""

    @property
    def name(self) -> str:
        """A short label: control, +tsp, +glosa."""
        if self.label:
            return self.label
        return self.control + ("+tsp" if self.tsp else "") + ("+glosa" if self.glosa else "")


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Run one closed loop and return its KPIs (``sim.kpi`` keys plus run facts)."""
    from cloud.lockstep_platform import make_platform
    from sim.devices.field import FieldDevices
    from sim.devices.obu import GLOSA_COMPLIANT, GLOSA_NONCOMPLIANT
    from sim.engine import Engine
    from sim.kpi import engine_kpis
    from sim.lockstep import run
    from sim.scenario import load_scenario

    path = Path(spec.scenario)
    scn = load_scenario(path if path.exists() else SCENARIOS / f"{spec.scenario}.toml")
    until = scn.duration if spec.until is None else float(spec.until)
    if spec.obu_share is not None:
        scn = replace(scn, obu_share=spec.obu_share)
    if spec.compliance is not None:
        obu = replace(scn.devices.obu, compliance=spec.compliance)
        scn = replace(scn, devices=replace(scn.devices, obu=obu))
    net, demand = scn.build(seed=spec.seed, until=until)
    platform = None
    if spec.control != "local" or spec.tsp or spec.glosa or spec.config or spec.picture != "truth":
        opts = {
            "control": None if spec.control == "local" else spec.control,
            "tsp": spec.tsp,
            "glosa": spec.glosa,
            "seed": spec.seed,
            "epoch_ns": scn.epoch_ns,
            "dt": scn.step,
            "scenario": scn.name,
            "config": spec.config,
            "picture": spec.picture,
        }
        platform = make_platform(net, opts)
    engine = Engine(net, demand, seed=spec.seed, dt=scn.step)
    devices = FieldDevices(net, scn.devices, epoch_ns=scn.epoch_ns, seed=spec.seed, t0=float(engine.t))
    w0 = time.perf_counter()
    result = run(engine, devices, platform, float(engine.t) + until)
    kpi = engine_kpis(engine, groups=result.groups)
    out: dict[str, Any] = {
        "scenario": scn.name,
        "run": spec.name,
        "control": spec.control,
        "tsp": spec.tsp,
        "glosa": spec.glosa,
        "seed": spec.seed,
        **{k: v for k, v in kpi.items() if not isinstance(v, dict)},
        "glosa_stops_compliant": kpi.get(f"{GLOSA_COMPLIANT}_stops", math.nan),
        "glosa_stops_noncompliant": kpi.get(f"{GLOSA_NONCOMPLIANT}_stops", math.nan),
        "vehicles_in_network": int(kpi["vehicles_inserted"]) - int(kpi["vehicles_arrived"]),
        "commands_refused": int(result.devices.get("commands_refused", 0)),
        "run_wall_s": time.perf_counter() - w0,
    }
    if platform is not None:
        st = platform.stats()  # type: ignore[attr-defined]
        out["safety_rejected"] = int(st["safety"].get("rejected", 0))
        out["tsp_granted"] = int(st["tsp"].get("granted", 0))
    return out


def with_seed(spec: RunSpec, seed: int) -> RunSpec:
    """The same run with another seed."""
    return replace(spec, seed=seed)
