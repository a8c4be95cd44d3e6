"""Multi-sensor tracking and the traffic picture, over arrays of all objects at once."""

from fusion.assignment import assign
from fusion.association import GNNAssociator
from fusion.attributes import AttributeVoter
from fusion.deleter import MissDeleter
from fusion.evaluate import Scorecard, tracks_from_truth
from fusion.events import EVENT_DTYPE, EventRules
from fusion.gating import CHI2_2D_999, MahalanobisGate
from fusion.grid import grid_pairs
from fusion.initiator import MofNInitiator
from fusion.lanes import QueueRule
from fusion.measurements import NoiseDefaults
from fusion.metrics import Gospa, IdentityScore, gospa, queue_error
from fusion.picture import EDGE_STATE_DTYPE, Picture, PictureState
from fusion.predictor import KalmanPredictor
from fusion.signals import link_states
from fusion.tracker import Tracker
from fusion.tracks import TRACK_DTYPE, TrackStore
from fusion.updater import KalmanUpdater

__all__ = [
    "CHI2_2D_999",
    "EDGE_STATE_DTYPE",
    "EVENT_DTYPE",
    "TRACK_DTYPE",
    "AttributeVoter",
    "EventRules",
    "GNNAssociator",
    "Gospa",
    "IdentityScore",
    "KalmanPredictor",
    "KalmanUpdater",
    "MahalanobisGate",
    "MissDeleter",
    "MofNInitiator",
    "NoiseDefaults",
    "Picture",
    "PictureState",
    "QueueRule",
    "Scorecard",
    "TrackStore",
    "Tracker",
    "assign",
    "gospa",
    "grid_pairs",
    "link_states",
    "queue_error",
    "tracks_from_truth",
]
