-- Xiangjiang store, migration 3: the trust stage's tables (trust/, store.auditlog, store.privacy).

-- The audit trail's hash chain (trust.audit): seq numbers the chain 1, 2, 3, ... and is hashed
-- with who (actor) in which role, what (action, target), when, why (reason), outcome and details.
-- hash = SHA-256(hex(prev_hash) || canonical JSON of the entry), stored as 32 raw bytes.
-- Rows written before this migration keep seq NULL: they were never chained.
ALTER TABLE audit ADD COLUMN seq bigint;
ALTER TABLE audit ADD COLUMN role text;
CREATE UNIQUE INDEX audit_seq ON audit (seq);

-- The pseudonym vault: for each pseudonym (one vehicle in one rotation period) its real id,
-- sealed with AES-GCM under a key derived from the platform's master secret, which is never
-- stored here. Opened only by the platform's identity endpoint (operators; every lookup audited).
-- time = when the platform first saw the pseudonym.
CREATE TABLE pseudonym_vault (
    time timestamptz NOT NULL,
    vehicle_pseudonym text NOT NULL,
    sealed bytea NOT NULL
);
CREATE INDEX pseudonym_vault_vehicle_pseudonym ON pseudonym_vault (vehicle_pseudonym);
CREATE INDEX pseudonym_vault_time ON pseudonym_vault (time);

-- Devices' public signing keys (Ed25519 or ECDSA P-256, DER SubjectPublicKeyInfo). device is
-- "{kind}/{device_id}" for roadside devices and "obu/{tag}" for an OBU, tag being its vehicle's
-- keyed revocation tag: the vehicle id itself is never stored. valid_to NULL = until retired.
CREATE TABLE device_keys (
    device text NOT NULL,
    key_id text NOT NULL,
    algorithm text NOT NULL CHECK (algorithm IN ('ed25519', 'p256')),
    public_key bytea NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_to timestamptz,
    require_signing boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device, key_id)
);

-- Owners' revocations, by keyed tag (never the id, never a pseudonym): ingest drops a revoked
-- vehicle's messages; every platform process loads these tags.
CREATE TABLE revoked_vehicles (
    tag text PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    rows_deleted jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- vehicle_revocations kept revoked pseudonyms in clear, for the sweep of rows that arrive late
-- (a spool replay). Their SHA-256 is enough for that sweep; the pseudonyms themselves go.
ALTER TABLE vehicle_revocations RENAME COLUMN vehicle_pseudonym TO pseudonym_sha256;
UPDATE vehicle_revocations SET pseudonym_sha256 = encode(sha256(convert_to(pseudonym_sha256, 'UTF8')), 'hex');
