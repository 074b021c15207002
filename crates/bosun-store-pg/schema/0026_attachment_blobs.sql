-- Files uploaded for package documents' attachments, by region and SHA-256 (SQLite migration 26).
CREATE TABLE attachment_blobs (
    region TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    uploaded_ms BIGINT NOT NULL,
    PRIMARY KEY (region, sha256)
);
