-- Web console sessions, by the SHA-256 of their token (SQLite migration 28, issue 20).
CREATE TABLE console_sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    access_key_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_ms);
