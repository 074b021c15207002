-- Idempotent retries: one row per mutating call sent with an SDK invocation id, kept for the
-- retention window (SQLite migration 6). Booleans: idempotency.answered.
CREATE TABLE idempotency (
    call_id TEXT NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL,
    answered BOOLEAN NOT NULL,
    status BIGINT,
    error_type TEXT,
    sealed_body BYTEA,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX idempotency_by_expiry ON idempotency (expires_ms);
