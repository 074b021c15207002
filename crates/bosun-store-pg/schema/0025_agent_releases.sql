-- Agent releases (issue 19): the binaries live in the blob store, their hash, size and the
-- release key's signature here; one default per platform and arch (SQLite migration 25).
CREATE TABLE agent_releases (
    version TEXT NOT NULL,
    platform TEXT NOT NULL,
    arch TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    signature TEXT NOT NULL,
    published_ms BIGINT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (version, platform, arch)
);
