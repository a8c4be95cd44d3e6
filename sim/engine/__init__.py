"""The traffic engine: vectorised IDM car following, lane changes, signalised and priority
junctions, bus stops, parking and incidents on a :class:`roadnet.RoadNetwork`."""

from sim.engine.engine import DEFAULT_PARAMS, Engine
from sim.engine.idm import equilibrium_gap, idm_accel
from sim.engine.records import STOP_EVENT_DTYPE, TRIP_DTYPE
from sim.engine.signals_fixed import FixedTimeSignals
from sim.engine.truth import TruthRecorder, load_truth

__all__ = [
    "DEFAULT_PARAMS",
    "STOP_EVENT_DTYPE",
    "TRIP_DTYPE",
    "Engine",
    "FixedTimeSignals",
    "TruthRecorder",
    "equilibrium_gap",
    "idm_accel",
    "load_truth",
]
