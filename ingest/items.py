"""What the decoder returns: a routed topic, a decoded message, or a rejection with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from ingest.reasons import Reason
from proto import pb


class Kind(IntEnum):
    """What a decoded message carries."""

    PERCEPTION = 1
    BSM = 2
    BSM_BATCH = 3
    SPAT = 4
    PARKING = 5
    LAMP_STATUS = 6
    PRIORITY_REQUEST = 7


#: The body of a decoded message: an array of ``proto.PERCEPTION_DTYPE`` (perception) or
#: ``proto.BSM_DTYPE`` (BSM batch), shape (N,), or the protobuf message itself.
Body: TypeAlias = npt.NDArray[np.void] | pb.Bsm | pb.Spat | pb.ParkingStatus | pb.LampPostStatus | pb.PriorityRequest


@dataclass(frozen=True, slots=True)
class Route:
    """A topic of the tree that ingest consumes.

    ``sender`` is ``"{kind}/{device_id}"``: the key for sequence, rate and clock state, unique
    even when two device kinds share an id. ``bodies`` are the envelope body names allowed on
    the channel; ``std`` marks a standard-message frame (no envelope).
    """

    topic: str
    kind: str
    device_id: str
    channel: str
    sender: str
    bodies: frozenset[str]
    std: bool = False


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message set aside: why, a human-readable detail, and where it came from."""

    reason: Reason
    detail: str
    topic: str
    sender: str = ""


@dataclass(slots=True)
class Decoded:
    """One validated message.

    Attributes
    ----------
    kind
        What ``body`` is.
    sender
        ``"{kind}/{device_id}"`` of the topic.
    seq, sent_ns
        From the envelope (``seq`` -1 for standard messages, which carry none).
    recv_ns
        Platform receive time, ns since the epoch.
    time_ns
        The body's own time (capture / measurement / timestamp) on the platform clock, ns.
    correction_ns
        Added to the sender's timestamps to bring them to the platform clock (per-row times of
        a BSM batch still need it), ns.
    body
        See :data:`Body`.
    sensor
        Perception only: the sensor's registry key (``sender`` or ``sender:sensor_id``).
    has_velocity
        Perception only: the frame carries speed and heading columns.
    """

    kind: Kind
    sender: str
    seq: int
    sent_ns: int
    recv_ns: int
    time_ns: int
    correction_ns: int
    body: Body
    sensor: str = ""
    has_velocity: bool = True
