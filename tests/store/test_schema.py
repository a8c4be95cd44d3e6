"""The schema as the server sees it: registry agreement, partitions, pseudonymity, audit."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from store.schema import PSEUDONYM, TABLES, TIMESERIES, VEHICLE_TABLES

pytestmark = pytest.mark.postgres

PG_NAMES = {
    "timestamptz": "timestamp with time zone",
    "float8": "double precision",
    "float4": "real",
    "int8": "bigint",
    "int4": "integer",
    "int2": "smallint",
    "bool": "boolean",
    "text": "text",
    "jsonb": "jsonb",
    "bytea": "bytea",
}


def test_registry_matches_the_database(conn: psycopg.Connection[Any]) -> None:
    for name, spec in TABLES.items():
        rows = conn.execute(
            "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns"
            " WHERE table_name = %s AND is_identity = 'NO' ORDER BY ordinal_position",
            (name,),
        ).fetchall()
        assert rows == [(c.name, PG_NAMES[c.pgtype], c.nullable) for c in spec.columns], name


def test_time_series_are_daily_range_partitioned_with_a_default(conn: psycopg.Connection[Any]) -> None:
    for name in TIMESERIES:
        strategy = conn.execute(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p"
            " JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
            " WHERE p.partrelid = %s::regclass",
            (name,),
        ).fetchone()
        assert strategy == ("r", "time"), name
        default = conn.execute(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partdefid"
            " WHERE p.partrelid = %s::regclass",
            (name,),
        ).fetchone()
        assert default == (f"{name}_default",)


def test_vehicles_are_pseudonymous_and_every_pseudonym_is_indexed(conn: psycopg.Connection[Any]) -> None:
    raw = conn.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND column_name IN ('vehicle_id', 'vehicle')"
    ).fetchall()
    assert raw == []
    holders = {
        r[0]
        for r in conn.execute(
            "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE a.attname = %s AND n.nspname = 'public' AND c.relkind IN ('r', 'p')"
            " AND NOT c.relispartition",
            (PSEUDONYM,),
        )
    }
    assert holders == set(VEHICLE_TABLES)  # vehicle_revocations keeps only SHA-256 digests
    # every table (partitions included) holding the column has an index leading with it
    unindexed = conn.execute(
        "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE a.attname = %s AND n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        " AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum)",
        (PSEUDONYM,),
    ).fetchall()
    assert unindexed == []


def test_audit_has_the_hash_chain_columns(conn: psycopg.Connection[Any]) -> None:
    cols = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'audit'")}
    assert {"id", "seq", "time", "actor", "role", "action", "reason", "outcome", "details", "prev_hash", "hash"} <= cols
