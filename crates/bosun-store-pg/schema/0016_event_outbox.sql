-- The event outbox: every emitted event, numbered in commit order (writers take an advisory
-- lock before drawing `seq`, held to their commit: see src/areas/event_outbox.rs), and each
-- consumer's cursor (SQLite migration 16).
CREATE TABLE event_outbox (
    seq BIGSERIAL NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    event_id TEXT NOT NULL,
    detail_type TEXT NOT NULL,
    envelope TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX event_outbox_by_created ON event_outbox (created_ms);
CREATE TABLE event_cursors (
    consumer TEXT NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
