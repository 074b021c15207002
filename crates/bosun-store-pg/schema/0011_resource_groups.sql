-- Resource groups: a tag query per named group; members are computed, the group's tags are in
-- `tags` (SQLite migration 11).
CREATE TABLE resource_groups (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    query_type TEXT NOT NULL,
    query TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, name)
);
