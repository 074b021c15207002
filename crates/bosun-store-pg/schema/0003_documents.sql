-- Users' SSM documents, their versions and shares (SQLite migration 3).
CREATE TABLE documents (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    document_type TEXT NOT NULL,
    target_type TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    default_version BIGINT NOT NULL,
    latest_version BIGINT NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE document_versions (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    version_name TEXT NOT NULL,
    content TEXT NOT NULL,
    format TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    hash TEXT NOT NULL,
    requires_json TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, name, version),
    FOREIGN KEY (region, name) REFERENCES documents (region, name) ON DELETE CASCADE
);
CREATE TABLE document_shares (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    account_id TEXT NOT NULL,
    shared_version TEXT NOT NULL,
    PRIMARY KEY (region, name, account_id),
    FOREIGN KEY (region, name) REFERENCES documents (region, name) ON DELETE CASCADE
);
