"""Checking and normalising batches on the caller's side (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from proto.arrays import VEHICLE_REPORT_DTYPE
from store.batch import NULL_TIME, PG_EPOCH_US, BatchError, merge, prepare, to_pg_time
from store.privacy import Pseudonymizer
from tests.store.conftest import tracks

KEY = b"0123456789abcdef-test-key"


@pytest.mark.parametrize(
    "values",
    [
        np.array([1767268800.25]),
        np.array([1767268800_250_000_000], np.int64),
        np.array(["2026-01-01T12:00:00.250"], "datetime64[ms]"),
    ],
    ids=["float-s", "int-ns", "datetime64"],
)
def test_times_become_microseconds_since_2000(values: np.ndarray) -> None:
    assert to_pg_time(values, nullable=False, where="t").tolist() == [1767268800_250_000 - PG_EPOCH_US]


def test_unknown_times_are_null_only_where_allowed() -> None:
    got = to_pg_time(np.array([0, 5_000_000_000], np.int64), nullable=True, where="t")
    assert got[0] == NULL_TIME
    with pytest.raises(BatchError, match="1 rows have no time"):
        to_pg_time(np.array([np.nan, 1.0]), nullable=False, where="tracks.time")


def test_defaults_fill_and_missing_required_columns_are_named() -> None:
    cols = tracks(3)
    b = prepare("tracks", cols)
    assert b.columns["lane_index"].tolist() == [-1, -1, -1]
    assert b.columns["cls"].dtype == np.int16
    del cols["speed"]
    with pytest.raises(BatchError, match=r"tracks\.speed: missing"):
        prepare("tracks", cols)


def test_unequal_lengths_and_wrong_types_are_refused() -> None:
    cols = tracks(3)
    cols["x"] = cols["x"][:2]
    with pytest.raises(BatchError, match=r"tracks\.x: 2 values, expected 3"):
        prepare("tracks", cols)
    cols = tracks(3)
    cols["region_id"] = np.arange(3)
    with pytest.raises(BatchError, match="text column needs strings"):
        prepare("tracks", cols)
    with pytest.raises(BatchError, match="unknown table 'nope'"):
        prepare("nope", cols)


def test_prepare_copies_so_the_caller_may_reuse_its_buffers() -> None:
    cols = tracks(3)
    b = prepare("tracks", cols)
    cols["x"][:] = 99.0
    assert b.columns["x"].tolist() == [0.0, 0.5, 1.0]


def test_raw_vehicle_ids_are_never_kept() -> None:
    reports = np.zeros(3, VEHICLE_REPORT_DTYPE)
    reports["vehicle_id"] = ["bus-7", "car-1", "bus-7"]
    reports["t"] = 1767268800.0
    with pytest.raises(BatchError, match="raw vehicle_id is never stored"):
        prepare("vehicle_reports", reports)
    b = prepare("vehicle_reports", reports, pseudonymize=Pseudonymizer(KEY))
    p = b.columns["vehicle_pseudonym"].tolist()
    assert p[0] == p[2] != p[1]
    assert all(v.startswith("p") and len(v) == 17 and "bus" not in v for v in p)  # trust.Pseudonymizer
    assert "vehicle_id" not in b.columns


def test_pseudonyms_depend_on_the_key_and_empty_stays_empty() -> None:
    ids = np.array(["bus-7", ""])
    a, b = Pseudonymizer(KEY)(ids), Pseudonymizer(KEY[::-1])(ids)
    assert a[1] == "" and a[0] != b[0]
    assert Pseudonymizer(KEY)(ids).tolist() == a.tolist()


def test_merge_concatenates_in_order() -> None:
    m = merge([prepare("tracks", tracks(2)), prepare("tracks", tracks(3, start=2))])
    assert m.n == 5 and m.columns["track_id"].tolist() == [0, 1, 2, 3, 4]
