-- EventBridge rule targets an event could not be delivered to (a body that cannot be made),
-- kept with the event to list and redrive (SQLite migration 34, issue 17).
CREATE TABLE rule_target_failures (
    failure_id TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    envelope TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX rule_target_failures_region ON rule_target_failures (region, rule_name, created_ms);
