"""Virtual roadside sensors: RSU cameras/radars and smart lamp posts, all in one vectorised object.

A sensor has a position, a field of view (a sector: heading, half-angle, range; or a polygon),
a position noise sigma, a velocity noise sigma, a miss rate (1 - detection probability), a
false-alarm rate (Poisson, expected objects per frame, uniform in the field of view), a frame
rate, a latency and a clock offset. Per frame every due sensor is tested against every vehicle
at once: a KD-tree gives the (sensor, vehicle) pairs within range as index arrays, then the
sector or polygon test, the detection draw and the noise are array operations.

A sensor's object ids (``local_id``) stay the same while a vehicle stays in its field of view
(a missed detection does not change it); a false alarm gets a fresh id each frame.

Timestamps are the sensor's own: ``capture time + clock offset``; frames become available
``latency`` seconds after capture (:meth:`Sensors.deliver`). Lamp posts also report the curb
parking areas they watch (:class:`pb.ParkingStatus`) and their own health
(:class:`pb.LampPostStatus`) now and then.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from proto import pb
from proto.arrays import DETECTION_DTYPE
from roadnet.geometry import point_at
from roadnet.model import RoadNetwork
from sim.devices.vehicles import wire_id

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

KINDS: Final = ("rsu", "lamp")
EPS: Final = 1e-6
#: Size reported for a false alarm (m): a car-sized ghost
GHOST_LENGTH: Final = 4.5
GHOST_WIDTH: Final = 1.8


@dataclass(frozen=True)
class SensorParams:
    """Sensing parameters shared by a family of sensors (SI units).

    ``fov_deg`` 360 is all around; ``clock_offset_s`` is the standard deviation of each sensor's
    fixed clock offset (drawn once per sensor).
    """

    range_m: float = 150.0
    fov_deg: float = 360.0
    sigma_m: float = 0.5
    sigma_v: float = 0.3
    miss: float = 0.05
    false_alarms: float = 0.1
    rate_hz: float = 10.0
    latency_s: float = 0.05
    clock_offset_s: float = 0.0

    def check(self, where: str) -> list[str]:
        """Problems with these values, each naming ``where`` and the key."""
        out = []
        if not self.range_m > 0:
            out.append(f"{where} range_m must be > 0")
        if not 0 < self.fov_deg <= 360:
            out.append(f"{where} fov_deg must be in (0, 360]")
        for k in ("sigma_m", "sigma_v", "false_alarms", "latency_s", "clock_offset_s"):
            if not getattr(self, k) >= 0:
                out.append(f"{where} {k} must be >= 0")
        if not 0 <= self.miss < 1:
            out.append(f"{where} miss must be between 0 and 1 (1 would never detect)")
        if not self.rate_hz > 0:
            out.append(f"{where} rate_hz must be > 0")
        return out


RSU_DEFAULTS: Final = SensorParams()
LAMP_DEFAULTS: Final = SensorParams(range_m=50.0, sigma_m=0.3, false_alarms=0.05)


@dataclass
class SensorSpec:
    """One sensor: id, kind (``rsu`` or ``lamp``), position (m), heading (math rad) and params.

    ``polygon`` (k, 2 metres), when given, is the field of view instead of the sector (the
    range still applies); ``parking`` lists the parking areas (indices) a lamp post reports;
    ``latlon`` (degrees), when given, is the position instead of ``x``, ``y`` (converted by
    :class:`~sim.devices.field.FieldDevices` with the map's frame).
    """

    ident: str
    kind: str
    x: float
    y: float
    heading: float = 0.0
    params: SensorParams = field(default_factory=SensorParams)
    polygon: F64 | None = None
    parking: list[int] = field(default_factory=list)
    latlon: tuple[float, float] | None = None


def default_layout(
    net: RoadNetwork,
    *,
    rsu: str | Sequence[str] = "default",
    rsu_params: SensorParams = RSU_DEFAULTS,
    lamp_posts: bool = True,
    lamp_params: SensorParams = LAMP_DEFAULTS,
) -> list[SensorSpec]:
    """The default placement: one RSU per signalised junction and a lamp post per curb parking area.

    RSUs stand 5 m off the junction centre and see all around (``rsu_params``); ``rsu`` may
    instead list the junction ids to equip, or be ``"none"``. Lamp posts stand on the curb (1 m
    right of the lane edge) at the middle of each parking area and report the parking areas
    closer to them than to any other post (within their range).
    """
    specs: list[SensorSpec] = []
    if isinstance(rsu, str):
        if rsu == "default":
            junctions = sorted({int(j) for j in net.tls_junctions.tolist()})
        elif rsu == "none":
            junctions = []
        else:
            raise ValueError(f'rsu must be "default", "none" or a list of junction ids, got {rsu!r}')
    else:
        idx = net.junction_index_of
        missing = [j for j in rsu if j not in idx]
        if missing:
            raise ValueError(f"unknown junction id(s) for RSUs: {', '.join(missing[:5])}")
        junctions = [idx[j] for j in rsu]
    for j in junctions:
        x, y = (float(v) for v in net.junction_xy[j])
        specs.append(SensorSpec(f"rsu-{wire_id(net.junction_ids[j])}", "rsu", x + 3.5, y + 3.5, 0.0, rsu_params))
    if lamp_posts and len(net.parking_ids):
        mids = []
        for a in range(len(net.parking_ids)):
            lane = int(net.parking_lane[a])
            s = 0.5 * (float(net.parking_start[a]) + float(net.parking_end[a]))
            p, d = point_at(net.lane_shape(lane), s)
            right = np.array([d[1], -d[0]])
            pos = p + right * (0.5 * float(net.lane_width[lane]) + 1.0)
            mids.append(p)
            # facing the road (to the left of the curb)
            heading = math.atan2(-right[1], -right[0])
            specs.append(
                SensorSpec(
                    f"lamp-{wire_id(net.parking_ids[a])}", "lamp", float(pos[0]), float(pos[1]), heading, lamp_params
                )
            )
        posts = [s for s in specs if s.kind == "lamp"]
        pxy = np.array([[s.x, s.y] for s in posts])
        for a, m in enumerate(mids):
            d = np.hypot(*(pxy - m).T)
            k = int(np.argmin(d))
            if d[k] <= posts[k].params.range_m:
                posts[k].parking.append(a)
    return specs


@dataclass
class Delivered:
    """Sensor output that became available in one tick.

    ``detections`` (N,) :data:`proto.arrays.DETECTION_DTYPE` rows in the local frame, ``t`` as
    the sensor stamped it (s since the Unix epoch, its clock offset included), ``sensor`` the
    index in :attr:`Sensors.ids`; grouped by frame: frame ``f`` is
    ``detections[offsets[f]:offsets[f + 1]]`` of sensor ``frame_sensor[f]`` captured at
    ``frame_ns[f]`` (sensor clock, ns). Frames without objects are listed too.
    """

    detections: npt.NDArray[np.void]
    frame_sensor: I64
    frame_ns: I64
    offsets: I64


@dataclass
class _Batch:
    """Frames captured at one instant, not yet delivered: (F,) frames, rows grouped by frame."""

    rows: npt.NDArray[np.void]
    sensor: I64
    ns: I64
    due: F64
    counts: I64


class Sensors:
    """All roadside sensors of a run.

    Parameters
    ----------
    specs
        The sensors (S of them).
    epoch_ns
        Unix time of simulated time 0, ns.
    seed
        Seeds the noise, detection and false-alarm draws and the clock offsets.
    parking_ids
        The map's parking area ids (A,), named in the lamp posts' parking reports.
    """

    def __init__(
        self, specs: Sequence[SensorSpec], *, epoch_ns: int, seed: int = 0, parking_ids: Sequence[str] = ()
    ) -> None:
        self.parking_ids = list(parking_ids)
        self.specs = list(specs)
        n = len(self.specs)
        self.n = n
        self.epoch_ns = int(epoch_ns)
        self.ids = [s.ident for s in self.specs]
        self.kind = np.array([KINDS.index(s.kind) for s in self.specs], dtype=np.int64)
        self.xy: F64 = np.array([[s.x, s.y] for s in self.specs], dtype=np.float64).reshape(n, 2)
        self.heading: F64 = np.array([s.heading for s in self.specs], dtype=np.float64)

        def col(name: str) -> F64:
            return np.array([getattr(s.params, name) for s in self.specs], dtype=np.float64)

        self.range: F64 = col("range_m")
        self.half_angle: F64 = np.radians(col("fov_deg")) / 2.0
        self.sigma: F64 = col("sigma_m")
        self.sigma_v: F64 = col("sigma_v")
        self.miss: F64 = col("miss")
        self.false_alarms: F64 = col("false_alarms")
        self.period: F64 = 1.0 / col("rate_hz")
        self.latency: F64 = col("latency_s")
        self._rng = np.random.default_rng([seed, 0x5E45])
        #: each sensor's fixed clock offset, s (its stamps = true time + offset)
        self.clock_offset: F64 = self._rng.normal(0.0, 1.0, n) * col("clock_offset_s")
        self.polygons = [shapely.Polygon(s.polygon) if s.polygon is not None else None for s in self.specs]
        for p in self.polygons:
            if p is not None:
                shapely.prepare(p)
        self._poly_idx = [i for i, p in enumerate(self.polygons) if p is not None]
        self.next_capture: F64 = np.full(n, -np.inf)
        self._tree = cKDTree(self.xy) if n else None
        self._max_range = float(self.range.max()) if n else 0.0
        # (sensor << 32 | vehicle code) -> local id, for the pairs in view at the last frame
        self._keys: I64 = np.zeros(0, dtype=np.int64)
        self._lids: npt.NDArray[np.uint32] = np.zeros(0, dtype=np.uint32)
        self._next_id: I64 = np.ones(n, dtype=np.int64)
        # pending output (captured, not yet delivered)
        self._pending: list[_Batch] = []
        #: parking areas each lamp post reports, and when it last reported / sent its status
        self.parking = [list(s.parking) for s in self.specs]
        self.lamps: I64 = np.flatnonzero(self.kind == KINDS.index("lamp"))
        self.frames_captured = 0
        self.detections_made = 0
        self.false_alarms_made = 0

    # ------------------------------------------------------------------ perception
    def _pairs(self, x: F64, y: F64, due: B) -> tuple[I64, I64]:
        """(sensor, vehicle) index pairs: vehicle in the field of view of a due sensor."""
        if self._tree is None or len(x) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        vt = cKDTree(np.column_stack([x, y]))
        sm = self._tree.sparse_distance_matrix(vt, self._max_range, output_type="ndarray")
        i = sm["i"].astype(np.int64)
        j = sm["j"].astype(np.int64)
        d = sm["v"]
        ok = due[i] & (d <= self.range[i])
        i, j = i[ok], j[ok]
        sector = self.half_angle[i] < np.pi - 1e-9
        if sector.any():
            ang = np.arctan2(y[j] - self.xy[i, 1], x[j] - self.xy[i, 0]) - self.heading[i]
            off = np.abs(np.pi - np.mod(np.pi - ang, 2.0 * np.pi))
            keep = ~sector | (off <= self.half_angle[i])
            i, j = i[keep], j[keep]
        for s in self._poly_idx:
            sel = i == s
            if sel.any():
                inside = shapely.contains_xy(self.polygons[s], x[j[sel]], y[j[sel]])
                keep = np.ones(len(i), dtype=np.bool_)
                keep[np.flatnonzero(sel)[~inside]] = False
                i, j = i[keep], j[keep]
        return i, j

    def in_view(self, x: F64, y: F64) -> B:
        """(N,) True for the points (x, y, m, (N,) each) inside some sensor's field of view.

        The same geometry as a capture (range, sector or polygon), without the detection draw:
        what the roadside could see, for scoring the picture against the ground truth.
        """
        out = np.zeros(len(x), dtype=np.bool_)
        _, j = self._pairs(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), np.ones(self.n, bool))
        out[j] = True
        return out

    def _new_ids(self, sensor: I64) -> npt.NDArray[np.uint32]:
        """Fresh local ids for objects of ``sensor`` (N,), consecutive per sensor."""
        if len(sensor) == 0:
            return np.zeros(0, dtype=np.uint32)
        order = np.argsort(sensor, kind="stable")
        ss = sensor[order]
        start = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
        rank = np.arange(len(ss)) - np.repeat(start, np.diff(np.r_[start, len(ss)]))
        out = np.empty(len(sensor), dtype=np.int64)
        out[order] = self._next_id[ss] + rank
        self._next_id += np.bincount(sensor, minlength=self.n)
        return (out % 0xFFFFFFFF + 1).astype(np.uint32)

    def _sample_fov(self, s: I64) -> tuple[F64, F64]:
        """Uniform points in the fields of view of sensors ``s`` (N,)."""
        rng = self._rng
        r = self.range[s] * np.sqrt(rng.random(len(s)))
        th = self.heading[s] + (2.0 * rng.random(len(s)) - 1.0) * self.half_angle[s]
        x = self.xy[s, 0] + r * np.cos(th)
        y = self.xy[s, 1] + r * np.sin(th)
        for p in self._poly_idx:  # rejection sampling inside the polygon (few sensors)
            sel = np.flatnonzero(s == p)
            poly = self.polygons[p]
            assert poly is not None
            x0, y0, x1, y1 = poly.bounds
            for k in sel.tolist():
                for _ in range(100):
                    px, py = rng.uniform(x0, x1), rng.uniform(y0, y1)
                    if (
                        shapely.contains_xy(poly, px, py)
                        and math.hypot(px - self.xy[p, 0], py - self.xy[p, 1]) <= self.range[p]
                    ):
                        x[k], y[k] = px, py
                        break
        return x, y

    def capture(self, t: float, truth: npt.NDArray[np.void], codes: I64) -> int:
        """Take the frames of every sensor due at simulated time ``t`` and queue them.

        Parameters
        ----------
        t
            Simulated time, s.
        truth
            (N,) :data:`sim.interface.TRUTH_DTYPE` ground truth at ``t``.
        codes
            (N,) stable vehicle codes of ``truth`` rows (:class:`~sim.devices.vehicles.VehicleIndex`).

        Returns
        -------
        int
            The number of frames taken.
        """
        due = self.next_capture <= t + EPS
        if not due.any():
            return 0
        di = np.flatnonzero(due)
        behind = self.next_capture[di] + self.period[di] <= t + EPS
        self.next_capture[di] = np.where(behind, t, self.next_capture[di]) + self.period[di]
        x = np.asarray(truth["x"], dtype=np.float64)
        y = np.asarray(truth["y"], dtype=np.float64)
        i, j = self._pairs(x, y, due)
        # stable ids for the pairs in view
        key = (i << 32) | codes[j]
        order = np.argsort(key, kind="stable")
        i, j, key = i[order], j[order], key[order]
        lid = np.zeros(len(key), dtype=np.uint32)
        if len(self._keys):
            pos = np.minimum(np.searchsorted(self._keys, key), len(self._keys) - 1)
            found = self._keys[pos] == key
            lid[found] = self._lids[pos[found]]
        else:
            found = np.zeros(len(key), dtype=np.bool_)
        lid[~found] = self._new_ids(i[~found])
        stale = due[self._keys >> 32]
        keys = np.concatenate([self._keys[~stale], key])
        lids = np.concatenate([self._lids[~stale], lid])
        o = np.argsort(keys, kind="stable")
        self._keys, self._lids = keys[o], lids[o]
        # detection, then false alarms (uniform in the field of view); columns first, one fill
        rng = self._rng
        hit = rng.random(len(i)) >= self.miss[i]
        i, j, lid = i[hit], j[hit], lid[hit]
        nd = len(i)
        n_fa = rng.poisson(self.false_alarms[di])
        fs = np.repeat(di, n_fa)
        nf = len(fs)
        fx, fy = self._sample_fov(fs) if nf else (np.zeros(0), np.zeros(0))
        sensor = np.concatenate([i, fs])
        order = np.argsort(sensor, kind="stable")  # frames are sensor-sorted: rows too
        sensor = sensor[order]
        sig = self.sigma[sensor]
        sv = self.sigma_v[sensor]
        ri = np.flatnonzero(order < nd)  # rows of real objects, and the vehicle each shows
        jj = j[order[ri]]
        fi = np.flatnonzero(order >= nd)  # rows of false alarms, and which one
        ff = order[fi] - nd
        noise = rng.standard_normal((4, len(ri)))
        u = rng.random(len(order))
        rows = np.zeros(len(order), dtype=DETECTION_DTYPE)
        rows["t"] = self.epoch_ns / 1e9 + t + self.clock_offset[sensor]
        rows["sensor"] = sensor
        rows["local_id"] = np.concatenate([lid, self._new_ids(fs)])[order]

        def col(real: npt.ArrayLike, ghost: npt.ArrayLike, dtype: npt.DTypeLike = np.float64) -> npt.NDArray[Any]:
            out = np.empty(len(order), dtype=dtype)
            out[ri] = real
            out[fi] = ghost
            return out

        rows["x"] = col(x[jj] + noise[0] * sig[ri], fx[ff])
        rows["y"] = col(y[jj] + noise[1] * sig[ri], fy[ff])
        rows["vx"] = col(truth["vx"][jj] + noise[2] * sv[ri], 0.0)
        rows["vy"] = col(truth["vy"][jj] + noise[3] * sv[ri], 0.0)
        rows["length"] = col(truth["length"][jj], GHOST_LENGTH)
        rows["width"] = col(truth["width"][jj], GHOST_WIDTH)
        rows["cls"] = col(truth["cls"][jj], pb.OBJECT_CLASS_UNKNOWN, np.uint8)
        rows["confidence"] = col(0.7 + 0.3 * u[ri], 0.2 + 0.4 * u[fi])
        var = np.maximum(sig, 0.1) ** 2
        rows["r_xx"] = var
        rows["r_yy"] = var
        # one pending batch per capture: frames of the due sensors, rows grouped by frame
        counts = np.bincount(sensor, minlength=self.n)[di]
        stamp = self.epoch_ns + np.rint((t + self.clock_offset[di]) * 1e9).astype(np.int64)
        self._pending.append(_Batch(rows, di, stamp, t + self.latency[di], counts.astype(np.int64)))
        self.frames_captured += len(di)
        self.detections_made += nd
        self.false_alarms_made += nf
        return len(di)

    def deliver(self, t: float) -> Delivered:
        """The frames whose latency has passed by simulated time ``t`` (and forget them)."""
        parts: list[_Batch] = []
        keep: list[_Batch] = []
        for b in self._pending:
            due = b.due <= t + EPS
            if due.all():
                parts.append(b)
            elif not due.any():
                keep.append(b)
            else:  # sensors of one capture with different latencies: split by frame
                rmask = np.repeat(due, b.counts)
                parts.append(_Batch(b.rows[rmask], b.sensor[due], b.ns[due], b.due[due], b.counts[due]))
                keep.append(_Batch(b.rows[~rmask], b.sensor[~due], b.ns[~due], b.due[~due], b.counts[~due]))
        self._pending = keep
        if len(parts) == 1:
            b = parts[0]
            return Delivered(b.rows, b.sensor, b.ns, np.concatenate([[0], np.cumsum(b.counts)]).astype(np.int64))
        if not parts:
            return Delivered(
                np.zeros(0, dtype=DETECTION_DTYPE), *(np.zeros(0, dtype=np.int64),) * 2, np.zeros(1, np.int64)
            )
        counts = np.concatenate([b.counts for b in parts])
        return Delivered(
            np.concatenate([b.rows for b in parts]),
            np.concatenate([b.sensor for b in parts]),
            np.concatenate([b.ns for b in parts]),
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        )

    # ------------------------------------------------------------------ lamp posts
    def parking_status(self, t: float, occupancy: I64, capacity: I64) -> list[tuple[int, pb.ParkingStatus]]:
        """One :class:`pb.ParkingStatus` per parking area a lamp post watches, as (post, message).

        ``occupancy`` and ``capacity`` are (A,) counts per parking area at simulated time ``t``.
        """
        out = []
        for s in self.lamps.tolist():
            stamp = self.epoch_ns + round((t + float(self.clock_offset[s])) * 1e9)
            for a in self.parking[s]:
                cap = int(capacity[a])
                occ = int(min(max(int(occupancy[a]), 0), cap)) if cap > 0 else int(occupancy[a])
                out.append(
                    (
                        s,
                        pb.ParkingStatus(
                            area_id=self.parking_ids[a] if a < len(self.parking_ids) else str(a),
                            measured_ns=stamp,
                            capacity=cap,
                            occupied=occ,
                        ),
                    )
                )
        return out

    def lamp_status(self, t: float, latlon: tuple[F64, F64], local_hour: float) -> list[tuple[int, pb.LampPostStatus]]:
        """A :class:`pb.LampPostStatus` for every lamp post, as (post, message).

        ``latlon`` are the posts' WGS84 positions (degrees, (S,) each over all sensors);
        ``local_hour`` (0..24) switches the lights on between 18:00 and 06:00.
        """
        lat, lon = latlon
        on = local_hour >= 18.0 or local_hour < 6.0
        out = []
        for s in self.lamps.tolist():
            out.append(
                (
                    s,
                    pb.LampPostStatus(
                        post_id=self.ids[s],
                        measured_ns=self.epoch_ns + round((t + float(self.clock_offset[s])) * 1e9),
                        online=True,
                        light_on=on,
                        brightness_pct=80 if on else 0,
                        camera_ok=True,
                        radar_ok=True,
                        power_w=95.0 if on else 12.0,
                        temperature_c=24.0,
                        uptime_s=int(max(t, 0.0)) + 86_400,
                        firmware="xj-sim-1",
                        lat_e7=round(float(lat[s]) * 1e7),
                        lon_e7=round(float(lon[s]) * 1e7),
                    ),
                )
            )
        return out

    def summary(self) -> dict[str, Any]:
        """Counts for reports: sensors by kind, frames, detections, false alarms."""
        return {
            "rsus": int((self.kind == 0).sum()),
            "lamp_posts": int((self.kind == 1).sum()),
            "frames": self.frames_captured,
            "detections": self.detections_made,
            "false_alarms": self.false_alarms_made,
        }
