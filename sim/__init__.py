"""The CARLA-free city simulator: traffic engine, virtual field devices, scenarios and KPIs."""
