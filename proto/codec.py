"""Vectorised codecs between the hot messages and numpy structured arrays.

The arrays carry SI values (metres, m/s, radians) but still WGS84 positions and compass
headings: turning them into the map's local frame is the job of whoever knows the map
(``roadnet.frames``). Column names and units are fixed by :data:`PERCEPTION_DTYPE` and
:data:`BSM_DTYPE`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from proto import units
from proto import xiangjiang_pb2 as pb

SCHEMA_VERSION = 1

#: One row per perceived object. lat/lon in degrees, speed m/s, heading radians clockwise from
#: north, length/width metres, confidence 0..1, covariance m^2 in local east/north (NaN unknown).
PERCEPTION_DTYPE = np.dtype(
    [
        ("local_id", np.uint32),
        ("lat", np.float64),
        ("lon", np.float64),
        ("speed", np.float64),
        ("heading", np.float64),
        ("length", np.float32),
        ("width", np.float32),
        ("cls", np.uint8),
        ("confidence", np.float32),
        ("cov_ee", np.float32),
        ("cov_en", np.float32),
        ("cov_nn", np.float32),
    ]
)

#: One row per BSM. t_ns sender measurement time; units as for PERCEPTION_DTYPE;
#: accel m/s^2; schedule_dev seconds (+ = late).
BSM_DTYPE = np.dtype(
    [
        ("vehicle_id", "U40"),
        ("t_ns", np.int64),
        ("lat", np.float64),
        ("lon", np.float64),
        ("speed", np.float64),
        ("heading", np.float64),
        ("accel", np.float64),
        ("cls", np.uint8),
        ("bus_line", "U16"),
        ("schedule_dev", np.float64),
        ("length", np.float32),
        ("width", np.float32),
    ]
)


class CodecError(ValueError):
    """A message whose columns are inconsistent; the text names the field."""


def now_ns() -> int:
    """Wall-clock time in ns since the epoch (the contract's time base)."""
    return time.time_ns()


def envelope(sender_id: str, seq: int, sent_ns: int | None = None, **body: Any) -> pb.Envelope:
    """Wrap one body message in an :class:`Envelope`.

    Example: ``envelope("rsu-1", 7, perception=frame)``.
    """
    if len(body) != 1:
        raise CodecError("envelope takes exactly one body keyword, e.g. perception=frame")
    env = pb.Envelope(
        sender_id=sender_id,
        seq=seq,
        sent_ns=now_ns() if sent_ns is None else sent_ns,
        schema_version=SCHEMA_VERSION,
    )
    ((name, msg),) = body.items()
    getattr(env, name).CopyFrom(msg)
    return env


def _col(values: Any, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    return np.fromiter(values, dtype=dtype, count=len(values))


def perception_to_array(frame: pb.PerceptionFrame) -> npt.NDArray[np.void]:
    """Decode a :class:`PerceptionFrame` into an array of :data:`PERCEPTION_DTYPE`, shape (N,).

    Raises
    ------
    CodecError
        When a column's length differs from ``local_id``'s (optional columns may be empty).
    """
    n = len(frame.local_id)
    out = np.zeros(n, dtype=PERCEPTION_DTYPE)
    required = ("lat_e7", "lon_e7")
    for name in required:
        if len(getattr(frame, name)) != n:
            raise CodecError(f"PerceptionFrame.{name} has {len(getattr(frame, name))} values, local_id {n}")
    out["local_id"] = _col(frame.local_id, np.uint32)
    out["lat"] = units.e7_to_deg(_col(frame.lat_e7, np.int32))
    out["lon"] = units.e7_to_deg(_col(frame.lon_e7, np.int32))
    optional: dict[str, tuple[str, Any, Any]] = {
        "speed_002": ("speed", np.uint32, units.speed_from_002),
        "heading_00125": ("heading", np.uint32, units.compass_from_00125),
        "length_cm": ("length", np.uint32, units.cm_to_m),
        "width_cm": ("width", np.uint32, units.cm_to_m),
    }
    for wire, (col, dt, conv) in optional.items():
        vals = getattr(frame, wire)
        if len(vals) == n:
            out[col] = conv(_col(vals, dt))
        elif len(vals):
            raise CodecError(f"PerceptionFrame.{wire} has {len(vals)} values, local_id {n}")
    if len(frame.object_class) == n:
        out["cls"] = _col(frame.object_class, np.uint8)
    elif len(frame.object_class):
        raise CodecError(f"PerceptionFrame.object_class has {len(frame.object_class)} values, local_id {n}")
    if len(frame.confidence_pct) == n:
        out["confidence"] = _col(frame.confidence_pct, np.float32) / 100.0
    elif len(frame.confidence_pct):
        raise CodecError(f"PerceptionFrame.confidence_pct has {len(frame.confidence_pct)} values, local_id {n}")
    else:
        out["confidence"] = 1.0
    for c in ("cov_ee", "cov_en", "cov_nn"):
        vals = getattr(frame, c)
        if len(vals) == n:
            out[c] = _col(vals, np.float32)
        elif len(vals):
            raise CodecError(f"PerceptionFrame.{c} has {len(vals)} values, local_id {n}")
        else:
            out[c] = np.nan
    return out


def array_to_perception(arr: npt.NDArray[np.void], sensor_id: str, capture_ns: int) -> pb.PerceptionFrame:
    """Encode an array of :data:`PERCEPTION_DTYPE` (shape (N,)) as a :class:`PerceptionFrame`.

    Covariance columns are sent only when every row has them (no NaN).
    """
    f = pb.PerceptionFrame(sensor_id=sensor_id, capture_ns=capture_ns)
    f.local_id.extend(arr["local_id"].tolist())
    f.lat_e7.extend(units.deg_to_e7(arr["lat"]).tolist())
    f.lon_e7.extend(units.deg_to_e7(arr["lon"]).tolist())
    f.speed_002.extend(units.speed_to_002(arr["speed"]).tolist())
    f.heading_00125.extend(units.compass_to_00125(arr["heading"]).tolist())
    f.length_cm.extend(units.m_to_cm(arr["length"]).tolist())
    f.width_cm.extend(units.m_to_cm(arr["width"]).tolist())
    f.object_class.extend(arr["cls"].tolist())
    f.confidence_pct.extend(np.clip(np.rint(arr["confidence"] * 100.0), 0, 100).astype(np.uint32).tolist())
    if len(arr) and not np.isnan(arr["cov_ee"]).any():
        f.cov_ee.extend(arr["cov_ee"].tolist())
        f.cov_en.extend(arr["cov_en"].tolist())
        f.cov_nn.extend(arr["cov_nn"].tolist())
    return f


def bsms_to_array(bsms: Sequence[pb.Bsm]) -> npt.NDArray[np.void]:
    """Decode many single-vehicle :class:`Bsm` messages into :data:`BSM_DTYPE`, shape (N,)."""
    n = len(bsms)
    out = np.zeros(n, dtype=BSM_DTYPE)
    if n == 0:
        return out
    out["vehicle_id"] = [b.vehicle_id for b in bsms]
    out["t_ns"] = np.fromiter((b.measured_ns for b in bsms), np.int64, n)
    out["lat"] = units.e7_to_deg(np.fromiter((b.lat_e7 for b in bsms), np.int32, n))
    out["lon"] = units.e7_to_deg(np.fromiter((b.lon_e7 for b in bsms), np.int32, n))
    out["speed"] = units.speed_from_002(np.fromiter((b.speed_002 for b in bsms), np.uint32, n))
    out["heading"] = units.compass_from_00125(np.fromiter((b.heading_00125 for b in bsms), np.uint32, n))
    out["accel"] = units.accel_from_001(np.fromiter((b.accel_001 for b in bsms), np.int32, n))
    out["cls"] = np.fromiter((b.object_class for b in bsms), np.uint8, n)
    out["bus_line"] = [b.bus_line for b in bsms]
    out["schedule_dev"] = np.fromiter((b.schedule_deviation_ms for b in bsms), np.float64, n) / 1000.0
    out["length"] = units.cm_to_m(np.fromiter((b.length_cm for b in bsms), np.uint32, n))
    out["width"] = units.cm_to_m(np.fromiter((b.width_cm for b in bsms), np.uint32, n))
    return out


def bsm_batch_to_array(batch: pb.BsmBatch) -> npt.NDArray[np.void]:
    """Decode a columnar :class:`BsmBatch` into :data:`BSM_DTYPE`, shape (N,).

    Raises
    ------
    CodecError
        When a required column's length differs from ``vehicle_id``'s.
    """
    n = len(batch.vehicle_id)
    out = np.zeros(n, dtype=BSM_DTYPE)
    cols: dict[str, tuple[str, Any, Any, bool]] = {
        "measured_ns": ("t_ns", np.int64, None, True),
        "lat_e7": ("lat", np.int32, units.e7_to_deg, True),
        "lon_e7": ("lon", np.int32, units.e7_to_deg, True),
        "speed_002": ("speed", np.uint32, units.speed_from_002, True),
        "heading_00125": ("heading", np.uint32, units.compass_from_00125, True),
        "accel_001": ("accel", np.int32, units.accel_from_001, False),
        "object_class": ("cls", np.uint8, None, False),
        "schedule_deviation_ms": ("schedule_dev", np.float64, lambda v: v / 1000.0, False),
        "length_cm": ("length", np.uint32, units.cm_to_m, False),
        "width_cm": ("width", np.uint32, units.cm_to_m, False),
    }
    out["vehicle_id"] = list(batch.vehicle_id)
    for wire, (col, dt, conv, required) in cols.items():
        vals = getattr(batch, wire)
        if len(vals) == n:
            v = _col(vals, dt)
            out[col] = conv(v) if conv is not None else v
        elif required or len(vals):
            raise CodecError(f"BsmBatch.{wire} has {len(vals)} values, vehicle_id {n}")
    if len(batch.bus_line) == n:
        out["bus_line"] = list(batch.bus_line)
    elif len(batch.bus_line):
        raise CodecError(f"BsmBatch.bus_line has {len(batch.bus_line)} values, vehicle_id {n}")
    return out


def array_to_bsm_batch(arr: npt.NDArray[np.void]) -> pb.BsmBatch:
    """Encode an array of :data:`BSM_DTYPE` (shape (N,)) as a columnar :class:`BsmBatch`."""
    b = pb.BsmBatch()
    b.vehicle_id.extend(arr["vehicle_id"].tolist())
    b.measured_ns.extend(arr["t_ns"].tolist())
    b.lat_e7.extend(units.deg_to_e7(arr["lat"]).tolist())
    b.lon_e7.extend(units.deg_to_e7(arr["lon"]).tolist())
    b.speed_002.extend(units.speed_to_002(arr["speed"]).tolist())
    b.heading_00125.extend(units.compass_to_00125(arr["heading"]).tolist())
    b.accel_001.extend(units.accel_to_001(arr["accel"]).tolist())
    b.object_class.extend(arr["cls"].tolist())
    b.bus_line.extend(arr["bus_line"].tolist())
    b.schedule_deviation_ms.extend(np.rint(arr["schedule_dev"] * 1000.0).astype(np.int32).tolist())
    b.length_cm.extend(units.m_to_cm(arr["length"]).tolist())
    b.width_cm.extend(units.m_to_cm(arr["width"]).tolist())
    return b


def array_to_bsms(arr: npt.NDArray[np.void]) -> list[pb.Bsm]:
    """Encode each row of a :data:`BSM_DTYPE` array as its own :class:`Bsm` (one per OBU)."""
    lat = units.deg_to_e7(arr["lat"]).tolist()
    lon = units.deg_to_e7(arr["lon"]).tolist()
    spd = units.speed_to_002(arr["speed"]).tolist()
    hdg = units.compass_to_00125(arr["heading"]).tolist()
    acc = units.accel_to_001(arr["accel"]).tolist()
    dev = np.rint(arr["schedule_dev"] * 1000.0).astype(np.int32).tolist()
    lcm = units.m_to_cm(arr["length"]).tolist()
    wcm = units.m_to_cm(arr["width"]).tolist()
    ids = arr["vehicle_id"].tolist()
    tns = arr["t_ns"].tolist()
    cls = arr["cls"].tolist()
    lines = arr["bus_line"].tolist()
    return [
        pb.Bsm(
            vehicle_id=ids[i],
            measured_ns=tns[i],
            lat_e7=lat[i],
            lon_e7=lon[i],
            speed_002=spd[i],
            heading_00125=hdg[i],
            accel_001=acc[i],
            object_class=cls[i],
            bus_line=lines[i],
            schedule_deviation_ms=dev[i],
            length_cm=lcm[i],
            width_cm=wcm[i],
        )
        for i in range(len(arr))
    ]
