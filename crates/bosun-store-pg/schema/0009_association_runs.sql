-- Executions of associations: one per fired slot, unique per (association, slot) so a slot
-- never fires twice (SQLite migration 9).
CREATE TABLE association_executions (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    association_version BIGINT NOT NULL,
    slot_ms BIGINT NOT NULL,
    command_id TEXT NOT NULL,
    status TEXT NOT NULL,
    detailed_status TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_update_ms BIGINT NOT NULL,
    resource_counts_json TEXT NOT NULL,
    PRIMARY KEY (region, association_id, execution_id),
    FOREIGN KEY (region, association_id) REFERENCES associations (region, association_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX association_executions_by_slot ON association_executions (region, association_id, slot_ms);
CREATE INDEX association_executions_by_status ON association_executions (status);
