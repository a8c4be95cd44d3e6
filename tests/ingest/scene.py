"""A small synthetic scene: cars on straight lanes seen by two overlapping roadside sensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import proto
from tests.ingest.messages import FRAME


@dataclass(frozen=True)
class Scene:
    """``n`` cars on parallel east-west lanes, 10 Hz frames from two sensors with overlapping ranges.

    Car ``i`` starts at ``(x0[i], y[i])`` and drives at ``vx[i]`` m/s (east positive). Sensor
    ``a`` sits at (-40, 0), sensor ``b`` at (40, 0); each sees cars within ``range_m``.
    """

    x0: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    range_m: float = 90.0
    sensors: tuple[tuple[float, float], ...] = ((-40.0, 0.0), (40.0, 0.0))

    @classmethod
    def lanes(cls) -> Scene:
        """Four cars: two eastbound, two westbound, crossing both sensors' fields."""
        return cls(
            x0=np.array([-60.0, -45.0, 60.0, 45.0]),
            y=np.array([-5.25, -1.75, 1.75, 5.25]),
            vx=np.array([12.0, 9.0, -11.0, -8.0]),
        )

    def truth(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Positions (x, y) m of every car ``t`` s after the start, shape (n,) each."""
        return self.x0 + self.vx * t, self.y.copy()

    def visible(self, sensor: int, t: float) -> np.ndarray:
        """Indices of the cars sensor ``sensor`` sees at ``t``."""
        x, y = self.truth(t)
        sx, sy = self.sensors[sensor]
        return np.flatnonzero(np.hypot(x - sx, y - sy) <= self.range_m)

    def frame(self, sensor: int, t: float) -> np.ndarray:
        """The PERCEPTION_DTYPE frame of ``sensor`` at ``t`` (local ids = car index), shape (k,)."""
        idx = self.visible(sensor, t)
        x, y = self.truth(t)
        lat, lon = FRAME.to_wgs84(x[idx], y[idx])
        a = np.zeros(len(idx), dtype=proto.PERCEPTION_DTYPE)
        a["local_id"] = idx
        a["lat"], a["lon"] = lat, lon
        a["speed"] = np.abs(self.vx[idx])
        # compass heading: east = pi/2, west = 3 pi/2
        a["heading"] = np.where(self.vx[idx] >= 0, np.pi / 2, 3 * np.pi / 2)
        a["length"], a["width"], a["cls"], a["confidence"] = 4.5, 1.8, 1, 0.9
        a["cov_ee"], a["cov_en"], a["cov_nn"] = 0.25, 0.0, 0.25
        return a
