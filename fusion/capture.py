"""Recorded MQTT traffic ("captures") and their decoding into detections and reports.

Capture format (text, one message per line, UTF-8)::

    <receive time> <topic> <payload>

- receive time: seconds since the Unix epoch, decimal (``1767225600.123456789``);
- topic: the MQTT topic, e.g. ``v2x/v1/rsu/r12/perception/up``;
- payload: the message bytes (a protobuf ``Envelope``) as hexadecimal digits.

Blank lines and lines starting with ``#`` are ignored. Mosquitto's own client records it::

    mosquitto_sub -h BROKER -t 'v2x/v1/#' -F '@s.@N %t %x' > capture.txt

Decoding keeps the envelopes whose body is a ``PerceptionFrame`` (roadside detections), a
``Bsm`` or a ``BsmBatch`` (connected-vehicle reports); other bodies are counted and passed over.
Times are the bodies' own (capture / measurement) times; positions go to the local frame of a
map (or, with no map, of a frame centred on the first position).
"""

from __future__ import annotations

import binascii
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from google.protobuf.message import DecodeError

from fusion.arraytypes import StructArray
from proto import (
    CodecError,
    TopicError,
    bsm_batch_to_array,
    bsms_to_array,
    empty_detections,
    parse,
    pb,
    perception_to_array,
)
from proto.arrays import VEHICLE_REPORT_DTYPE
from roadnet.frames import Frame


@dataclass(frozen=True)
class Record:
    """One captured message: receive time s, topic, payload bytes."""

    t: float
    topic: str
    payload: bytes


def format_record(t: float, topic: str, payload: bytes) -> str:
    """One capture line (without the newline)."""
    return f"{t:.9f} {topic} {payload.hex()}"


def read_records(lines: Iterable[str]) -> tuple[list[Record], list[tuple[int, str]]]:
    """Parse capture lines.

    Returns
    -------
    records
        The well-formed lines, in order.
    problems
        ``(line number, reason)`` of every malformed line (1-based), set aside.
    """
    records: list[Record] = []
    problems: list[tuple[int, str]] = []
    for no, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split()
        if len(parts) != 3:
            problems.append((no, f"expected 3 fields (time topic hex-payload), found {len(parts)}"))
            continue
        try:
            t = float(parts[0])
        except ValueError:
            problems.append((no, f"receive time {parts[0][:30]!r} is not a number of seconds"))
            continue
        try:
            payload = binascii.unhexlify(parts[2])
        except (binascii.Error, ValueError):
            problems.append((no, "payload is not hexadecimal"))
            continue
        records.append(Record(t, parts[1], payload))
    return records, problems


@dataclass
class Decoded:
    """Detections and reports decoded from captured messages.

    Attributes
    ----------
    detections
        ``DETECTION_DTYPE`` (N,), local frame.
    reports
        ``VEHICLE_REPORT_DTYPE`` (M,), local frame.
    receive
        (N,) and (M,) receive times s of the rows' messages: ``receive_det``, ``receive_rep``.
    sensors
        Sensor id of each ``sensor`` index.
    skipped
        Messages passed over, by reason.
    """

    detections: StructArray
    reports: StructArray
    receive_det: np.ndarray
    receive_rep: np.ndarray
    sensors: list[str]
    frame: Frame
    skipped: Counter[str] = field(default_factory=Counter)


def _first_position(env: pb.Envelope) -> tuple[float, float] | None:
    body = env.WhichOneof("body")
    if body == "perception" and len(env.perception.lat_e7):
        return env.perception.lat_e7[0] * 1e-7, env.perception.lon_e7[0] * 1e-7
    if body == "bsm":
        return env.bsm.lat_e7 * 1e-7, env.bsm.lon_e7 * 1e-7
    if body == "bsm_batch" and len(env.bsm_batch.lat_e7):
        return env.bsm_batch.lat_e7[0] * 1e-7, env.bsm_batch.lon_e7[0] * 1e-7
    return None


def decode(records: Iterable[Record], frame: Frame | None = None) -> Decoded:
    """Decode captured envelopes into local-frame detections and reports.

    Parameters
    ----------
    records
        Captured messages.
    frame
        The map's local frame; None: a frame around the first position in the capture.
    """
    skipped: Counter[str] = Counter()
    envs: list[tuple[float, pb.Envelope]] = []
    for rec in records:
        try:
            topic = parse(rec.topic)
        except TopicError:
            skipped["topic outside the contract"] += 1
            continue
        if topic.direction != "up":
            skipped["downlink message"] += 1
            continue
        env = pb.Envelope()
        try:
            env.ParseFromString(rec.payload)
        except DecodeError:
            skipped["payload is not an Envelope"] += 1
            continue
        envs.append((rec.t, env))
    if frame is None:
        first = next((p for _, e in envs if (p := _first_position(e)) is not None), None)
        frame = Frame.around(*first) if first is not None else Frame.around(0.0, 0.0)
    sensors: dict[str, int] = {}
    det_parts: list[StructArray] = []
    rep_parts: list[StructArray] = []
    recv_det: list[np.ndarray] = []
    recv_rep: list[np.ndarray] = []
    for t_recv, env in envs:
        body = env.WhichOneof("body")
        try:
            if body == "perception":
                f = env.perception
                idx = sensors.setdefault(f.sensor_id or env.sender_id, len(sensors))
                d = _detections(f, idx, frame)
                det_parts.append(d)
                recv_det.append(np.full(len(d), t_recv))
            elif body in ("bsm", "bsm_batch"):
                rows = bsms_to_array([env.bsm]) if body == "bsm" else bsm_batch_to_array(env.bsm_batch)
                r = _reports(rows, frame)
                rep_parts.append(r)
                recv_rep.append(np.full(len(r), t_recv))
            else:
                skipped[f"{body or 'empty'} body not used by fusion"] += 1
        except CodecError as exc:
            skipped[f"inconsistent message: {exc}"] += 1
    det = np.concatenate(det_parts) if det_parts else empty_detections(0)
    rep = np.concatenate(rep_parts) if rep_parts else np.zeros(0, dtype=VEHICLE_REPORT_DTYPE)
    return Decoded(
        detections=det,
        reports=rep,
        receive_det=np.concatenate(recv_det) if recv_det else np.zeros(0),
        receive_rep=np.concatenate(recv_rep) if recv_rep else np.zeros(0),
        sensors=list(sensors),
        frame=frame,
        skipped=skipped,
    )


def _rotation(frame: Frame) -> tuple[float, float]:
    """cos, sin of the angle from east/north axes to the local x/y axes (grid convergence)."""
    theta = float(frame.north_angle(0.0, 0.0)) - np.pi / 2.0
    return float(np.cos(theta)), float(np.sin(theta))


def _detections(f: pb.PerceptionFrame, sensor: int, frame: Frame) -> StructArray:
    rows = perception_to_array(f)
    n = len(rows)
    out = empty_detections(n)
    out["t"] = f.capture_ns / 1e9
    out["sensor"] = sensor
    out["local_id"] = rows["local_id"]
    x, y = frame.to_local(rows["lat"], rows["lon"])
    out["x"], out["y"] = x, y
    if len(f.speed_002) == n and len(f.heading_00125) == n:
        h = frame.compass_to_math(rows["heading"])
        out["vx"] = rows["speed"] * np.cos(h)
        out["vy"] = rows["speed"] * np.sin(h)
    for col in ("length", "width", "cls", "confidence"):
        out[col] = rows[col]
    c, s = _rotation(frame)
    ee, en, nn = (rows[k].astype(np.float64) for k in ("cov_ee", "cov_en", "cov_nn"))
    out["r_xx"] = c * c * ee - 2 * c * s * en + s * s * nn
    out["r_xy"] = c * s * (ee - nn) + (c * c - s * s) * en
    out["r_yy"] = s * s * ee + 2 * c * s * en + c * c * nn
    return out


def _reports(rows: StructArray, frame: Frame) -> StructArray:
    out = np.zeros(len(rows), dtype=VEHICLE_REPORT_DTYPE)
    out["vehicle_id"] = rows["vehicle_id"]
    out["t"] = rows["t_ns"] / 1e9
    x, y = frame.to_local(rows["lat"], rows["lon"])
    h = frame.compass_to_math(rows["heading"])
    out["x"], out["y"] = x, y
    out["vx"] = rows["speed"] * np.cos(h)
    out["vy"] = rows["speed"] * np.sin(h)
    out["speed"], out["heading"] = rows["speed"], h
    for col in ("accel", "length", "width", "cls", "bus_line", "schedule_dev"):
        out[col] = rows[col]
    return out
