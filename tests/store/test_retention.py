"""Daily partitions ahead, the DEFAULT partition as a safety net, retention per kind of data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pytest

from store.partitions import create_day, ensure_partitions, partitions
from store.retention import MAINTENANCE_LOCK, RetentionPolicy, enforce_retention, maintain
from tests.store.conftest import T0, copy_rows, tracks

pytestmark = pytest.mark.postgres
DAY = 86400.0
T0_DAY = datetime.fromtimestamp(T0, UTC).date()


def _where(conn: psycopg.Connection[Any], table: str) -> dict[str, int]:
    rows = conn.execute(f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1").fetchall()
    return {str(name): int(n) for name, n in rows}


def test_partitions_are_created_ahead_and_idempotently(conn: psycopg.Connection[Any]) -> None:
    created = ensure_partitions(conn, T0, days_ahead=2, days_behind=1, tables=("tracks",))
    assert created == [f"tracks_p{d:%Y%m%d}" for d in (T0_DAY + timedelta(days=k) for k in range(-1, 3))]
    assert ensure_partitions(conn, T0, tables=("tracks",)) == []
    assert sorted(partitions(conn, "tracks")) == [T0_DAY + timedelta(days=k) for k in range(-1, 3)]


def test_rows_outside_any_partition_land_in_default_and_move_when_their_day_comes(
    conn: psycopg.Connection[Any],
) -> None:
    ensure_partitions(conn, T0, days_ahead=0, days_behind=0, tables=("tracks",))
    copy_rows(conn, "tracks", tracks(3, t0=T0))  # today: its partition
    copy_rows(conn, "tracks", tracks(4, start=3, t0=T0 + 10 * DAY))  # far ahead: DEFAULT, not refused
    day = f"tracks_p{T0_DAY:%Y%m%d}"
    assert _where(conn, "tracks") == {day: 3, "tracks_default": 4}
    create_day(conn, "tracks", T0_DAY + timedelta(days=10))
    later = f"tracks_p{T0_DAY + timedelta(days=10):%Y%m%d}"
    assert _where(conn, "tracks") == {day: 3, later: 4}
    # the moved partition has the parent's indexes
    indexes = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", (later,)).fetchone()
    assert indexes == (2,)


def test_retention_drops_old_days_and_old_default_rows_per_kind(conn: psycopg.Connection[Any]) -> None:
    now = T0 + 30 * DAY
    for age_days in (40, 20, 8, 1):  # partitions for these days
        create_day(conn, "tracks", (datetime.fromtimestamp(now, UTC) - timedelta(days=age_days)).date())
        copy_rows(conn, "tracks", tracks(2, start=age_days * 10, t0=now - age_days * DAY))
    copy_rows(conn, "tracks", tracks(2, start=500, t0=now - 100 * DAY))  # very old, in DEFAULT
    copy_rows(
        conn,
        "lane_states",
        {
            "time": np.array([now - 20 * DAY]),
            "lane_id": np.array(["l1"]),
            "count": np.array([1]),
            "queue_m": np.zeros(1),
            "mean_speed": np.zeros(1),
            "occupancy": np.zeros(1),
        },
    )
    copy_rows(
        conn,
        "audit",
        {
            "time": np.array([now - 400 * DAY, now - 10 * DAY]),
            "actor": np.array(["a", "b"]),
            "action": np.array(["x", "y"]),
            "outcome": np.array(["ok", "ok"]),
        },
    )
    policy = RetentionPolicy(tracks=timedelta(days=7), audit=timedelta(days=365))
    result = enforce_retention(conn, now, policy)
    assert result["tracks"] == (3, 2)  # the 40-, 20- and 8-day-old days; the DEFAULT rows
    assert conn.execute("SELECT array_agg(track_id ORDER BY track_id) FROM tracks").fetchone() == ([10, 11],)
    assert conn.execute("SELECT count(*) FROM lane_states").fetchone() == (1,)  # aggregates: 90 days
    assert conn.execute("SELECT actor FROM audit").fetchall() == [("b",)]


def test_maintenance_steps_aside_when_another_process_holds_it(db: str, conn: psycopg.Connection[Any]) -> None:
    with psycopg.connect(db, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (MAINTENANCE_LOCK,))
        assert maintain(conn, T0, None) is False
        other.execute("SELECT pg_advisory_unlock(%s)", (MAINTENANCE_LOCK,))
    assert maintain(conn, T0, None) is True
    assert len(partitions(conn, "events")) == 4


def test_retention_policy_from_settings() -> None:
    p = RetentionPolicy.from_days({"tracks": 3, "audit": 3650})
    assert p.keep("tracks") == timedelta(days=3) and p.keep("raw_detections") == timedelta(days=2)
    with pytest.raises(ValueError, match="unknown retention kind"):
        RetentionPolicy.from_days({"trakcs": 3})
    assert isinstance(T0_DAY, date)


@pytest.mark.parametrize("kind", ["raw_detections", "tracks", "aggregates", "events", "audit", "batch_log"])
def test_retention_periods_must_be_positive(kind: str) -> None:
    for days in (0, -1):
        with pytest.raises(ValueError, match="must be positive"):
            RetentionPolicy.from_days({kind: days})


def test_configured_retention_drops_old_days_per_kind_and_aggregates_outlive_raw(
    conn: psycopg.Connection[Any],
) -> None:
    now = T0 + 200 * DAY
    day = datetime.fromtimestamp(now, UTC).date()
    ages = (1, 3, 10, 100)
    tables = ("detections_raw", "tracks", "vehicle_reports", "lane_states")
    for table in tables:
        for age in ages:
            create_day(conn, table, day - timedelta(days=age))
    for age in ages:
        t = np.array([now - age * DAY])
        copy_rows(
            conn, "detections_raw", {"time": t, "sensor_id": np.array(["s"]), "local_id": [age], "x": [0.0], "y": [0.0]}
        )
        copy_rows(conn, "tracks", tracks(1, start=age, t0=t[0]))
        copy_rows(
            conn,
            "vehicle_reports",
            {
                "time": t,
                "vehicle_pseudonym": np.array(["p1"]),
                **{k: np.zeros(1) for k in ("x", "y", "vx", "vy", "speed", "heading")},
            },
        )
        copy_rows(
            conn,
            "lane_states",
            {
                "time": t,
                "lane_id": np.array(["l1"]),
                "count": np.array([age]),
                **{k: np.zeros(1) for k in ("queue_m", "mean_speed", "occupancy")},
            },
        )
    policy = RetentionPolicy.from_days({"raw_detections": 2, "tracks": 7, "vehicle_reports": 7, "aggregates": 90})
    assert maintain(conn, now, policy) is True

    def ages_left(table: str) -> list[int]:
        rows = conn.execute(f"SELECT extract(epoch FROM time)::float8 FROM {table} ORDER BY time DESC").fetchall()
        return [round((now - r[0]) / DAY) for r in rows]

    assert ages_left("detections_raw") == [1]
    assert ages_left("tracks") == ages_left("vehicle_reports") == [1, 3]
    assert ages_left("lane_states") == [1, 3, 10]  # aggregates outlive raw data
    kept_days = {d for t in tables for d in partitions(conn, t) if d < day - timedelta(days=1)}
    assert day - timedelta(days=100) not in kept_days  # old partitions are dropped, not emptied
    assert (day - timedelta(days=10)) in partitions(conn, "lane_states")
    assert (day - timedelta(days=10)) not in partitions(conn, "tracks")


def test_retention_that_keeps_raw_data_longer_than_aggregates_is_refused() -> None:
    with pytest.raises(ValueError, match=r"aggregates .* at least as long as raw data; tracks"):
        RetentionPolicy.from_days({"tracks": 120})
    assert RetentionPolicy().vehicle_horizon == timedelta(days=365)  # events name vehicles longest
