"""The local metric frame and the one documented heading convention.

Local frame
    East/north metres of a map projection, shifted by the map's offset:
    ``(x, y) = proj(lon, lat) + offset``. For a SUMO network these are exactly SUMO's own
    network coordinates (``projParameter`` and ``netOffset`` of its ``<location>``). A network
    without a geo-reference is placed with a transverse Mercator projection centred on an
    origin (by default :data:`DEFAULT_ORIGIN`), so that network coordinate (0, 0) is the origin.

Heading
    Inside the platform a heading is the **math angle**: radians, counter-clockwise from the
    local +x (east) axis, in (-pi, pi], i.e. ``atan2(vy, vx)``. On the wire headings are
    **compass** angles: clockwise from true north. :meth:`Frame.compass_to_math` and
    :meth:`Frame.math_to_compass` convert, correcting for the projection's grid convergence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

FloatArray = npt.NDArray[np.float64]

#: Where a network without a geo-reference is placed: Changsha, by the Xiangjiang (lat, lon).
DEFAULT_ORIGIN: tuple[float, float] = (28.1946, 112.9680)


def heading_of(vx: npt.ArrayLike, vy: npt.ArrayLike) -> FloatArray:
    """Math heading (radians, counter-clockwise from east) of velocity components, shape as input."""
    return np.arctan2(np.asarray(vy, dtype=np.float64), np.asarray(vx, dtype=np.float64))


def wrap_angle(a: npt.ArrayLike) -> FloatArray:
    """Wrap angles (radians) into (-pi, pi]."""
    a = np.asarray(a, dtype=np.float64)
    return np.pi - np.mod(np.pi - a, 2.0 * np.pi)


def tmerc_proj(lat: float, lon: float) -> str:
    """A transverse Mercator proj string centred on (lat, lon), metres, WGS84."""
    return f"+proj=tmerc +lat_0={lat:.9f} +lon_0={lon:.9f} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"


@dataclass(frozen=True)
class Frame:
    """WGS84 <-> local metric frame.

    Parameters
    ----------
    proj
        A proj string (``+proj=utm +zone=32 ...``) of the projected CRS.
    offset
        ``(dx, dy)`` metres added after projecting (SUMO's ``netOffset``).
    """

    proj: str
    offset: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def around(cls, lat: float, lon: float) -> Frame:
        """A frame whose local (0, 0) is at (lat, lon)."""
        return cls(tmerc_proj(lat, lon), (0.0, 0.0))

    @cached_property
    def _fwd(self) -> Transformer:
        return Transformer.from_crs(CRS.from_epsg(4326), CRS.from_proj4(self.proj), always_xy=True)

    @cached_property
    def _inv(self) -> Transformer:
        return Transformer.from_crs(CRS.from_proj4(self.proj), CRS.from_epsg(4326), always_xy=True)

    def to_local(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """WGS84 degrees -> local metres.

        Parameters
        ----------
        lat, lon
            Degrees, any matching shapes.

        Returns
        -------
        x, y
            East and north metres in the local frame, same shape.
        """
        e, n = self._fwd.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        return np.asarray(e) + self.offset[0], np.asarray(n) + self.offset[1]

    def to_wgs84(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Local metres -> WGS84 degrees; returns ``(lat, lon)`` of the same shape as the input."""
        xx = np.asarray(x, dtype=np.float64) - self.offset[0]
        yy = np.asarray(y, dtype=np.float64) - self.offset[1]
        lon, lat = self._inv.transform(xx, yy)
        return np.asarray(lat), np.asarray(lon)

    def north_angle(self, x: npt.ArrayLike = 0.0, y: npt.ArrayLike = 0.0) -> FloatArray:
        """Math angle (radians) of true north in the local frame at (x, y); pi/2 minus convergence."""
        lat, lon = self.to_wgs84(x, y)
        d = 1e-5
        x1, y1 = self.to_local(lat + d, lon)
        x0, y0 = self.to_local(lat - d, lon)
        return np.arctan2(y1 - y0, x1 - x0)

    @cached_property
    def _north0(self) -> float:
        # convergence at local (0, 0): inside the map for SUMO nets and for generated ones
        return float(self.north_angle(0.0, 0.0))

    def compass_to_math(self, compass: npt.ArrayLike) -> FloatArray:
        """Compass heading (radians clockwise from true north) -> math heading in the local frame.

        Uses one grid-convergence value for the whole frame (exact to well under 0.1 degree
        across a city).
        """
        return wrap_angle(self._north0 - np.asarray(compass, dtype=np.float64))

    def math_to_compass(self, heading: npt.ArrayLike) -> FloatArray:
        """Math heading in the local frame -> compass heading (radians clockwise from north), [0, 2pi)."""
        return np.mod(self._north0 - np.asarray(heading, dtype=np.float64), 2.0 * np.pi)
