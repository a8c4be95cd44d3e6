-- Xiangjiang store, migration 2: the time-series tables, keyed by "time" (timestamptz).
-- Units: positions x, y in metres of the map's local frame; speeds m/s; headings radians (math,
-- counter-clockwise from east); lengths metres; durations seconds. Vehicle identities appear only
-- as vehicle_pseudonym, indexed wherever present so a revocation can delete them.
-- Every table gets a BRIN index on time (cheap on insert); other indexes are kept few on purpose:
-- each btree costs COPY throughput (see MEASURED.md).

SELECT xj_create_timeseries('detections_raw', $cols$
    time timestamptz NOT NULL,
    sensor_id text NOT NULL,
    local_id bigint NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL,
    vx double precision NOT NULL,
    vy double precision NOT NULL,
    length real NOT NULL,
    width real NOT NULL,
    cls smallint NOT NULL,
    confidence real NOT NULL,
    r_xx real NOT NULL,
    r_xy real NOT NULL,
    r_yy real NOT NULL
$cols$, 'sensor_id');
CREATE INDEX detections_raw_time ON detections_raw USING brin (time);

SELECT xj_create_timeseries('tracks', $cols$
    time timestamptz NOT NULL,
    region_id text NOT NULL,
    track_id bigint NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL,
    vx double precision NOT NULL,
    vy double precision NOT NULL,
    speed double precision NOT NULL,
    heading double precision NOT NULL,
    length real NOT NULL,
    width real NOT NULL,
    cls smallint NOT NULL,
    lane_index integer NOT NULL,
    dist_to_stop double precision NOT NULL,
    vehicle_pseudonym text
$cols$, 'region_id');
CREATE INDEX tracks_time ON tracks USING brin (time);
CREATE INDEX tracks_vehicle_pseudonym ON tracks (vehicle_pseudonym) WHERE vehicle_pseudonym IS NOT NULL;

SELECT xj_create_timeseries('vehicle_reports', $cols$
    time timestamptz NOT NULL,
    vehicle_pseudonym text NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL,
    vx double precision NOT NULL,
    vy double precision NOT NULL,
    speed double precision NOT NULL,
    heading double precision NOT NULL,
    accel double precision NOT NULL,
    length real NOT NULL,
    width real NOT NULL,
    cls smallint NOT NULL,
    bus_line text,
    schedule_dev double precision NOT NULL
$cols$, 'vehicle_pseudonym');
CREATE INDEX vehicle_reports_time ON vehicle_reports USING brin (time);
CREATE INDEX vehicle_reports_vehicle_pseudonym ON vehicle_reports (vehicle_pseudonym, time);

-- Lane states as in proto.arrays.LANE_STATE_DTYPE, plus the lane's id (stable across map revisions)
-- and its index in the map the picture used. mean_speed is NaN on an empty lane, gap_s Infinity
-- when no vehicle was seen; flow veh/s, density veh/m, occupancy 0..1.
SELECT xj_create_timeseries('lane_states', $cols$
    time timestamptz NOT NULL,
    region_id text NOT NULL,
    lane_id text NOT NULL,
    lane_index integer NOT NULL,
    count integer NOT NULL,
    halting integer NOT NULL,
    queue_m double precision NOT NULL,
    queue_veh integer NOT NULL,
    mean_speed double precision NOT NULL,
    occupancy double precision NOT NULL,
    flow double precision NOT NULL,
    gap_s double precision NOT NULL,
    density double precision NOT NULL
$cols$, 'lane_id');
CREATE INDEX lane_states_time ON lane_states USING brin (time);
CREATE INDEX lane_states_lane_time ON lane_states (lane_id, time);

SELECT xj_create_timeseries('edge_states', $cols$
    time timestamptz NOT NULL,
    region_id text NOT NULL,
    edge_id text NOT NULL,
    travel_time_s double precision NOT NULL,
    congestion smallint NOT NULL
$cols$, 'edge_id');
CREATE INDEX edge_states_time ON edge_states USING brin (time);
CREATE INDEX edge_states_edge_time ON edge_states (edge_id, time);

-- One row per signal group per SPaT message; times of the group's next change may be unknown.
SELECT xj_create_timeseries('signal_states', $cols$
    time timestamptz NOT NULL,
    junction_id text NOT NULL,
    program_id text,
    phase_index smallint NOT NULL,
    mode smallint NOT NULL,
    group_id smallint NOT NULL,
    state smallint NOT NULL,
    min_end timestamptz,
    max_end timestamptz,
    likely_end timestamptz,
    confidence real NOT NULL  -- of likely_end, 0..1
$cols$, 'junction_id');
CREATE INDEX signal_states_time ON signal_states USING brin (time);
CREATE INDEX signal_states_junction_time ON signal_states (junction_id, time);

-- Advisories sent to vehicles (speed, route, priority, hazard, parking); details as JSON.
SELECT xj_create_timeseries('advisories', $cols$
    time timestamptz NOT NULL,
    advisory_id text NOT NULL,
    vehicle_pseudonym text NOT NULL,
    kind text NOT NULL,
    expires timestamptz,
    junction_id text,
    details jsonb
$cols$, NULL);
CREATE INDEX advisories_time ON advisories USING brin (time);
CREATE INDEX advisories_vehicle_pseudonym ON advisories (vehicle_pseudonym);

-- Events as a log of states: a new row each time an event starts, changes or ends (end_time).
SELECT xj_create_timeseries('events', $cols$
    time timestamptz NOT NULL,
    event_id text NOT NULL,
    kind smallint NOT NULL,
    severity smallint NOT NULL,
    end_time timestamptz,
    x double precision NOT NULL,
    y double precision NOT NULL,
    lane_id text,
    junction_id text,
    track_id bigint NOT NULL,
    vehicle_pseudonym text,
    description text NOT NULL,
    details jsonb
$cols$, NULL);
CREATE INDEX events_time ON events USING brin (time);
CREATE INDEX events_event_id ON events (event_id, time);
CREATE INDEX events_vehicle_pseudonym ON events (vehicle_pseudonym) WHERE vehicle_pseudonym IS NOT NULL;
