"""Signal control behind one safety layer, transit priority, SPaT prediction, GLOSA, routing,
parking guidance and audited operator overrides."""

from control.config import (
    ActuatedConfig,
    ControlConfig,
    FixedTimeConfig,
    GlosaConfig,
    MaxPressureConfig,
    RoutingConfig,
    SafetyConfig,
    TspConfig,
)
from control.lanestate import LaneStateEstimator
from control.machine import SignalMachine
from control.overrides import AuditEntry, InMemoryAudit, OverrideManager, OverrideOutcome, OverrideRequest
from control.parking import ParkingGuide, ParkingOption
from control.picture import Picture
from control.plan import ControllerPlan, build_plans
from control.routing import Router, closed_lanes
from control.safety import SafetyLayer, Verdict
from control.service import ControlService
from control.spat import Prediction, predict, spat_message

__all__ = [
    "ActuatedConfig",
    "AuditEntry",
    "ControlConfig",
    "ControlService",
    "ControllerPlan",
    "FixedTimeConfig",
    "GlosaConfig",
    "InMemoryAudit",
    "LaneStateEstimator",
    "MaxPressureConfig",
    "OverrideManager",
    "OverrideOutcome",
    "OverrideRequest",
    "ParkingGuide",
    "ParkingOption",
    "Picture",
    "Prediction",
    "Router",
    "RoutingConfig",
    "SafetyConfig",
    "SafetyLayer",
    "SignalMachine",
    "TspConfig",
    "Verdict",
    "build_plans",
    "closed_lanes",
    "predict",
    "spat_message",
]
