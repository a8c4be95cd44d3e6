"""Validation of each body kind: range checks, sender pinning, body time; returns a :class:`Decoded`.

Each check takes the routed topic, the body message, the envelope's ``seq`` and ``sent_ns``,
the receive time and the sender's clock correction. It returns a :class:`Decoded` or a
``(Reason, detail)`` pair. ``pinned`` is ``False`` for standard-message frames, where an RSU
relays messages of other vehicles and junctions.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from google.protobuf.message import Message

from ingest import ranges as rg
from ingest.columns import block
from ingest.items import Decoded, Kind, Route
from ingest.limits import Limits
from ingest.reasons import Reason
from proto import CodecError, bsm_batch_to_array, pb, perception_to_array

Outcome: TypeAlias = Decoded | tuple[Reason, str]


def body_time(t_ns: int, sent_ns: int, limits: Limits) -> int | None:
    """The body's time (``sent_ns`` when unset), or ``None`` when outside the skew window around ``sent_ns``."""
    if t_ns == 0:
        return sent_ns
    if t_ns < sent_ns - limits.max_age_ns or t_ns > sent_ns + limits.max_future_ns:
        return None
    return t_ns


def _pin(route: Route, msg: Message, field: str) -> tuple[Reason, str] | None:
    """The body's own id ``field`` must be the topic's device id; an empty one is filled in."""
    v = getattr(msg, field)
    if v == route.device_id:
        return None
    if v:
        return Reason.SENDER_MISMATCH, f"{type(msg).__name__}.{field} {v!r} on the topic of {route.device_id!r}"
    setattr(msg, field, route.device_id)
    return None


def _skew(what: str, t_ns: int, sent_ns: int) -> tuple[Reason, str]:
    return Reason.CLOCK_SKEW, f"{what} {t_ns} is {(t_ns - sent_ns) / 1e9:+.3f} s from the send time"


def _in_region(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], limits: Limits) -> bool:
    if limits.region is None:
        return True
    la0, la1, lo0, lo1 = limits.region
    return bool(np.all((lat >= la0) & (lat <= la1) & (lon >= lo0) & (lon <= lo1)))


#: Columns checked together (consecutive float fields of PERCEPTION_DTYPE / BSM_DTYPE) and
#: their upper bounds on the absolute value.
_KINEMATICS = ("lat", "lon", "speed", "heading")
_KINEMATICS_MAX = np.array([90.0, 180.0, rg.SPEED_UNAVAILABLE_MPS + rg.EPS, rg.HEADING_UNAVAILABLE_RAD + rg.EPS])
_KINEMATICS_BSM = (*_KINEMATICS, "accel")
_KINEMATICS_BSM_MAX = np.append(_KINEMATICS_MAX, rg.ACCEL_MAX_001 * 0.01 + rg.EPS)
_COV = ("cov_ee", "cov_en", "cov_nn")


def _bad_columns(arr: npt.NDArray[np.void], limits: Limits, *, cov: bool = False, bsm: bool = False) -> str | None:
    """Name the first column of a PERCEPTION_DTYPE (or, ``bsm``, BSM_DTYPE) array (N >= 1) out of its range."""
    names, upper = (_KINEMATICS_BSM, _KINEMATICS_BSM_MAX) if bsm else (_KINEMATICS, _KINEMATICS_MAX)
    over = np.abs(block(arr, names)) > upper
    if over.any():
        return f"{names[int(np.argmax(over.any(axis=0)))]} beyond its range"
    if not _in_region(arr["lat"], arr["lon"], limits):
        return "position outside the configured region"
    if arr["cls"].max() > rg.MAX_CLASS:
        return "object class unknown"
    size = block(arr, ("length", "width")).max(axis=0)
    if size[0] > limits.max_length_m or size[1] > limits.max_width_m:
        return "length/width above the plausible size"
    if cov:
        c = block(arr, _COV)
        if not np.isfinite(c).all() or c[:, 0].min() < 0.0 or c[:, 2].min() < 0.0:
            return "covariance not finite or diagonal negative"
    return None


def perception(
    route: Route, f: pb.PerceptionFrame, seq: int, sent_ns: int, recv_ns: int, corr: int, limits: Limits
) -> Outcome:
    """Check a :class:`PerceptionFrame` and decode it to a PERCEPTION_DTYPE array."""
    t = body_time(f.capture_ns, sent_ns, limits)
    if t is None:
        return _skew("capture_ns", f.capture_ns, sent_ns)
    try:
        arr = perception_to_array(f)
    except CodecError as exc:
        return Reason.COLUMN_MISMATCH, str(exc)
    except (OverflowError, ValueError) as exc:  # e.g. an object class beyond uint8
        return Reason.OUT_OF_RANGE, f"PerceptionFrame: {exc}"
    n = len(arr)
    if n:
        bad = _bad_columns(arr, limits, cov=len(f.cov_ee) == n)
        if bad is None and len(f.confidence_pct) == n and max(f.confidence_pct) > 100:
            bad = "confidence_pct above 100"
        if bad is not None:
            return Reason.OUT_OF_RANGE, f"PerceptionFrame: {bad}"
    sid = f.sensor_id
    sensor = route.sender if not sid or sid == route.device_id else f"{route.sender}:{sid}"
    has_velocity = n > 0 and len(f.speed_002) == n and len(f.heading_00125) == n
    return Decoded(Kind.PERCEPTION, route.sender, seq, sent_ns, recv_ns, t + corr, corr, arr, sensor, has_velocity)


def bsm(
    route: Route,
    b: pb.Bsm,
    seq: int,
    sent_ns: int,
    recv_ns: int,
    corr: int,
    limits: Limits,
    *,
    pinned: bool = True,
) -> Outcome:
    """Check one :class:`Bsm` (scalar checks, no array)."""
    if pinned and (bad_id := _pin(route, b, "vehicle_id")):
        return bad_id
    t = body_time(b.measured_ns, sent_ns, limits)
    if t is None:
        return _skew("measured_ns", b.measured_ns, sent_ns)
    bad = None
    if not b.vehicle_id or len(b.vehicle_id) > rg.VEHICLE_ID_MAX or len(b.bus_line) > rg.BUS_LINE_MAX:
        bad = "vehicle_id empty or vehicle_id/bus_line too long"
    elif abs(b.lat_e7) > rg.LAT_E7_MAX or abs(b.lon_e7) > rg.LON_E7_MAX:
        bad = "lat/lon beyond +-90/+-180 degrees"
    elif limits.region is not None and not _in_region(np.array(b.lat_e7 * 1e-7), np.array(b.lon_e7 * 1e-7), limits):
        bad = "position outside the configured region"
    elif b.speed_002 > rg.SPEED_UNAVAILABLE_002 or b.heading_00125 > rg.HEADING_UNAVAILABLE:
        bad = "speed/heading above the wire range"
    elif not 0 <= b.object_class <= rg.MAX_CLASS or abs(b.accel_001) > rg.ACCEL_MAX_001:
        bad = "object class unknown or acceleration beyond +-20 m/s^2"
    elif b.length_cm > limits.max_length_m * 100 or b.width_cm > limits.max_width_m * 100:
        bad = "length/width above the plausible size"
    if bad is not None:
        return Reason.OUT_OF_RANGE, f"Bsm: {bad}"
    return Decoded(Kind.BSM, route.sender, seq, sent_ns, recv_ns, t + corr, corr, b)


def bsm_batch(
    route: Route, bb: pb.BsmBatch, seq: int, sent_ns: int, recv_ns: int, corr: int, limits: Limits
) -> Outcome:
    """Check a columnar :class:`BsmBatch` and decode it to a BSM_DTYPE array."""
    if any(not v or len(v) > rg.VEHICLE_ID_MAX for v in bb.vehicle_id) or any(
        len(v) > rg.BUS_LINE_MAX for v in bb.bus_line
    ):
        return Reason.OUT_OF_RANGE, "BsmBatch: vehicle_id empty or vehicle_id/bus_line too long"
    try:
        arr = bsm_batch_to_array(bb)
    except CodecError as exc:
        return Reason.COLUMN_MISMATCH, str(exc)
    except (OverflowError, ValueError) as exc:
        return Reason.OUT_OF_RANGE, f"BsmBatch: {exc}"
    if len(arr):
        t = arr["t_ns"]
        t[t == 0] = sent_ns
        if t.min() < sent_ns - limits.max_age_ns or t.max() > sent_ns + limits.max_future_ns:
            return Reason.CLOCK_SKEW, "BsmBatch.measured_ns outside the skew window around the send time"
        bad = _bad_columns(arr, limits, bsm=True)
        if bad is not None:
            return Reason.OUT_OF_RANGE, f"BsmBatch: {bad}"
    return Decoded(Kind.BSM_BATCH, route.sender, seq, sent_ns, recv_ns, sent_ns + corr, corr, arr)


def spat(
    route: Route, s: pb.Spat, seq: int, sent_ns: int, recv_ns: int, corr: int, limits: Limits, *, pinned: bool = True
) -> Outcome:
    """Check a :class:`Spat`; its ``junction_id`` must be the sender's (filled in when empty)."""
    if pinned and (bad_id := _pin(route, s, "junction_id")):
        return bad_id
    if not s.junction_id:
        return Reason.OUT_OF_RANGE, "Spat: junction_id empty"
    t = body_time(s.timestamp_ns, sent_ns, limits)
    if t is None:
        return _skew("timestamp_ns", s.timestamp_ns, sent_ns)
    if not 0 <= s.mode <= rg.MAX_CONTROL_MODE or any(not 0 <= g.state <= rg.MAX_LIGHT_STATE for g in s.groups):
        return Reason.OUT_OF_RANGE, "Spat: control mode or light state unknown"
    return Decoded(Kind.SPAT, route.sender, seq, sent_ns, recv_ns, t + corr, corr, s)


def parking(
    route: Route, p: pb.ParkingStatus, seq: int, sent_ns: int, recv_ns: int, corr: int, limits: Limits
) -> Outcome:
    """Check a :class:`ParkingStatus`; an empty ``area_id`` becomes the sender's id."""
    if not p.area_id:
        p.area_id = route.device_id
    t = body_time(p.measured_ns, sent_ns, limits)
    if t is None:
        return _skew("measured_ns", p.measured_ns, sent_ns)
    if p.occupied > p.capacity or (p.capacity and len(p.bay_occupied) > p.capacity):
        return Reason.OUT_OF_RANGE, "ParkingStatus: occupied or bays above capacity"
    return Decoded(Kind.PARKING, route.sender, seq, sent_ns, recv_ns, t + corr, corr, p)


def lamp_status(
    route: Route, s: pb.LampPostStatus, seq: int, sent_ns: int, recv_ns: int, corr: int, limits: Limits
) -> Outcome:
    """Check a :class:`LampPostStatus`; its ``post_id`` must be the sender's (filled in when empty)."""
    if bad_id := _pin(route, s, "post_id"):
        return bad_id
    t = body_time(s.measured_ns, sent_ns, limits)
    if t is None:
        return _skew("measured_ns", s.measured_ns, sent_ns)
    if s.brightness_pct > 100 or abs(s.lat_e7) > rg.LAT_E7_MAX or abs(s.lon_e7) > rg.LON_E7_MAX:
        return Reason.OUT_OF_RANGE, "LampPostStatus: brightness above 100% or lat/lon out of range"
    return Decoded(Kind.LAMP_STATUS, route.sender, seq, sent_ns, recv_ns, t + corr, corr, s)


def priority_request(
    route: Route, r: pb.PriorityRequest, seq: int, sent_ns: int, recv_ns: int, corr: int, limits: Limits
) -> Outcome:
    """Check a :class:`PriorityRequest`; its ``vehicle_id`` must be the sender's (filled in when empty)."""
    if bad_id := _pin(route, r, "vehicle_id"):
        return bad_id
    if not r.junction_id or len(r.bus_line) > rg.BUS_LINE_MAX:
        return Reason.OUT_OF_RANGE, "PriorityRequest: junction_id empty or bus_line too long"
    return Decoded(Kind.PRIORITY_REQUEST, route.sender, seq, sent_ns, recv_ns, sent_ns + corr, corr, r)
