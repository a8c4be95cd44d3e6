"""The tracker's behaviour on small scenes with known answers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from fusion import MofNInitiator, Tracker
from proto import pb
from tests.fusion.conftest import NeverDelete, RecordingPredictor, detections, report

DT = 0.1
CAR = pb.OBJECT_CLASS_CAR
BUS = pb.OBJECT_CLASS_BUS
TRUCK = pb.OBJECT_CLASS_TRUCK


Scene = Callable[[int, float], tuple[np.ndarray, np.ndarray | None]]


def _run(tracker: Tracker, ticks: int, scene: Scene, t0: float = 0.0) -> list[np.ndarray]:
    out = []
    for k in range(ticks):
        t = t0 + k * DT
        dets, reps = scene(k, t)
        out.append(tracker.step(t, dets, reps))
    return out


@pytest.mark.parametrize(
    "offsets",
    [(0.0, 0.0), (0.0, -0.03), (0.0, -0.03, -0.07)],
    ids=["two-synchronous", "two-offset", "three-offset"],
)
def test_sensors_seeing_one_vehicle_give_one_track(offsets: tuple[float, ...]) -> None:
    rng = np.random.default_rng(1)

    def scene(k: int, t: float) -> tuple[np.ndarray, np.ndarray | None]:
        parts = []
        for s, off in enumerate(offsets):
            pos = np.array([10.0 * (t + off), 5.0])
            parts.append(detections(t + off, s, pos + rng.normal(0, 0.5, 2), sigma=0.5))
        return np.concatenate(parts), None

    tracker = Tracker()
    tables = _run(tracker, 40, scene)
    assert [len(tab) for tab in tables[3:]] == [1] * 37
    assert len({int(tab["track_id"][0]) for tab in tables[3:]}) == 1
    last = tables[-1][0]
    assert abs(last["x"] - 10.0 * 39 * DT) < 0.5 and abs(last["y"] - 5.0) < 0.5
    assert abs(last["vx"] - 10.0) < 1.0
    assert tracker.stats["births"] == 1


@pytest.mark.parametrize(
    ("angle", "gap"),
    [(np.radians(30.0), 0.0), (np.radians(90.0), 0.0), (np.pi, 3.0)],
    ids=["shallow-crossing", "right-angle", "passing-opposite"],
)
def test_crossing_vehicles_keep_their_identities(angle: float, gap: float) -> None:
    rng = np.random.default_rng(2)
    speed = 10.0
    va = np.array([speed, 0.0])
    vb = speed * np.array([np.cos(angle), np.sin(angle)])
    meet = 5.0  # s

    def truth(t: float) -> np.ndarray:
        a = va * (t - meet)
        b = vb * (t - meet) + np.array([0.0, gap])
        return np.stack([a, b])

    def scene(k: int, t: float) -> tuple[np.ndarray, np.ndarray | None]:
        p = truth(t)
        d0 = detections(t, 0, p + rng.normal(0, 0.5, p.shape), sigma=0.5)
        d1 = detections(t, 1, p + rng.normal(0, 0.8, p.shape), sigma=0.8)
        return np.concatenate([d0, d1]), None

    tables = _run(Tracker(), 100, scene)

    def owner(tab: np.ndarray, t: float) -> list[int]:
        p = truth(t)
        xy = np.stack([tab["x"], tab["y"]], axis=1)
        return [int(tab["track_id"][np.argmin(np.hypot(*(xy - q).T))]) for q in p]

    before = owner(tables[10], 10 * DT)
    after = owner(tables[99], 99 * DT)
    assert before[0] != before[1]
    assert after == before
    assert all(len(tab) == 2 for tab in tables[3:])


def test_a_bsm_gives_a_perceived_bus_its_identity() -> None:
    rng = np.random.default_rng(3)
    v = (8.0, 0.0)

    def pos(t: float) -> tuple[float, float]:
        return (v[0] * t, 20.0)

    def scene(k: int, t: float) -> tuple[np.ndarray, np.ndarray | None]:
        # a camera takes the bus for a truck; a second car drives alongside, 4 m away
        p = np.array([pos(t), (pos(t)[0], 24.0)]) + rng.normal(0, 0.4, (2, 2))
        dets = detections(t, 0, p, sigma=0.4, cls=TRUCK, confidence=0.6, length=11.0, width=2.5)
        dets["cls"][1] = CAR
        reps = None
        if k >= 20:
            reps = report(t - 0.02, "bus-42", (v[0] * (t - 0.02), 20.0), v, cls=BUS, bus_line="11", length=12.0)
        return dets, reps

    tracker = Tracker()
    tables = _run(tracker, 40, scene)
    before = tables[19]
    bus_track = int(before["track_id"][np.argmin(np.abs(before["y"] - 20.0))])
    row_before = before[before["track_id"] == bus_track][0]
    assert row_before["vehicle_id"] == "" and row_before["cls"] == TRUCK
    after = tables[-1]
    assert len(after) == 2
    row = after[after["track_id"] == bus_track][0]
    assert row["vehicle_id"] == "bus-42" and row["bus_line"] == "11"
    assert row["cls"] == BUS and row["length"] == pytest.approx(12.0)
    other = after[after["track_id"] != bus_track][0]
    assert other["vehicle_id"] == "" and other["cls"] == CAR


def test_a_report_alone_starts_a_confirmed_track() -> None:
    tracker = Tracker()
    empty = detections(0.0, 0, np.zeros((0, 2)))
    tab = tracker.step(0.0, empty, report(0.0, "taxi-7", (100.0, 50.0), (0.0, 5.0), cls=pb.OBJECT_CLASS_ROBOTAXI))
    assert len(tab) == 1 and tab["vehicle_id"][0] == "taxi-7" and tab["cls"][0] == pb.OBJECT_CLASS_ROBOTAXI
    tab = tracker.step(0.1, empty, report(0.1, "taxi-7", (100.0, 50.5), (0.0, 5.0)))
    assert len(tab) == 1 and tab["y"][0] == pytest.approx(50.5, abs=0.1)
    assert tracker.stats["births"] == 1


def test_m_of_n_confirmation_and_deletion_after_misses() -> None:
    tracker = Tracker()
    sizes = []
    for k in range(15):
        t = k * DT
        dets = detections(t, 0, [(10.0 * t, 0.0)]) if k < 8 else detections(t, 0, np.zeros((0, 2)))
        sizes.append(len(tracker.step(t, dets)))
    # confirmed at the third hit (3 of 4); coasts for 4 missed ticks, deleted at the fifth
    assert sizes == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]


def test_clutter_does_not_make_tracks() -> None:
    rng = np.random.default_rng(4)
    tracker = Tracker()
    for k in range(50):
        t = k * DT
        tab = tracker.step(t, detections(t, k % 3, rng.uniform(0, 1000, (20, 2)), sigma=1.0))
        assert len(tab) == 0
    assert tracker.store.n < 100


def test_class_and_size_by_confidence_weighted_vote() -> None:
    tracker = Tracker()
    for k in range(10):
        t = k * DT
        p = [(5.0 * t, 0.0)]
        car = detections(t, 0, p, cls=CAR, confidence=0.9, length=4.6, width=1.8)
        truck = detections(t, 1, p, cls=TRUCK, confidence=0.5, length=7.0, width=2.2)
        tab = tracker.step(t, np.concatenate([car, truck]))
    assert tab["cls"][0] == CAR
    assert tab["length"][0] == pytest.approx((0.9 * 4.6 + 0.5 * 7.0) / 1.4, rel=1e-5)


def test_bad_rows_are_counted_and_skipped() -> None:
    tracker = Tracker()
    dets = detections(0.0, 0, [(0.0, 0.0), (1.0, 1.0), (50.0, 50.0)])
    dets["x"][1] = np.nan
    tracker.step(0.0, dets)
    assert tracker.stats["invalid_detections"] == 1
    assert tracker.store.n == 2


def test_components_come_from_the_constructor() -> None:
    pred = RecordingPredictor()
    tracker = Tracker(predictor=pred, initiator=MofNInitiator(m=1, n=1), deleter=NeverDelete())
    tab = tracker.step(1.0, detections(1.0, 0, [(0.0, 0.0)]))
    assert len(tab) == 1  # confirmed at once
    for k in range(2, 12):
        tab = tracker.step(1.0 + k * DT, detections(1.0, 0, np.zeros((0, 2))))
    assert len(tab) == 1  # never deleted
    assert pred.steps[:2] == [pytest.approx(0.2), pytest.approx(0.1)]


def test_a_bsm_a_few_metres_off_still_names_the_perceived_track() -> None:
    tracker = Tracker()
    rng = np.random.default_rng(6)
    for k in range(30):
        t = k * DT
        pos = np.array([[6.0 * t, 0.0]])
        dets = detections(t, 0, pos + rng.normal(0, 0.3, (1, 2)), sigma=0.3)
        # GNSS 3 m off to the side
        reps = report(t, "taxi-1", (6.0 * t, 3.0), (6.0, 0.0), cls=pb.OBJECT_CLASS_ROBOTAXI) if k >= 10 else None
        tab = tracker.step(t, dets, reps)
    assert len(tab) == 1 and tab["vehicle_id"][0] == "taxi-1"
    assert tracker.stats["births"] == 1


def test_a_track_gone_astray_restarts_at_its_own_report() -> None:
    tracker = Tracker()
    empty = detections(0.0, 0, np.zeros((0, 2)))
    for k in range(5):
        tracker.step(k * DT, empty, report(k * DT, "bus-9", (10.0 * k * DT, 0.0), (10.0, 0.0), cls=BUS))
    # the next report is 200 m away: the identity wins, the track moves there
    tab = tracker.step(0.5, empty, report(0.5, "bus-9", (200.0, 50.0), (10.0, 0.0), cls=BUS))
    assert (
        len(tab) == 1 and tab["x"][0] == pytest.approx(200.0, abs=0.1) and tab["y"][0] == pytest.approx(50.0, abs=0.1)
    )
    assert tracker.stats["reseated"] == 1 and tracker.stats["births"] == 1


def test_table_columns_describe_each_track() -> None:
    tracker = Tracker()
    for k in range(7):
        t = 1.0 + k * DT
        dets = detections(t, 0, [(10.0 * t, 5.0)], cls=CAR, length=4.0, width=2.0) if k < 5 else detections(t, 0, [])
        tab = tracker.step(t, dets)
    assert len(tab) == 1
    row = tab[0]
    st = tracker.store
    assert row["t"] == pytest.approx(1.6) and row["age"] == pytest.approx(0.6)
    assert row["last_update"] == pytest.approx(1.4)
    assert row["hits"] == 5 and row["misses"] == 2
    assert row["track_id"] == st.track_id[0]
    assert np.array_equal([row["x"], row["y"], row["vx"], row["vy"]], st.x[0])
    assert np.array_equal(row["P"], st.P[0])
    assert row["cls"] == CAR and row["length"] == pytest.approx(4.0) and row["width"] == pytest.approx(2.0)
    assert tracker.table(include_tentative=True)["track_id"].tolist() == st.track_id.tolist()


def test_measured_velocities_are_fused() -> None:
    """A radar reporting velocity next to a camera that does not: the track's velocity is known
    at once; a velocity with a missing component counts as unknown."""
    rng = np.random.default_rng(8)
    tracker = Tracker()
    for k in range(4):
        t = k * DT
        pos = np.array([[10.0 * t, 3.0]])
        radar = detections(t, 0, pos + rng.normal(0, 0.3, (1, 2)), sigma=0.3)
        radar["vx"], radar["vy"] = 10.0 + rng.normal(0, 0.2), rng.normal(0, 0.2)
        camera = detections(t, 1, pos + rng.normal(0, 0.3, (1, 2)), sigma=0.3)
        camera["vx"] = -50.0  # vy stays NaN: unknown, not -50 m/s
        tab = tracker.step(t, np.concatenate([radar, camera]))
    assert len(tab) == 1 and tracker.stats["births"] == 1
    assert tab["vx"][0] == pytest.approx(10.0, abs=0.5) and abs(tab["vy"][0]) < 0.5
    assert tab["P"][0][2, 2] < 1.0  # the radar's velocity variance (1 (m/s)^2), not the 10 m/s prior
