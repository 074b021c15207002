-- Session Manager sessions: one row per session, its token hashes (never the tokens), its
-- limits and how it ended (SQLite migration 19).
CREATE TABLE sessions (
    session_id TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    target TEXT NOT NULL,
    document_name TEXT NOT NULL,
    owner TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    details TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT,
    active BOOLEAN NOT NULL,
    output_url TEXT NOT NULL,
    max_duration_s BIGINT,
    idle_timeout_s BIGINT NOT NULL,
    client_token_hash TEXT NOT NULL,
    client_token_expires_ms BIGINT NOT NULL,
    agent_token_hash TEXT NOT NULL,
    agent_accepted BOOLEAN NOT NULL,
    replica_id TEXT NOT NULL,
    end_reason TEXT,
    agent_reason TEXT,
    exit_code BIGINT,
    signal TEXT,
    escaped_json TEXT,
    agent_error TEXT,
    agent_ended_ms BIGINT
);
CREATE INDEX sessions_by_start ON sessions (region, active, start_ms DESC, session_id);
