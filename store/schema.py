"""The tables the writer knows, column by column, mirroring ``store/migrations``.

The SQL files are the truth for the database; this registry is what the binary COPY encoder needs
(PostgreSQL type, nullability, default when a batch lacks the column) and what retention and
revocation iterate over. ``tests/store/test_schema.py`` checks that the two agree.

Units: times are ``timestamptz``; positions metres in the map's local frame; speeds m/s;
headings radians (math, counter-clockwise from east); lengths metres; durations seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: PostgreSQL types the encoder writes.
PgType = Literal["timestamptz", "float8", "float4", "int8", "int4", "int2", "bool", "text", "jsonb", "bytea"]

#: Retention kinds (see :class:`store.retention.RetentionPolicy`).
RetentionKind = Literal["raw_detections", "tracks", "vehicle_reports", "aggregates", "events", "audit"]

#: The column that holds a vehicle's identity, wherever one is stored. Never a raw id.
PSEUDONYM = "vehicle_pseudonym"


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name
        Column name, also the name of the batch field that feeds it.
    pgtype
        PostgreSQL type written by the encoder.
    nullable
        Whether NULL is allowed. A nullable text column stores an empty string as NULL; a
        nullable timestamptz column stores NaN (float seconds) or 0 (int ns) as NULL.
    default
        Value used when a batch lacks the column (``None``: the batch must provide it, unless
        the column is nullable, in which case it is NULL).
    """

    name: str
    pgtype: PgType
    nullable: bool = False
    default: float | int | str | None = None


@dataclass(frozen=True)
class Table:
    """A table the writer can fill and retention can trim.

    Parameters
    ----------
    name
        Table name.
    columns
        Columns in table order.
    retention
        The retention kind that bounds how long rows are kept.
    timeseries
        True for tables keyed by ``time`` (daily partitions or hypertable chunks).
    time_column
        The column retention compares with its cut-off.
    """

    name: str
    columns: tuple[Column, ...]
    retention: RetentionKind
    timeseries: bool = True
    time_column: str = "time"

    @property
    def holds_vehicles(self) -> bool:
        """Whether rows name a vehicle (by pseudonym) and must go on an owner's revocation."""
        return any(c.name == PSEUDONYM for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name``; KeyError names the table when there is none."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")


def _c(name: str, pgtype: PgType, nullable: bool = False, default: float | int | str | None = None) -> Column:
    return Column(name, pgtype, nullable, default)


_T: PgType = "timestamptz"
_F8: PgType = "float8"
_F4: PgType = "float4"

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "detections_raw",
            (
                _c("time", _T),
                _c("sensor_id", "text"),
                _c("local_id", "int8"),
                _c("x", _F8),
                _c("y", _F8),
                _c("vx", _F8, default=float("nan")),
                _c("vy", _F8, default=float("nan")),
                _c("length", _F4, default=0.0),
                _c("width", _F4, default=0.0),
                _c("cls", "int2", default=0),
                _c("confidence", _F4, default=1.0),
                _c("r_xx", _F4, default=float("nan")),
                _c("r_xy", _F4, default=float("nan")),
                _c("r_yy", _F4, default=float("nan")),
            ),
            "raw_detections",
        ),
        Table(
            "tracks",
            (
                _c("time", _T),
                _c("region_id", "text", default=""),
                _c("track_id", "int8"),
                _c("x", _F8),
                _c("y", _F8),
                _c("vx", _F8),
                _c("vy", _F8),
                _c("speed", _F8),
                _c("heading", _F8),
                _c("length", _F4, default=0.0),
                _c("width", _F4, default=0.0),
                _c("cls", "int2", default=0),
                _c("lane_index", "int4", default=-1),
                _c("dist_to_stop", _F8, default=float("nan")),
                _c(PSEUDONYM, "text", nullable=True),
            ),
            "tracks",
        ),
        Table(
            "vehicle_reports",
            (
                _c("time", _T),
                _c(PSEUDONYM, "text"),
                _c("x", _F8),
                _c("y", _F8),
                _c("vx", _F8),
                _c("vy", _F8),
                _c("speed", _F8),
                _c("heading", _F8),
                _c("accel", _F8, default=0.0),
                _c("length", _F4, default=0.0),
                _c("width", _F4, default=0.0),
                _c("cls", "int2", default=0),
                _c("bus_line", "text", nullable=True),
                _c("schedule_dev", _F8, default=0.0),
            ),
            "vehicle_reports",
        ),
        Table(
            "lane_states",
            (
                _c("time", _T),
                _c("region_id", "text", default=""),
                _c("lane_id", "text"),
                _c("lane_index", "int4", default=-1),
                _c("count", "int4"),
                _c("halting", "int4", default=0),
                _c("queue_m", _F8),
                _c("queue_veh", "int4", default=0),
                _c("mean_speed", _F8),
                _c("occupancy", _F8),
                _c("flow", _F8, default=float("nan")),
                _c("gap_s", _F8, default=float("inf")),
                _c("density", _F8, default=float("nan")),
            ),
            "aggregates",
        ),
        Table(
            "edge_states",
            (
                _c("time", _T),
                _c("region_id", "text", default=""),
                _c("edge_id", "text"),
                _c("travel_time_s", _F8),
                _c("congestion", "int2", default=0),
            ),
            "aggregates",
        ),
        Table(
            "signal_states",
            (
                _c("time", _T),
                _c("junction_id", "text"),
                _c("program_id", "text", nullable=True),
                _c("phase_index", "int2"),
                _c("mode", "int2", default=0),
                _c("group_id", "int2"),
                _c("state", "int2"),
                _c("min_end", _T, nullable=True),
                _c("max_end", _T, nullable=True),
                _c("likely_end", _T, nullable=True),
                _c("confidence", _F4, default=0.0),
            ),
            "aggregates",
        ),
        Table(
            "advisories",
            (
                _c("time", _T),
                _c("advisory_id", "text"),
                _c(PSEUDONYM, "text"),
                _c("kind", "text"),
                _c("expires", _T, nullable=True),
                _c("junction_id", "text", nullable=True),
                _c("details", "jsonb", nullable=True),
            ),
            "vehicle_reports",
        ),
        Table(
            "events",
            (
                _c("time", _T),
                _c("event_id", "text"),
                _c("kind", "int2"),
                _c("severity", "int2", default=1),
                _c("end_time", _T, nullable=True),
                _c("x", _F8),
                _c("y", _F8),
                _c("lane_id", "text", nullable=True),
                _c("junction_id", "text", nullable=True),
                _c("track_id", "int8", default=0),
                _c(PSEUDONYM, "text", nullable=True),
                _c("description", "text", default=""),
                _c("details", "jsonb", nullable=True),
            ),
            "events",
        ),
        Table(
            "overrides",
            (
                _c("override_id", "text"),
                _c("time", _T),
                _c("junction_id", "text"),
                _c("kind", "int2"),
                _c("phase_index", "int4", default=0),
                _c("program_id", "text", nullable=True),
                _c("duration_s", _F4, default=0.0),
                _c("expires", _T, nullable=True),
                _c("operator", "text"),
                _c("reason", "text"),
                _c("outcome", "text"),
                _c("details", "jsonb", nullable=True),
            ),
            "audit",
            timeseries=False,
        ),
        Table(
            "audit",
            (
                _c("time", _T),
                _c("actor", "text"),
                _c("action", "text"),
                _c("target", "text", nullable=True),
                _c("reason", "text", nullable=True),
                _c("outcome", "text"),
                _c("details", "jsonb", nullable=True),
                _c("prev_hash", "bytea", nullable=True),
                _c("hash", "bytea", nullable=True),
                _c("seq", "int8", nullable=True),
                _c("role", "text", nullable=True),
            ),
            "audit",
            timeseries=False,
        ),
        # Sealed pseudonym -> id records (trust.PseudonymVault), kept as long as the longest-kept
        # rows that name a vehicle (events) so an incident can still be traced.
        Table(
            "pseudonym_vault",
            (
                _c("time", _T),
                _c(PSEUDONYM, "text"),
                _c("sealed", "bytea"),
            ),
            "events",
            timeseries=False,
        ),
    )
}

#: Time-series tables, partitioned by day (native) or hypertables (TimescaleDB).
TIMESERIES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.timeseries)

#: Tables whose rows name a vehicle; an owner's revocation deletes from each (plus ``devices``).
VEHICLE_TABLES: tuple[str, ...] = (*(n for n, t in TABLES.items() if t.holds_vehicles), "devices")


def table(name: str) -> Table:
    """The registered table ``name``; ValueError lists the known ones otherwise."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"unknown table {name!r}; known: {', '.join(sorted(TABLES))}") from None
