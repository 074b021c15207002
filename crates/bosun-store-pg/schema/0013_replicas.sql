-- Replicas: live server processes, the replica holding each agent's connection, and each
-- command's owner (lease + epoch) (SQLite migration 13).
CREATE TABLE replicas (
    replica_id TEXT NOT NULL PRIMARY KEY,
    started_ms BIGINT NOT NULL,
    heartbeat_ms BIGINT NOT NULL,
    keyring_fingerprint TEXT NOT NULL
);
CREATE TABLE agent_sessions (
    instance_id TEXT NOT NULL PRIMARY KEY,
    replica_id TEXT NOT NULL,
    session_epoch BIGINT NOT NULL,
    connected_ms BIGINT NOT NULL
);
CREATE INDEX agent_sessions_by_replica ON agent_sessions (replica_id);
ALTER TABLE commands ADD COLUMN owner_replica TEXT;
ALTER TABLE commands ADD COLUMN owner_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN owner_until_ms BIGINT NOT NULL DEFAULT 0;
