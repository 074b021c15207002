-- Agent release versions pinned for a region (tag_key and tag_value empty: tag keys are never
-- empty) or for a node tag within it (SQLite migration 35, issue 19).
CREATE TABLE agent_release_pins (
    region TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    version TEXT NOT NULL,
    pinned_ms BIGINT NOT NULL,
    PRIMARY KEY (region, tag_key, tag_value)
);
