-- Activations, nodes, tags, IAM and the audit trail (SQLite migration 1).
-- Booleans: instances.deregistered, access_keys.active (INTEGER 0/1 in SQLite).
CREATE TABLE activations (
    region TEXT NOT NULL,
    activation_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    description TEXT NOT NULL,
    default_instance_name TEXT NOT NULL,
    iam_role TEXT NOT NULL,
    registration_limit BIGINT NOT NULL,
    registrations_count BIGINT NOT NULL DEFAULT 0,
    expiration_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, activation_id)
);
CREATE TABLE instances (
    region TEXT NOT NULL,
    instance_id TEXT NOT NULL PRIMARY KEY,
    activation_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    name TEXT NOT NULL,
    iam_role TEXT NOT NULL,
    registration_ms BIGINT NOT NULL,
    computer_name TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    platform_type TEXT NOT NULL,
    platform_name TEXT NOT NULL,
    platform_version TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    last_ping_ms BIGINT NOT NULL,
    deregistered BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX instances_by_region ON instances (region, instance_id);
CREATE TABLE tags (
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (region, resource_type, resource_id, key)
);
CREATE TABLE users (
    name TEXT NOT NULL PRIMARY KEY,
    created_ms BIGINT NOT NULL
);
CREATE TABLE access_keys (
    access_key_id TEXT NOT NULL PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_ms BIGINT NOT NULL
);
CREATE TABLE user_policies (
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (user_name, policy_name)
);
-- `seq` is not generated: the writer takes the next number from `audit_head` (locked FOR UPDATE
-- in the same transaction), so the chain has no gaps and appends are serialized cluster-wide.
CREATE TABLE audit (
    seq BIGINT NOT NULL PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    principal TEXT NOT NULL,
    action TEXT NOT NULL,
    region TEXT NOT NULL,
    resource TEXT NOT NULL,
    request_id TEXT NOT NULL,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- PostgreSQL only: the chain's last record, exactly one row.
CREATE TABLE audit_head (
    id BOOLEAN NOT NULL PRIMARY KEY DEFAULT TRUE CHECK (id),
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (TRUE, 0, '0000000000000000000000000000000000000000000000000000000000000000');
