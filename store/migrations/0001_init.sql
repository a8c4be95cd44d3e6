-- Xiangjiang store, migration 1: settings, the time-series helper, the writer's batch log, and the
-- low-rate tables (devices, overrides, audit, revocations).
--
-- The runner (store.migrate) applies each file in one transaction and sets the session setting
-- xj.timeseries_backend to 'native' (declarative daily RANGE partitions) or 'timescale'
-- (hypertables). The choice is recorded here once and kept for the life of the database.

CREATE TABLE store_settings (
    key text PRIMARY KEY,
    value text NOT NULL
);

INSERT INTO store_settings (key, value)
VALUES ('timeseries_backend', current_setting('xj.timeseries_backend'));

DO $$
BEGIN
    IF current_setting('xj.timeseries_backend') = 'timescale' THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;
END
$$;

-- Create a time-series table keyed by its column "time" (timestamptz).
-- native:    PARTITION BY RANGE (time) plus a DEFAULT partition, so no row is ever rejected;
--            daily partitions are created ahead and dropped past retention by store.partitions.
-- timescale: a hypertable with daily chunks and compression after two days; retention drops
--            chunks (store.retention). This path cannot be tested on plain PostgreSQL.
CREATE FUNCTION xj_create_timeseries(tbl text, columns text, segment_by text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    backend text := (SELECT value FROM store_settings WHERE key = 'timeseries_backend');
BEGIN
    IF backend = 'timescale' THEN
        EXECUTE format('CREATE TABLE %I (%s)', tbl, columns);
        PERFORM create_hypertable(tbl::regclass, 'time', chunk_time_interval => interval '1 day',
                                  create_default_indexes => false);
        IF segment_by IS NULL THEN
            EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_orderby = %L)',
                           tbl, 'time');
        ELSE
            EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, '
                           'timescaledb.compress_orderby = %L)', tbl, segment_by, 'time');
        END IF;
        PERFORM add_compression_policy(tbl::regclass, compress_after => interval '2 days');
    ELSE
        EXECUTE format('CREATE TABLE %I (%s) PARTITION BY RANGE (time)', tbl, columns);
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
    END IF;
END
$fn$;

-- One row per chunk the writer committed, in the same transaction as its COPY: a replayed chunk
-- whose id is already here is skipped (exactly once). seq is the commit order.
CREATE TABLE store_batches (
    chunk_id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    table_name text NOT NULL,
    n_rows integer NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX store_batches_committed_at ON store_batches (committed_at);

-- Roadside and on-board devices. An OBU is known only by its vehicle pseudonym.
CREATE TABLE devices (
    device_id text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('rsu', 'lamp', 'tsc', 'sensor', 'obu')),
    name text NOT NULL DEFAULT '',
    region_id text NOT NULL DEFAULT '',
    x double precision,
    y double precision,
    lat double precision,
    lon double precision,
    key_id text,
    vehicle_pseudonym text,
    attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT devices_obu_is_pseudonymous
        CHECK (kind <> 'obu' OR (vehicle_pseudonym IS NOT NULL AND device_id = vehicle_pseudonym))
);
CREATE INDEX devices_vehicle_pseudonym ON devices (vehicle_pseudonym) WHERE vehicle_pseudonym IS NOT NULL;

-- Signal overrides and commands issued by operators (who, what, when, why, outcome).
CREATE TABLE overrides (
    override_id text PRIMARY KEY,
    time timestamptz NOT NULL,
    junction_id text NOT NULL,
    kind smallint NOT NULL,
    phase_index integer NOT NULL DEFAULT 0,
    program_id text,
    duration_s real NOT NULL DEFAULT 0,
    expires timestamptz,
    operator text NOT NULL,
    reason text NOT NULL,
    outcome text NOT NULL,
    details jsonb
);
CREATE INDEX overrides_time ON overrides (time);
CREATE INDEX overrides_junction_time ON overrides (junction_id, time);

-- Audit trail. id is the chain order; prev_hash/hash form a hash chain (filled by trust/).
CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text,
    reason text,
    outcome text NOT NULL,
    details jsonb,
    prev_hash bytea,
    hash bytea
);
CREATE INDEX audit_time ON audit (time);

-- Owners' revocations: the pseudonyms whose history was deleted; late rows are swept again.
CREATE TABLE vehicle_revocations (
    vehicle_pseudonym text PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    rows_deleted jsonb NOT NULL DEFAULT '{}'::jsonb
);
