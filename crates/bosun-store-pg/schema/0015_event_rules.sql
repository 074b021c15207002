-- EventBridge rules on the default bus and their targets; a rule's tags are in `tags`
-- (SQLite migration 15).
CREATE TABLE event_rules (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    event_pattern TEXT,
    state TEXT NOT NULL,
    description TEXT,
    role_arn TEXT,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE event_targets (
    region TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    target_id TEXT NOT NULL,
    arn TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (region, rule_name, target_id),
    FOREIGN KEY (region, rule_name) REFERENCES event_rules(region, name) ON DELETE CASCADE
);
CREATE INDEX event_targets_by_arn ON event_targets (region, arn);
