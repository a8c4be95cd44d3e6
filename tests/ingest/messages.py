"""Builders of valid contract payloads for ingest tests (each test then breaks what it needs)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import proto
from proto import pb
from roadnet.frames import DEFAULT_ORIGIN, Frame

FRAME = Frame.around(*DEFAULT_ORIGIN)
LAT0, LON0 = DEFAULT_ORIGIN


def objects(x: npt.ArrayLike, y: npt.ArrayLike, *, speed: float = 10.0, heading: float = np.pi / 2) -> np.ndarray:
    """A PERCEPTION_DTYPE array of objects at local (x, y) m, moving at ``speed`` m/s, compass ``heading`` rad."""
    xa = np.atleast_1d(np.asarray(x, dtype=np.float64))
    lat, lon = FRAME.to_wgs84(xa, np.atleast_1d(np.asarray(y, dtype=np.float64)))
    a = np.zeros(len(xa), dtype=proto.PERCEPTION_DTYPE)
    a["local_id"] = np.arange(len(xa))
    a["lat"], a["lon"], a["speed"], a["heading"] = lat, lon, speed, heading
    a["length"], a["width"], a["cls"], a["confidence"] = 4.5, 1.8, pb.OBJECT_CLASS_CAR, 0.9
    a["cov_ee"], a["cov_en"], a["cov_nn"] = 0.25, 0.0, 0.25
    return a


def perception_env(sender: str, seq: int, t_ns: int, arr: np.ndarray | None = None) -> pb.Envelope:
    """An envelope of one perception frame captured and sent at ``t_ns``."""
    arr = objects([0.0, 10.0], [0.0, 5.0]) if arr is None else arr
    return proto.envelope(sender, seq, sent_ns=t_ns, perception=proto.array_to_perception(arr, sender, t_ns))


def bsm_env(vehicle: str, seq: int, t_ns: int, **fields: int | str) -> pb.Envelope:
    """An envelope of one BSM at the frame origin heading north at 10 m/s, with ``fields`` overridden."""
    b = pb.Bsm(
        vehicle_id=vehicle,
        measured_ns=t_ns,
        lat_e7=round(LAT0 * 1e7),
        lon_e7=round(LON0 * 1e7),
        speed_002=500,
        heading_00125=0,
        object_class=pb.OBJECT_CLASS_BUS,
        length_cm=1200,
        width_cm=250,
    )
    for k, v in fields.items():
        setattr(b, k, v)
    return proto.envelope(vehicle, seq, sent_ns=t_ns, bsm=b)


def spat_env(junction: str, seq: int, t_ns: int, phase: int = 0) -> pb.Envelope:
    """An envelope of one SPaT of ``junction`` with two signal groups."""
    s = pb.Spat(junction_id=junction, timestamp_ns=t_ns, phase_index=phase, mode=pb.CONTROL_MODE_LOCAL_PLAN)
    s.groups.add(group_id=1, state=pb.LIGHT_STATE_PROTECTED_GREEN)
    s.groups.add(group_id=2, state=pb.LIGHT_STATE_STOP_AND_REMAIN)
    return proto.envelope(junction, seq, sent_ns=t_ns, spat=s)


def rsu_topic(rsu: str) -> str:
    """The perception uplink of ``rsu``."""
    return proto.topic("rsu", rsu, "perception", "up")


def obu_topic(vehicle: str) -> str:
    """The BSM uplink of ``vehicle``."""
    return proto.topic("obu", vehicle, "bsm", "up")
