-- `aws:ec2:image` puts accepted and not yet validated (issue 11), each the request as the
-- caller sent it, leased by the replica validating it (SQLite migration 30).
CREATE TABLE parameter_pending_puts (
    id BIGSERIAL NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    principal TEXT NOT NULL,
    request_json TEXT NOT NULL,
    accepted_ms BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT NOT NULL
);
CREATE INDEX parameter_pending_puts_key ON parameter_pending_puts (region, key, id);
