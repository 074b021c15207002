-- Each node's latest outcome of each association (SQLite migration 10).
CREATE TABLE association_node_status (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    association_version BIGINT NOT NULL,
    document_version TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    execution_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    detailed_status TEXT NOT NULL,
    error_code TEXT NOT NULL,
    execution_summary TEXT NOT NULL,
    additional_info TEXT NOT NULL,
    PRIMARY KEY (region, association_id, instance_id),
    FOREIGN KEY (region, association_id) REFERENCES associations (region, association_id) ON DELETE CASCADE
);
CREATE INDEX association_node_status_by_node ON association_node_status (region, instance_id);
