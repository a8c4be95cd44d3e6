"""Choose the stage implementations: ``fusion``'s tracker and picture, ``control``'s decisions
and overrides when that package is installed, the :mod:`cloud.standins` otherwise (logged, so
nobody mistakes one for the other)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from cloud.audit import AuditLog
from cloud.contracts import Decider, OverrideGate, OverrideOutcome, OverrideRequest
from cloud.core import PlatformCore
from cloud.picture import FusionPictureBuilder
from cloud.standins import StandinDecider, StandinOverrideGate
from roadnet import corridor, grid, load_any
from roadnet.model import RoadNetwork

LOG = logging.getLogger("xiangjiang.cloud")


def load_city(map_path: str | Path | None, city: str = "grid") -> RoadNetwork:
    """The map at ``map_path``, or the built-in generated city (``grid``: 3 x 3, ``corridor``: 5)."""
    if map_path:
        return load_any(map_path)
    return corridor(5) if city == "corridor" else grid(3, 3)


def control_available() -> bool:
    """Whether the ``control`` stage is installed."""
    try:
        return importlib.util.find_spec("control.service") is not None
    except ModuleNotFoundError:
        return False


class ControlOverrides:
    """``control``'s :class:`OverrideManager` as a :class:`cloud.contracts.OverrideGate`."""

    audits = True

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def submit(self, request: OverrideRequest, now: float) -> OverrideOutcome:
        """Through control's safety layer (accepted, corrected, queued or refused)."""
        o = self.manager.submit(request, now)
        return OverrideOutcome(bool(o.accepted), str(o.reason), o.command, str(o.override_id), bool(o.queued))

    def active(self, now: float) -> list[str]:
        """Controller ids with an override in force."""
        return list(self.manager.active(now))


def control_audit_sink(audit: AuditLog) -> Any:
    """A ``control`` audit sink writing into the platform's :class:`AuditLog`."""

    def sink(entry: Any) -> None:
        detail = f": {entry.detail}" if entry.detail else ""
        audit.record(
            entry.who or "control",
            "override",
            role="operator" if entry.who else "system",
            target=entry.junction_id,
            reason=entry.why,
            outcome=f"{entry.outcome}{detail}",
            details={"what": entry.what, "override_id": entry.override_id},
            time=entry.when_ns / 1e9,
        )

    return sink


def build_core(net: RoadNetwork, audit: AuditLog | None = None) -> PlatformCore:
    """A :class:`PlatformCore` over ``net`` with the best available stages.

    Parameters
    ----------
    net
        The road network.
    audit
        Where control's override audit trail goes (its own in-memory list when None).
    """
    from fusion import Tracker

    decider: Decider
    gate: OverrideGate
    if control_available():
        from control import ControlService

        service = ControlService(net, audit=control_audit_sink(audit) if audit is not None else None)
        decider, gate = service, ControlOverrides(service.overrides)
    else:
        standin = StandinOverrideGate(net)
        decider, gate = StandinDecider(net, standin), standin
        LOG.warning("the control stage is not installed: using cloud.standins for decisions and overrides")
    return PlatformCore(
        net, tracker=Tracker(), picture_builder=FusionPictureBuilder(net), decider=decider, overrides=gate
    )
