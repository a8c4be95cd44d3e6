"""Detections to measurements: what is used as given, what is repaired, what is left out."""

from __future__ import annotations

import numpy as np
import pytest

from fusion.measurements import NoiseDefaults, from_detections
from tests.fusion.conftest import detections


def test_clean_rows_are_used_as_given() -> None:
    det = detections(2.0, [3, 3, 5], [(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)], sigma=0.5, cls=1, confidence=0.7)
    det["t"][2] = 1.96
    det["length"], det["width"] = 4.5, 1.8
    meas, invalid = from_detections(det, 2.0, NoiseDefaults())
    assert invalid == 0 and len(meas) == 3
    assert meas.z.tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    assert meas.R[:, 0].tolist() == [0.25, 0.0, 0.25]
    assert meas.tau == pytest.approx([0.0, 0.0, -0.04])
    assert meas.tau_range == pytest.approx((-0.04, 0.0))
    assert meas.r_max == 0.25 and not meas.with_velocity
    assert meas.scan[0] == meas.scan[1] != meas.scan[2]  # frames: (sensor, time)
    assert meas.weight == pytest.approx([0.7] * 3) and meas.length == pytest.approx([4.5] * 3)


def test_bad_values_are_repaired_or_the_row_left_out() -> None:
    det = detections(0.0, 0, [(float(k), 0.0) for k in range(6)], sigma=1.0, confidence=0.5)
    det["x"][1] = np.nan  # no position: left out
    det["t"][4] = np.inf  # no time: left out
    det["confidence"][[0, 2, 3]] = np.nan, 1.5, -0.2
    det["length"][[0, 2]] = -1.0, np.nan
    det["r_xx"][3] = -1.0  # not positive definite: the default noise
    det["vx"][5], det["vy"][5] = 3.0, 4.0
    det["vx"][0] = 7.0  # vy unknown: the velocity is unknown
    meas, invalid = from_detections(det, 0.0, NoiseDefaults(position_var=2.0))
    assert invalid == 2 and meas.z[0].tolist() == [0.0, 2.0, 3.0, 5.0]
    assert meas.weight.tolist() == [1.0, 1.0, 0.0, 0.5]
    assert meas.length.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert meas.R[:, 2].tolist() == [2.0, 0.0, 2.0]
    assert meas.with_velocity
    assert np.isnan(meas.v[:, 0]).all() and meas.v[:, 3].tolist() == [3.0, 4.0]
    sub = meas.take(np.array([3]))
    assert sub.v[:, 0].tolist() == [3.0, 4.0] and sub.tau_range == meas.tau_range


def test_rows_of_another_layout_read_by_field_name() -> None:
    det = detections(1.0, [2, 4], [(1.0, 2.0), (3.0, 4.0)], sigma=0.5, cls=3, confidence=0.6)
    det["length"], det["width"] = 4.0, 1.5
    names = list(reversed(det.dtype.names or ()))
    other = np.empty(len(det), dtype=[(name, det.dtype[name]) for name in names])  # fields reordered
    for name in names:
        other[name] = det[name]
    want, _ = from_detections(det, 1.0, NoiseDefaults())
    got, invalid = from_detections(other, 1.0, NoiseDefaults())
    assert invalid == 0
    for column in ("z", "R", "tau", "scan", "cls", "weight", "length", "width"):
        assert np.array_equal(getattr(got, column), getattr(want, column)), column
