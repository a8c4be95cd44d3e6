"""Traffic demand: SUMO route files and configurations, OD matrices, generated trips and bus lines."""

from sim.demand.generate import bus_lines, grid_demand, random_trips, straight_paths
from sim.demand.model import Demand, DemandBuilder, concat
from sim.demand.od import ODError, load_od, od_trips
from sim.demand.routing import EdgeGraph, Router
from sim.demand.sumo_routes import load_routes, load_sumocfg
from sim.demand.vtypes import VTypes, default_vtypes
from sim.demand.writer import write_routes

__all__ = [
    "Demand",
    "DemandBuilder",
    "EdgeGraph",
    "ODError",
    "Router",
    "VTypes",
    "bus_lines",
    "concat",
    "default_vtypes",
    "grid_demand",
    "load_od",
    "load_routes",
    "load_sumocfg",
    "od_trips",
    "random_trips",
    "straight_paths",
    "write_routes",
]
