"""Accumulate decoded messages and emit, per tick, numpy batches in the local frame."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ingest import ranges as rg
from ingest.items import Decoded, Kind
from ingest.sensors import SensorRegistry
from proto import BSM_DTYPE, DETECTION_DTYPE, PERCEPTION_DTYPE, VEHICLE_REPORT_DTYPE, bsms_to_array, pb
from roadnet.frames import Frame

Array = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class Batch:
    """What ingest hands to fusion and control once per tick.

    Attributes
    ----------
    t
        Drain time, s since the epoch (platform clock).
    detections
        ``proto.DETECTION_DTYPE``, shape (N,), local frame, sorted by ``t`` (stable: one
        sensor's frames stay in sequence order).
    reports
        ``proto.VEHICLE_REPORT_DTYPE``, shape (M,), local frame, sorted by ``t``.
    spat, parking, lamps
        Latest known message per junction id / parking area id / lamp post id, newest by the
        message's own time; entries older than the batcher's ``state_ttl_s`` are dropped.
    priority_requests
        Priority requests received since the last drain, in order.
    sensors
        Sensor key by index (the ``sensor`` column of ``detections``).
    """

    t: float
    detections: Array
    reports: Array
    spat: dict[str, pb.Spat] = field(default_factory=dict)
    parking: dict[str, pb.ParkingStatus] = field(default_factory=dict)
    lamps: dict[str, pb.LampPostStatus] = field(default_factory=dict)
    priority_requests: list[pb.PriorityRequest] = field(default_factory=list)
    sensors: tuple[str, ...] = ()


class _Latest:
    """Latest message per key, newest by its own time, with a time-to-live."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[str, tuple[int, Any]] = {}

    def put(self, key: str, t_ns: int, msg: Any) -> None:
        old = self._items.get(key)
        if old is None or t_ns >= old[0]:
            self._items[key] = (t_ns, msg)

    def snapshot(self, oldest_ns: int) -> dict[str, Any]:
        stale = [k for k, (t, _) in self._items.items() if t < oldest_ns]
        for k in stale:
            del self._items[k]
        return {k: m for k, (_, m) in self._items.items()}


class Batcher:
    """Collects :class:`Decoded` messages; :meth:`drain` turns them into one :class:`Batch`.

    Per message only references are kept; all conversion happens in :meth:`drain`, vectorised
    over the whole tick: one ``Frame.to_local`` call for every position of detections and
    reports together, one ``compass_to_math`` for every heading.

    Parameters
    ----------
    frame
        The map's local frame.
    sensors
        Registry giving each sensor key its index (a new one when ``None``).
    state_ttl_s
        SPaT, parking and lamp entries older than this (by their own time) are dropped.
    """

    def __init__(self, frame: Frame, *, sensors: SensorRegistry | None = None, state_ttl_s: float = 60.0) -> None:
        self.frame = frame
        self.sensors = sensors or SensorRegistry()
        self.state_ttl_ns = int(state_ttl_s * 1e9)
        # grid convergence: angle from true east/north to the local x/y axes, radians
        theta = float(frame.compass_to_math(0.0)) - math.pi / 2
        self._cos, self._sin = math.cos(theta), math.sin(theta)
        self._frames: list[Array] = []
        self._frame_t: list[int] = []
        self._frame_sensor: list[int] = []
        self._frame_vel: list[bool] = []
        self._bsms: list[pb.Bsm] = []
        self._bsm_corr: list[int] = []
        self._bsm_batches: list[Array] = []
        self._bsm_batch_corr: list[int] = []
        self._spat = _Latest()
        self._parking = _Latest()
        self._lamps = _Latest()
        self._requests: list[pb.PriorityRequest] = []

    @property
    def pending(self) -> int:
        """Messages waiting for the next drain."""
        return len(self._frames) + len(self._bsms) + len(self._bsm_batches) + len(self._requests)

    def add(self, item: Decoded) -> None:
        """Keep one decoded message for the next drain."""
        k = item.kind
        body: Any = item.body
        if k is Kind.PERCEPTION:
            self._frames.append(body)
            self._frame_t.append(item.time_ns)
            self._frame_sensor.append(self.sensors.index(item.sensor))
            self._frame_vel.append(item.has_velocity)
        elif k is Kind.BSM:
            self._bsms.append(body)
            self._bsm_corr.append(item.correction_ns)
        elif k is Kind.BSM_BATCH:
            self._bsm_batches.append(body)
            self._bsm_batch_corr.append(item.correction_ns)
        elif k is Kind.SPAT:
            self._spat.put(body.junction_id, item.time_ns, body)
        elif k is Kind.PARKING:
            self._parking.put(body.area_id, item.time_ns, body)
        elif k is Kind.LAMP_STATUS:
            self._lamps.put(body.post_id, item.time_ns, body)
        elif k is Kind.PRIORITY_REQUEST:
            self._requests.append(body)

    def drain(self, now_ns: int) -> Batch:
        """Everything collected since the last drain, converted to the local frame.

        Parameters
        ----------
        now_ns
            Platform time of the drain, ns since the epoch.
        """
        rows, t_det, sensor, vel = self._take_perception()
        bsm = self._take_bsms()
        n, m = len(rows), len(bsm)
        det = np.empty(n, dtype=DETECTION_DTYPE)
        rep = np.empty(m, dtype=VEHICLE_REPORT_DTYPE)
        if n + m:
            x, y = self.frame.to_local(
                np.concatenate([rows["lat"], bsm["lat"]]), np.concatenate([rows["lon"], bsm["lon"]])
            )
            speed = np.concatenate([rows["speed"], bsm["speed"]])
            compass = np.concatenate([rows["heading"], bsm["heading"]])
            # the wire's "unavailable" codes (speed 8191, heading 28800) become NaN
            speed[speed > rg.SPEED_UNAVAILABLE_MPS - 0.01] = np.nan
            heading = self.frame.compass_to_math(compass)
            heading[compass > rg.HEADING_UNAVAILABLE_RAD - 1e-6] = np.nan
            vx, vy = speed * np.cos(heading), speed * np.sin(heading)
            self._fill_detections(det, rows, t_det, sensor, vel, x[:n], y[:n], vx[:n], vy[:n])
            self._fill_reports(rep, bsm, x[n:], y[n:], vx[n:], vy[n:], speed[n:], heading[n:])
        oldest = now_ns - self.state_ttl_ns
        requests, self._requests = self._requests, []
        return Batch(
            t=now_ns / 1e9,
            detections=det[np.argsort(det["t"], kind="stable")],
            reports=rep[np.argsort(rep["t"], kind="stable")],
            spat=self._spat.snapshot(oldest),
            parking=self._parking.snapshot(oldest),
            lamps=self._lamps.snapshot(oldest),
            priority_requests=requests,
            sensors=self.sensors.names,
        )

    def _take_perception(self) -> tuple[Array, Array, Array, Array]:
        """Concatenated PERCEPTION_DTYPE rows (N,) with per-row time s, sensor index and has-velocity."""
        frames, self._frames = self._frames, []
        if not frames:
            e = np.empty(0)
            return np.empty(0, dtype=PERCEPTION_DTYPE), e, e.astype(np.int32), e.astype(bool)
        lens = np.fromiter((len(f) for f in frames), np.int64, len(frames))
        t = np.repeat(np.asarray(self._frame_t, dtype=np.int64), lens) / 1e9
        sensor = np.repeat(np.asarray(self._frame_sensor, dtype=np.int32), lens)
        vel = np.repeat(np.asarray(self._frame_vel, dtype=bool), lens)
        self._frame_t, self._frame_sensor, self._frame_vel = [], [], []
        # concatenating as opaque records skips numpy's per-array structured-dtype promotion
        void = np.dtype((np.void, PERCEPTION_DTYPE.itemsize))
        rows = np.concatenate([f.view(void) for f in frames]).view(PERCEPTION_DTYPE)
        return rows, t, sensor, vel

    def _take_bsms(self) -> Array:
        """Concatenated BSM_DTYPE rows (M,), ``t_ns`` already on the platform clock."""
        parts: list[Array] = []
        if self._bsms:
            single = bsms_to_array(self._bsms)
            single["t_ns"] += np.asarray(self._bsm_corr, dtype=np.int64)
            parts.append(single)
        for arr, corr in zip(self._bsm_batches, self._bsm_batch_corr, strict=True):
            arr["t_ns"] += corr
            parts.append(arr)
        self._bsms, self._bsm_corr, self._bsm_batches, self._bsm_batch_corr = [], [], [], []
        if not parts:
            return np.empty(0, dtype=BSM_DTYPE)
        if len(parts) == 1:
            return parts[0]
        void = np.dtype((np.void, BSM_DTYPE.itemsize))
        return np.concatenate([p.view(void) for p in parts]).view(BSM_DTYPE)

    def _fill_detections(
        self, det: Array, rows: Array, t: Array, sensor: Array, vel: Array, x: Array, y: Array, vx: Array, vy: Array
    ) -> None:
        det["t"] = t
        det["sensor"] = sensor
        det["local_id"] = rows["local_id"]
        det["x"], det["y"] = x, y
        det["vx"] = np.where(vel, vx, np.nan)
        det["vy"] = np.where(vel, vy, np.nan)
        for col in ("length", "width", "cls", "confidence"):
            det[col] = rows[col]
        # east/north covariance -> local x/y (rotation by the grid convergence); NaN stays NaN
        c, s = self._cos, self._sin
        ee, en, nn = (rows[k].astype(np.float64) for k in ("cov_ee", "cov_en", "cov_nn"))
        det["r_xx"] = c * c * ee - 2 * c * s * en + s * s * nn
        det["r_xy"] = c * s * (ee - nn) + (c * c - s * s) * en
        det["r_yy"] = s * s * ee + 2 * c * s * en + c * c * nn

    @staticmethod
    def _fill_reports(
        rep: Array, bsm: Array, x: Array, y: Array, vx: Array, vy: Array, speed: Array, heading: Array
    ) -> None:
        rep["vehicle_id"] = bsm["vehicle_id"]
        rep["t"] = bsm["t_ns"] / 1e9
        rep["x"], rep["y"], rep["vx"], rep["vy"] = x, y, vx, vy
        rep["speed"], rep["heading"] = speed, heading
        accel = bsm["accel"]
        rep["accel"] = np.where(np.abs(accel) > rg.ACCEL_MAX_001 * 0.01 - 0.005, np.nan, accel)
        for c in ("length", "width", "cls", "bus_line", "schedule_dev"):
            rep[c] = bsm[c]
