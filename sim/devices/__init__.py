"""Virtual field devices: signal controllers, roadside sensors (RSUs, lamp posts) and OBUs."""

from sim.devices.signals import CommandResult, SignalControllers

__all__ = ["CommandResult", "SignalControllers"]
