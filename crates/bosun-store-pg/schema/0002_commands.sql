-- Run Command: commands, their invocations and plugin results (SQLite migration 2).
-- Booleans: commands.cancel_requested, commands.active, invocations.acked.
CREATE TABLE commands (
    region TEXT NOT NULL,
    command_id TEXT NOT NULL PRIMARY KEY,
    document_name TEXT NOT NULL,
    document_version TEXT NOT NULL,
    document_hash TEXT NOT NULL,
    comment TEXT NOT NULL,
    request_json TEXT NOT NULL,
    steps_json TEXT NOT NULL,
    requested_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    timeout_seconds BIGINT NOT NULL,
    max_concurrency TEXT NOT NULL,
    max_errors TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    target_count BIGINT NOT NULL,
    completed_count BIGINT NOT NULL DEFAULT 0,
    error_count BIGINT NOT NULL DEFAULT 0,
    delivery_timed_out_count BIGINT NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX commands_by_region ON commands (region, requested_ms);
CREATE INDEX commands_active ON commands (active) WHERE active;
CREATE TABLE invocations (
    command_id TEXT NOT NULL REFERENCES commands (command_id) ON DELETE CASCADE,
    instance_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    instance_name TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    dispatched_ms BIGINT,
    acked BOOLEAN NOT NULL DEFAULT FALSE,
    response_code BIGINT NOT NULL DEFAULT -1,
    start_ms BIGINT,
    end_ms BIGINT,
    PRIMARY KEY (command_id, instance_id)
);
CREATE INDEX invocations_by_instance ON invocations (instance_id, status);
CREATE TABLE plugins (
    command_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    response_code BIGINT NOT NULL DEFAULT -1,
    start_ms BIGINT,
    end_ms BIGINT,
    stdout TEXT NOT NULL DEFAULT '',
    stderr TEXT NOT NULL DEFAULT '',
    stdout_bytes BIGINT NOT NULL DEFAULT 0,
    stderr_bytes BIGINT NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (command_id, instance_id, seq),
    FOREIGN KEY (command_id, instance_id)
        REFERENCES invocations (command_id, instance_id) ON DELETE CASCADE
);
