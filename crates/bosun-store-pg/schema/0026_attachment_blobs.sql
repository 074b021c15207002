-- Files uploaded for package documents' attachments, by region and SHA-256, and the Distributor
-- packages each node reports installed (JSON text) (SQLite migration 26).
CREATE TABLE attachment_blobs (
    region TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    uploaded_ms BIGINT NOT NULL,
    PRIMARY KEY (region, sha256)
);
ALTER TABLE instances ADD COLUMN packages TEXT NOT NULL DEFAULT '[]';
