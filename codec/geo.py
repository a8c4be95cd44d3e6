"""Positions on the wire: 1e-7 degree offsets (CSAE), centimetre offsets (J2735 MAP), and back.

Offsets in centimetres use the local tangent plane at the reference point (WGS84 meridian and
prime-vertical radii): across an intersection (< 2 km) the error is far below the standards'
1 cm / 1e-7 degree resolution.
"""

from __future__ import annotations

import math
from typing import Any, Final

from codec.errors import CodecError

_A: Final = 6378137.0  # WGS84 semi-major axis, m
_E2: Final = 6.69437999014e-3  # WGS84 first eccentricity squared

#: CSAE PositionOffsetLL choices: (name, half range in 1e-7 degree); the last is absolute.
LL_CHOICES: Final = tuple((f"position-LL{i + 1}", 1 << b) for i, b in enumerate((11, 13, 15, 17, 21, 23)))
#: J2735 NodeOffsetPointXY choices: (name, half range in cm); node-LatLon is absolute.
XY_CHOICES: Final = tuple((f"node-XY{i + 1}", 1 << b) for i, b in enumerate((9, 10, 11, 12, 13, 15)))
LAT_UNAVAILABLE: Final = 900000001
LON_UNAVAILABLE: Final = 1800000001


def check_position(lat_e7: int, lon_e7: int, field: str) -> None:
    """Raise :class:`CodecError` (``out_of_range``) when a position is the standards' "unavailable"."""
    if lat_e7 == LAT_UNAVAILABLE or lon_e7 == LON_UNAVAILABLE:
        raise CodecError(f"{field}: position unavailable ({lat_e7}, {lon_e7})", reason="out_of_range", field=field)


def ll_to_e7(offset: tuple[str, dict[str, int]], ref: tuple[int, int]) -> tuple[int, int]:
    """CSAE ``PositionOffsetLL`` value -> absolute ``(lat_e7, lon_e7)``.

    Parameters
    ----------
    offset
        ``(choice, {"lon": ..., "lat": ...})`` as asn1tools decodes it.
    ref
        ``(lat_e7, lon_e7)`` of the reference position.
    """
    name, v = offset
    if name == "position-LatLon":
        return v["lat"], v["lon"]
    return ref[0] + v["lat"], ref[1] + v["lon"]


def e7_to_ll(lat_e7: int, lon_e7: int, ref: tuple[int, int]) -> tuple[str, dict[str, int]]:
    """Absolute position -> the smallest CSAE ``PositionOffsetLL`` choice that holds it."""
    dlat, dlon = lat_e7 - ref[0], lon_e7 - ref[1]
    for name, half in LL_CHOICES:
        if -half <= dlat < half and -half <= dlon < half:
            return name, {"lon": dlon, "lat": dlat}
    return "position-LatLon", {"lon": lon_e7, "lat": lat_e7}


def radii(lat_deg: float) -> tuple[float, float]:
    """Meridian and prime-vertical radii of curvature (m) at ``lat_deg``."""
    s2 = math.sin(math.radians(lat_deg)) ** 2
    w = math.sqrt(1.0 - _E2 * s2)
    return _A * (1.0 - _E2) / w**3, _A / w


def cm_to_e7(x_cm: float, y_cm: float, ref: tuple[int, int]) -> tuple[int, int]:
    """East/north centimetres from ``ref`` -> absolute ``(lat_e7, lon_e7)``, rounded."""
    lat0 = ref[0] * 1e-7
    m, n = radii(lat0)
    dlat = math.degrees(y_cm / 100.0 / m)
    dlon = math.degrees(x_cm / 100.0 / (n * math.cos(math.radians(lat0))))
    return ref[0] + round(dlat * 1e7), ref[1] + round(dlon * 1e7)


def e7_to_cm(lat_e7: int, lon_e7: int, ref: tuple[int, int]) -> tuple[int, int]:
    """Absolute ``(lat_e7, lon_e7)`` -> east/north centimetres from ``ref``, rounded."""
    lat0 = ref[0] * 1e-7
    m, n = radii(lat0)
    y = math.radians((lat_e7 - ref[0]) * 1e-7) * m * 100.0
    x = math.radians((lon_e7 - ref[1]) * 1e-7) * n * math.cos(math.radians(lat0)) * 100.0
    return round(x), round(y)


def xy_choice(dx_cm: int, dy_cm: int) -> tuple[str, dict[str, int]] | None:
    """The smallest J2735 ``NodeOffsetPointXY`` choice holding a cm offset, ``None`` if none does."""
    for name, half in XY_CHOICES:
        if -half <= dx_cm < half and -half <= dy_cm < half:
            return name, {"x": dx_cm, "y": dy_cm}
    return None


def node_offset(point: tuple[str, Any]) -> tuple[str, tuple[int, int]]:
    """J2735 ``NodeOffsetPointXY`` -> ``("xy", (dx_cm, dy_cm))`` or ``("abs", (lat_e7, lon_e7))``.

    Raises
    ------
    CodecError
        For a regional-extension node, which the platform cannot place.
    """
    name, v = point
    if name == "node-LatLon":
        return "abs", (v["lat"], v["lon"])
    if name.startswith("node-XY"):
        return "xy", (v["x"], v["y"])
    raise CodecError(f"NodeOffsetPointXY.{name}: a regional node offset cannot be placed", reason="wrong_type")


def polyline_offsets(lat_e7: list[int], lon_e7: list[int], ref: tuple[int, int]) -> list[tuple[str, Any]]:
    """A polyline -> J2735 node offsets: the first from ``ref``, each next from the previous node.

    Offsets are whole centimetres measured from the *rounded* previous node, so decoding
    (:func:`node_offset` accumulated) gives back each vertex to the standard's resolution.
    A step too long for ``node-XY6`` (327 m) is sent as an absolute ``node-LatLon``.
    """
    out: list[tuple[str, Any]] = []
    prev_cm = (0, 0)
    for la, lo in zip(lat_e7, lon_e7, strict=True):
        x, y = e7_to_cm(la, lo, ref)
        step = xy_choice(x - prev_cm[0], y - prev_cm[1])
        if step is None:
            out.append(("node-LatLon", {"lon": lo, "lat": la}))
        else:
            out.append(step)
        prev_cm = (x, y)
    return out


def polyline_from_offsets(points: list[tuple[str, Any]], ref: tuple[int, int]) -> tuple[list[int], list[int]]:
    """Inverse of :func:`polyline_offsets`: J2735 node offsets -> ``(lat_e7 list, lon_e7 list)``."""
    lats: list[int] = []
    lons: list[int] = []
    cur = (0, 0)
    for p in points:
        kind, v = node_offset(p)
        if kind == "abs":
            cur = e7_to_cm(v[0], v[1], ref)
            lats.append(v[0])
            lons.append(v[1])
            continue
        cur = (cur[0] + v[0], cur[1] + v[1])
        la, lo = cm_to_e7(cur[0], cur[1], ref)
        lats.append(la)
        lons.append(lo)
    return lats, lons
