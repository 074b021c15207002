-- Automation executions and their step executions, with the lease of the replica driving each
-- running execution (SQLite migration 22).
CREATE TABLE automation_executions (
    execution_id TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    document_name TEXT NOT NULL,
    document_version TEXT NOT NULL,
    document_content TEXT NOT NULL,
    status TEXT NOT NULL,
    mode TEXT NOT NULL,
    parameters_json TEXT NOT NULL,
    outputs_json TEXT NOT NULL,
    failure_message TEXT NOT NULL,
    executed_by TEXT NOT NULL,
    parent_id TEXT,
    targets_json TEXT NOT NULL,
    target_parameter_name TEXT NOT NULL,
    max_concurrency TEXT NOT NULL,
    max_errors TEXT NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    current_step_name TEXT NOT NULL,
    current_action TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT,
    wake_ms BIGINT,
    stop_requested TEXT NOT NULL,
    signals_json TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until_ms BIGINT NOT NULL
);
CREATE INDEX automation_executions_by_start ON automation_executions (region, start_ms DESC, execution_id);
CREATE INDEX automation_executions_running ON automation_executions (end_ms, owner);
CREATE INDEX automation_executions_by_token ON automation_executions (region, client_token);
CREATE TABLE automation_steps (
    execution_id TEXT NOT NULL REFERENCES automation_executions(execution_id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    step_execution_id TEXT NOT NULL,
    step_index BIGINT NOT NULL,
    step_name TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    inputs_json TEXT NOT NULL,
    outputs_json TEXT NOT NULL,
    response_json TEXT NOT NULL,
    failure_message TEXT NOT NULL,
    start_ms BIGINT,
    end_ms BIGINT,
    wake_ms BIGINT,
    command_id TEXT NOT NULL,
    signal_base BIGINT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);
