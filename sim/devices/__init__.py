"""Virtual field devices: signal controllers, roadside sensors (RSUs, lamp posts) and OBUs."""

from sim.devices.field import DeviceConfig, Engine, FieldDevices, Tick
from sim.devices.obu import GLOSA_COMPLIANT, GLOSA_NONCOMPLIANT, AdvisoryResult, ObuParams, Obus
from sim.devices.sensors import (
    LAMP_DEFAULTS,
    RSU_DEFAULTS,
    Delivered,
    SensorParams,
    Sensors,
    SensorSpec,
    default_layout,
)
from sim.devices.signals import CommandResult, SignalControllers
from sim.devices.vehicles import VehicleIndex, wire_id

__all__ = [
    "GLOSA_COMPLIANT",
    "GLOSA_NONCOMPLIANT",
    "LAMP_DEFAULTS",
    "RSU_DEFAULTS",
    "AdvisoryResult",
    "CommandResult",
    "Delivered",
    "DeviceConfig",
    "Engine",
    "FieldDevices",
    "ObuParams",
    "Obus",
    "SensorParams",
    "SensorSpec",
    "Sensors",
    "SignalControllers",
    "Tick",
    "VehicleIndex",
    "default_layout",
    "wire_id",
]
