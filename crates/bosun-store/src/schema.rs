//! Schema migrations, applied in order and recorded in `user_version`.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE activations (
    region TEXT NOT NULL,
    activation_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    description TEXT NOT NULL,
    default_instance_name TEXT NOT NULL,
    iam_role TEXT NOT NULL,
    registration_limit INTEGER NOT NULL,
    registrations_count INTEGER NOT NULL DEFAULT 0,
    expiration_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, activation_id)
);
CREATE TABLE instances (
    region TEXT NOT NULL,
    instance_id TEXT NOT NULL PRIMARY KEY,
    activation_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    name TEXT NOT NULL,
    iam_role TEXT NOT NULL,
    registration_ms INTEGER NOT NULL,
    computer_name TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    platform_type TEXT NOT NULL,
    platform_name TEXT NOT NULL,
    platform_version TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    last_ping_ms INTEGER NOT NULL,
    deregistered INTEGER NOT NULL DEFAULT 0
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
    created_ms INTEGER NOT NULL
);
CREATE TABLE access_keys (
    access_key_id TEXT NOT NULL PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    active INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL
);
CREATE TABLE user_policies (
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (user_name, policy_name)
);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
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
"#];

/// Apply every migration newer than the database's `user_version`.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}
