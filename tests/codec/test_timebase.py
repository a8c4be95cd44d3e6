"""Partial times resolve to the instance nearest the reference, across minute, hour and year ends."""

from __future__ import annotations

import datetime as dt

import pytest

from codec import timebase


def _ns(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC).timestamp()) * 10**9


@pytest.mark.parametrize(
    ("moy", "ms", "ref", "want"),
    [
        (0, 1500, _ns(2024, 1, 1, 0, 0, 10), _ns(2024, 1, 1, 0, 0, 1) + 500 * 10**6),
        (525599, 59000, _ns(2024, 1, 1, 0, 0, 10), _ns(2023, 12, 31, 23, 59, 59)),  # last minute of 2023
        (0, 0, _ns(2023, 12, 31, 23, 59, 50), _ns(2024, 1, 1)),  # first minute of the next year
        (None, 59000, _ns(2024, 3, 1, 12, 0, 2), _ns(2024, 3, 1, 11, 59, 59)),  # ms only: previous minute
        (None, None, 123, 123),
        (527040, 65535, 123, 123),  # both "unknown"
    ],
    ids=["new-year", "year-before", "year-after", "ms-only", "nothing", "unknown"],
)
def test_minute_of_year_and_ms(moy: int | None, ms: int | None, ref: int, want: int) -> None:
    assert timebase.from_moy_ms(moy, ms, ref) == want


def test_timemark_is_the_nearest_instance_of_the_tenth_of_the_hour() -> None:
    ref = _ns(2024, 12, 10, 17, 59, 0)
    assert timebase.from_timemark(100, ref) == _ns(2024, 12, 10, 18, 0, 10)  # the next hour
    assert timebase.from_timemark(35000, ref) == _ns(2024, 12, 10, 17, 58, 20)
    assert timebase.from_timemark(36001, ref) == 0
    assert timebase.to_timemark(_ns(2024, 12, 10, 18, 0, 10)) == 100 and timebase.to_timemark(0) == 36001
