-- Users' tags (IAM's TagUser), e.g. SSMSessionRunAs for Session Manager (SQLite migration 33,
-- issue 18).
CREATE TABLE user_tags (
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_name, key)
);
