"""The road network: lanes, junctions, signals, conflicts, stops, parking; SUMO import; frames."""

from roadnet.builder import LaneSpec, NetworkBuilder
from roadnet.errors import MapError
from roadnet.frames import Frame, heading_of, wrap_angle
from roadnet.generators import Timing, corridor, grid
from roadnet.info import summary
from roadnet.io import load_any, load_map, save_map
from roadnet.matching import MapMatcher, Match
from roadnet.model import RoadNetwork
from roadnet.sumo import load_sumo
from roadnet.validate import Issue, validate

__all__ = [
    "Frame",
    "Issue",
    "LaneSpec",
    "MapError",
    "MapMatcher",
    "Match",
    "NetworkBuilder",
    "RoadNetwork",
    "Timing",
    "corridor",
    "grid",
    "heading_of",
    "load_any",
    "load_map",
    "load_sumo",
    "save_map",
    "summary",
    "validate",
    "wrap_angle",
]
