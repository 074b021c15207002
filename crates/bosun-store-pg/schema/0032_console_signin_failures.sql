-- Failed console sign-ins counted per window, per address and per access key id (SQLite
-- migration 32, issue 20; bosun_core::signin_limit).
CREATE TABLE console_signin_failures (
    key TEXT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    count BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (key, window_start_ms)
);
CREATE INDEX console_signin_failures_expiry ON console_signin_failures (expires_ms);
