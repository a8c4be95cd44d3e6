"""A synthetic ground-truth scenario: vehicles in a square, roadside position sensors.

Vehicles move with nearly constant velocity (white-noise acceleration) at urban speeds and are
kept inside the square by a soft wall (a spring acceleration beyond a margin), so the number of
vehicles stays fixed and no motion is discontinuous. Sensors measure positions with Gaussian
noise, detect each vehicle in range with a fixed probability and add Poisson clutter uniform in
their disc. The layout of :func:`standard_sensors` repeats three overlapping sensors per km^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion.arraytypes import FloatArray, IntArray, StructArray
from fusion.grid import grid_pairs
from proto.arrays import DETECTION_DTYPE


@dataclass(frozen=True)
class Sensors:
    """Position sensors.

    Attributes
    ----------
    xy
        (S, 2) positions, m.
    range
        (S,) detection ranges, m.
    sigma
        (S,) position noise standard deviations per axis, m.
    """

    xy: FloatArray
    range: FloatArray
    sigma: FloatArray


#: Three sensors on a 1 km square: positions (m), range 700 m, sigma 0.5, 1.0, 1.5 m.
UNIT_SENSORS = ((200.0, 200.0, 0.5), (800.0, 200.0, 1.0), (500.0, 800.0, 1.5))


def standard_sensors(side: float, sensor_range: float = 700.0) -> Sensors:
    """The three-sensor pattern of :data:`UNIT_SENSORS` tiled over a square of ``side`` m."""
    tiles = max(1, int(np.ceil(side / 1000.0 - 1e-9)))
    ox, oy = np.meshgrid(np.arange(tiles) * 1000.0, np.arange(tiles) * 1000.0)
    unit = np.array(UNIT_SENSORS)
    xy = (np.stack([ox.ravel(), oy.ravel()], axis=1)[:, None, :] + unit[None, :, 0:2]).reshape(-1, 2)
    sigma = np.tile(unit[:, 2], tiles * tiles)
    return Sensors(xy=xy, range=np.full(len(xy), sensor_range), sigma=sigma)


class Scenario:
    """Vehicles on a square and the sensors that see them, one 10 Hz tick at a time.

    Parameters
    ----------
    n
        Number of vehicles.
    side
        Side of the square, m; default 1 km up to 1,000 vehicles, then grown so that the
        density stays at 1,000 per km^2.
    seed
        Random seed: the same seed gives the same truth and detections.
    dt
        Tick period, s.
    speed
        (low, high) initial speed range, m/s; speeds are capped at ``high + 3``.
    q
        Truth acceleration noise spectral density, m^2/s^3.
    pd
        Detection probability per sensor in range.
    clutter
        Mean false detections per sensor per tick.
    sensors
        Default :func:`standard_sensors` of the square.
    """

    def __init__(
        self,
        n: int,
        *,
        side: float | None = None,
        seed: int = 0,
        dt: float = 0.1,
        speed: tuple[float, float] = (3.0, 17.0),
        q: float = 0.5,
        pd: float = 0.9,
        clutter: float = 2.0,
        sensors: Sensors | None = None,
    ) -> None:
        self.side = float(side) if side is not None else 1000.0 * float(np.sqrt(max(1.0, n / 1000.0)))
        self.rng = np.random.default_rng(seed)
        self.dt = dt
        self.q = q
        self.pd = pd
        self.clutter = clutter
        self.vmax = speed[1] + 3.0
        self.sensors = sensors if sensors is not None else standard_sensors(self.side)
        self.t = 0.0
        self.ids: IntArray = np.arange(n, dtype=np.int64)
        self.pos: FloatArray = self.rng.uniform(0.0, self.side, (n, 2))
        heading = self.rng.uniform(-np.pi, np.pi, n)
        s = self.rng.uniform(speed[0], speed[1], n)
        self.vel: FloatArray = np.stack([s * np.cos(heading), s * np.sin(heading)], axis=1)

    def advance(self) -> None:
        """Move the vehicles one tick."""
        margin, k = 150.0, 0.02
        wall = -k * (self.pos - np.clip(self.pos, margin, self.side - margin))
        noise = self.rng.normal(0.0, np.sqrt(self.q / self.dt), self.pos.shape)
        self.vel += (wall + noise) * self.dt
        speed = np.hypot(self.vel[:, 0], self.vel[:, 1])
        self.vel *= np.minimum(1.0, self.vmax / np.maximum(speed, 1e-9))[:, None]
        self.pos += self.vel * self.dt
        self.t += self.dt

    def detect(self) -> StructArray:
        """Detections of the current positions by every sensor, ``DETECTION_DTYPE`` (m,).

        Rows carry ``r_xx = r_yy = sigma^2`` of their sensor, ``cls`` 1 (car) and the vehicle
        index + 1 in ``local_id`` (0 for clutter).
        """
        sen = self.sensors
        s_idx, v_idx = grid_pairs(sen.xy, self.pos, float(sen.range.max()))
        order = np.lexsort((s_idx, v_idx))  # random draws independent of the search's order
        s_idx, v_idx = s_idx[order], v_idx[order]
        d = np.hypot(*(self.pos[v_idx] - sen.xy[s_idx]).T)
        seen = (d <= sen.range[s_idx]) & (self.rng.random(len(d)) < self.pd)
        s_idx, v_idx = s_idx[seen], v_idx[seen]
        sig = sen.sigma[s_idx]
        z = self.pos[v_idx] + self.rng.normal(0.0, 1.0, (len(v_idx), 2)) * sig[:, None]
        n_clutter = self.rng.poisson(self.clutter, len(sen.xy))
        c_idx = np.repeat(np.arange(len(sen.xy)), n_clutter)
        rad = sen.range[c_idx] * np.sqrt(self.rng.random(len(c_idx)))
        ang = self.rng.uniform(-np.pi, np.pi, len(c_idx))
        cz = sen.xy[c_idx] + np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
        sensor = np.concatenate([s_idx, c_idx])
        out = np.zeros(len(sensor), dtype=DETECTION_DTYPE)
        out["t"] = self.t
        out["sensor"] = sensor
        out["local_id"] = np.concatenate([v_idx + 1, np.zeros(len(c_idx), dtype=np.int64)])
        xy = np.concatenate([z, cz])
        out["x"] = xy[:, 0]
        out["y"] = xy[:, 1]
        out["vx"] = out["vy"] = np.nan
        var = np.concatenate([sig, sen.sigma[c_idx]]) ** 2
        out["r_xx"] = out["r_yy"] = var
        out["r_xy"] = 0.0
        out["cls"] = 1
        out["confidence"] = 1.0
        out["length"] = 4.5
        out["width"] = 1.8
        order = np.argsort(sensor, kind="stable")
        return out[order]
