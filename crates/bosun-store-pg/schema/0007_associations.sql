-- State Manager associations and the versions of their definitions (SQLite migration 7).
CREATE TABLE associations (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    latest_version BIGINT NOT NULL,
    name TEXT NOT NULL,
    document_version TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    association_name TEXT NOT NULL,
    schedule_expression TEXT NOT NULL,
    apply_only_at_cron_interval BOOLEAN NOT NULL,
    schedule_offset BIGINT NOT NULL,
    duration_hours BIGINT NOT NULL,
    spec_json TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    status_name TEXT NOT NULL,
    status_message TEXT NOT NULL,
    status_date_ms BIGINT NOT NULL,
    overview_status TEXT NOT NULL,
    overview_detailed_status TEXT NOT NULL,
    overview_counts_json TEXT NOT NULL,
    last_execution_ms BIGINT,
    last_successful_execution_ms BIGINT,
    PRIMARY KEY (region, association_id)
);
CREATE UNIQUE INDEX associations_by_document_and_node ON associations (region, name, instance_id)
    WHERE instance_id <> '';
CREATE TABLE association_versions (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    document_version TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    association_name TEXT NOT NULL,
    schedule_expression TEXT NOT NULL,
    apply_only_at_cron_interval BOOLEAN NOT NULL,
    schedule_offset BIGINT NOT NULL,
    duration_hours BIGINT NOT NULL,
    spec_json TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, association_id, version),
    FOREIGN KEY (region, association_id) REFERENCES associations (region, association_id) ON DELETE CASCADE
);
