-- Compliance: each resource's items per compliance type, and the content hash of the upload
-- that stored them (SQLite migration 8).
CREATE TABLE compliance_items (
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    compliance_type TEXT NOT NULL,
    item_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    details TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    execution_type TEXT NOT NULL,
    execution_time_ms BIGINT NOT NULL,
    PRIMARY KEY (region, resource_type, resource_id, compliance_type, item_id)
);
CREATE TABLE compliance_uploads (
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    compliance_type TEXT NOT NULL,
    content_hash TEXT,
    PRIMARY KEY (region, resource_type, resource_id, compliance_type)
);
