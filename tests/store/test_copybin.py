"""Binary COPY payloads built from numpy, read back from the real server value for value."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import psycopg
import pytest

from store.batch import prepare
from store.copybin import column_order
from tests.store.conftest import T0, copy_rows, tracks

pytestmark = pytest.mark.postgres


def test_fixed_width_columns_come_first() -> None:
    order = column_order(prepare("tracks", tracks(2)))
    assert order[-2:] == ("region_id", "vehicle_pseudonym")


@pytest.mark.parametrize(
    "text",
    [
        np.array(["r1", "区域-2", "", "r-000000004"]),
        np.array([b"r1", b"r2", b"", b"r4"]),
        np.array(["r1", None, "é", "r4"], dtype=object),
        np.array(["r1", "r2", "", "r4"], dtype=np.dtypes.StringDType()),
    ],
    ids=["U-unicode", "S-bytes", "object", "StringDType"],
)
def test_tracks_round_trip(conn: psycopg.Connection[Any], text: np.ndarray) -> None:
    cols = tracks(4)
    cols["region_id"] = np.array(["a", "b", "c", "d"])
    cols["vehicle_pseudonym"] = text
    cols["lane_index"] = np.array([3, -1, 0, 7], np.int32)
    copy_rows(conn, "tracks", cols)
    rows = conn.execute(
        "SELECT extract(epoch FROM time)::float8, track_id, x, y, lane_index, vehicle_pseudonym, length"
        " FROM tracks ORDER BY track_id"
    ).fetchall()
    expected_text = [None if not v else (v.decode() if isinstance(v, bytes) else str(v)) for v in text.tolist()]
    assert [r[5] for r in rows] == expected_text
    assert [r[1] for r in rows] == [0, 1, 2, 3]
    assert [r[2] for r in rows] == cols["x"].tolist()
    assert [r[3] for r in rows] == cols["y"].tolist()
    assert [r[4] for r in rows] == [3, -1, 0, 7]
    assert np.allclose([r[0] for r in rows], cols["time"], atol=1e-6, rtol=0)
    assert {r[6] for r in rows} == {0.0}


def test_nullable_times_json_and_bytes_round_trip(conn: psycopg.Connection[Any]) -> None:
    t_ns = int(T0 * 1e9)
    copy_rows(
        conn,
        "signal_states",
        {
            "time": np.array([t_ns, t_ns], np.int64),
            "junction_id": np.array(["j1", "j1"]),
            "program_id": np.array(["", "p0"]),
            "phase_index": np.array([0, 2]),
            "group_id": np.array([1, 2]),
            "state": np.array([3, 6]),
            "min_end": np.array([0, t_ns + 5_000_000_000], np.int64),
            "likely_end": np.array([np.nan, T0 + 7.5]),
        },
    )
    rows = conn.execute(
        "SELECT group_id, program_id, extract(epoch FROM min_end), max_end,"
        " extract(epoch FROM likely_end)::float8 FROM signal_states ORDER BY group_id"
    ).fetchall()
    assert rows == [(1, None, None, None, None), (2, "p0", pytest.approx(T0 + 5), None, T0 + 7.5)]

    copy_rows(
        conn,
        "audit",
        {
            "time": np.array([T0, T0 + 1]),
            "actor": np.array(["op:li", "op:wang"]),
            "action": np.array(["override", "login"]),
            "outcome": np.array(["applied", "ok"]),
            "details": np.array([{"junction": "j1", "phase": 2}, None], dtype=object),
            "hash": np.array([b"\x00\x01\xff", None], dtype=object),
        },
    )
    rows = conn.execute("SELECT actor, details, hash, prev_hash FROM audit ORDER BY id").fetchall()
    assert rows == [("op:li", {"junction": "j1", "phase": 2}, b"\x00\x01\xff", None), ("op:wang", None, None, None)]
    assert json.loads(json.dumps(rows[0][1])) == {"junction": "j1", "phase": 2}


def test_an_empty_batch_is_a_valid_payload(conn: psycopg.Connection[Any]) -> None:
    copy_rows(conn, "tracks", tracks(0))
    assert conn.execute("SELECT count(*) FROM tracks").fetchone() == (0,)
