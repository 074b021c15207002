-- Maintenance windows: definitions, their targets and tasks; a window's tags are in `tags`
-- (SQLite migration 14).
CREATE TABLE maintenance_windows (
    region TEXT NOT NULL,
    window_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    schedule TEXT NOT NULL,
    schedule_timezone TEXT NOT NULL,
    schedule_offset BIGINT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    duration_hours BIGINT NOT NULL,
    cutoff_hours BIGINT NOT NULL,
    allow_unassociated_targets BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    PRIMARY KEY (region, window_id)
);
CREATE TABLE maintenance_window_targets (
    region TEXT NOT NULL,
    window_id TEXT NOT NULL,
    window_target_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    targets_json TEXT NOT NULL,
    owner_information TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, window_id, window_target_id),
    FOREIGN KEY (region, window_id) REFERENCES maintenance_windows(region, window_id) ON DELETE CASCADE
);
CREATE TABLE maintenance_window_tasks (
    region TEXT NOT NULL,
    window_id TEXT NOT NULL,
    window_task_id TEXT NOT NULL,
    task_arn TEXT NOT NULL,
    task_type TEXT NOT NULL,
    targets_json TEXT NOT NULL,
    service_role_arn TEXT NOT NULL,
    task_parameters_json TEXT NOT NULL,
    invocation_parameters_json TEXT NOT NULL,
    priority BIGINT NOT NULL,
    max_concurrency TEXT NOT NULL,
    max_errors TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    cutoff_behavior TEXT NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, window_id, window_task_id),
    FOREIGN KEY (region, window_id) REFERENCES maintenance_windows(region, window_id) ON DELETE CASCADE
);
