"""Resolving the standards' partial times against a reference time, and back.

The standards send times without their larger units: a minute of the year (no year), a
millisecond of the minute (``DSecond``), a tenth of a second of the hour (J2735 ``TimeMark``).
The full time is the candidate nearest to a reference time the caller knows (the RSU frame's
UTC time, the message's own timestamp, or the receive time). All times are integer ns since
the Unix epoch, UTC; leap seconds are not modelled.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

NS_PER_MS: Final = 1_000_000
NS_PER_S: Final = 1_000_000_000
NS_PER_MIN: Final = 60 * NS_PER_S
NS_PER_HOUR: Final = 60 * NS_PER_MIN
#: MinuteOfTheYear value meaning "unknown".
MOY_UNKNOWN: Final = 527040
#: J2735 TimeMark value meaning "unknown" (36000 is a leap second).
TIMEMARK_UNKNOWN: Final = 36001


def year_start_ns(year: int) -> int:
    """1 January 00:00 UTC of ``year`` in ns since the epoch."""
    return int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp()) * NS_PER_S


def _year_of(t_ns: int) -> int:
    return dt.datetime.fromtimestamp(t_ns // NS_PER_S, tz=dt.UTC).year


def minute_start_ns(moy: int, ref_ns: int) -> int:
    """Start of minute-of-year ``moy`` in the year (around ``ref_ns``) that puts it nearest ``ref_ns``."""
    year = _year_of(ref_ns)
    candidates = [year_start_ns(y) + moy * NS_PER_MIN for y in (year - 1, year, year + 1)]
    return min(candidates, key=lambda c: abs(c - ref_ns))


def moy_of(t_ns: int) -> int:
    """Minute of the year (UTC) of ``t_ns``."""
    return (t_ns - year_start_ns(_year_of(t_ns))) // NS_PER_MIN


def ms_of_minute(t_ns: int) -> int:
    """Millisecond within the minute (``DSecond``, 0..59999) of ``t_ns``, rounded down."""
    return (t_ns % NS_PER_MIN) // NS_PER_MS


def from_moy_ms(moy: int | None, ms: int | None, ref_ns: int) -> int:
    """Time from an optional minute of the year and optional ms of the minute.

    Parameters
    ----------
    moy
        Minute of the year, ``None`` or :data:`MOY_UNKNOWN` when not sent.
    ms
        Millisecond of the minute (``DSecond``); ``None`` or >= 60000 (leap/unavailable) when
        not usable.
    ref_ns
        Reference time, ns.

    Returns
    -------
    int
        ns since the epoch; ``ref_ns`` when neither part is usable.
    """
    ms_ok = ms if ms is not None and 0 <= ms < 60_000 else None
    if moy is not None and 0 <= moy < MOY_UNKNOWN:
        return minute_start_ns(moy, ref_ns) + (ms_ok or 0) * NS_PER_MS
    if ms_ok is not None:
        return nearest(ref_ns - ref_ns % NS_PER_MIN + ms_ok * NS_PER_MS, ref_ns, NS_PER_MIN)
    return ref_ns


def nearest(t_ns: int, ref_ns: int, period_ns: int) -> int:
    """``t_ns`` shifted by whole periods to lie within half a period of ``ref_ns``."""
    k = round((ref_ns - t_ns) / period_ns)
    return t_ns + k * period_ns


def from_timemark(tenths: int, ref_ns: int) -> int:
    """J2735 ``TimeMark`` (0.1 s within the UTC hour) -> ns, the instance nearest ``ref_ns``; 0 if unknown."""
    if tenths >= TIMEMARK_UNKNOWN or tenths < 0:
        return 0
    hour = ref_ns - ref_ns % NS_PER_HOUR
    return nearest(hour + tenths * (NS_PER_S // 10), ref_ns, NS_PER_HOUR)


def to_timemark(t_ns: int) -> int:
    """ns -> J2735 ``TimeMark`` (0.1 s within the UTC hour, rounded); 0 ns (unknown) -> 36001."""
    if t_ns == 0:
        return TIMEMARK_UNKNOWN
    return round((t_ns % NS_PER_HOUR) / (NS_PER_S // 10)) % 36000


def to_tenths_after(t_ns: int, start_ns: int, *, limit: int = 36000) -> int:
    """Tenths of a second from ``start_ns`` to ``t_ns``, rounded and clipped to ``0..limit``."""
    return max(0, min(limit, round((t_ns - start_ns) / (NS_PER_S // 10))))
