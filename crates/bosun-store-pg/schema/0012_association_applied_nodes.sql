-- The nodes each association version was applied to, so a node that newly matches an
-- association's targets gets it once (SQLite migration 12).
CREATE TABLE association_applied_nodes (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    association_version BIGINT NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    PRIMARY KEY (region, association_id, association_version, instance_id),
    FOREIGN KEY (region, association_id) REFERENCES associations (region, association_id) ON DELETE CASCADE
);
