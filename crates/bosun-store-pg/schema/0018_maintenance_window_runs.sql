-- Maintenance window executions, their task executions and invocations (SQLite migration 18).
CREATE TABLE maintenance_window_executions (
    region TEXT NOT NULL,
    window_id TEXT NOT NULL,
    window_execution_id TEXT NOT NULL,
    slot_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    cancel_requested BOOLEAN NOT NULL,
    duration_hours BIGINT NOT NULL,
    cutoff_hours BIGINT NOT NULL,
    PRIMARY KEY (region, window_execution_id)
);
CREATE UNIQUE INDEX maintenance_window_executions_by_slot ON maintenance_window_executions (region, window_id, slot_ms);
CREATE INDEX maintenance_window_executions_by_status ON maintenance_window_executions (status);
CREATE TABLE maintenance_window_task_executions (
    region TEXT NOT NULL,
    window_execution_id TEXT NOT NULL,
    task_execution_id TEXT NOT NULL,
    window_task_id TEXT NOT NULL,
    task_arn TEXT NOT NULL,
    task_type TEXT NOT NULL,
    priority BIGINT NOT NULL,
    max_concurrency TEXT NOT NULL,
    max_errors TEXT NOT NULL,
    cutoff_behavior TEXT NOT NULL,
    task_json TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    stopping TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    PRIMARY KEY (region, window_execution_id, task_execution_id),
    FOREIGN KEY (region, window_execution_id) REFERENCES maintenance_window_executions(region, window_execution_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX maintenance_window_task_executions_by_task ON maintenance_window_task_executions (region, window_execution_id, window_task_id);
CREATE TABLE maintenance_window_task_invocations (
    region TEXT NOT NULL,
    window_execution_id TEXT NOT NULL,
    task_execution_id TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    node_id TEXT NOT NULL,
    window_target_id TEXT NOT NULL,
    target_order BIGINT NOT NULL,
    via TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    parameters TEXT NOT NULL,
    owner_information TEXT NOT NULL,
    phase TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    PRIMARY KEY (region, window_execution_id, task_execution_id, invocation_id),
    FOREIGN KEY (region, window_execution_id, task_execution_id) REFERENCES maintenance_window_task_executions(region, window_execution_id, task_execution_id) ON DELETE CASCADE
);
