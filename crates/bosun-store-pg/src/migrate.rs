//! Schema migrations: numbered SQL files in `schema/`, applied in order and recorded in
//! `schema_migrations` with a checksum of their text.
//!
//! Each pending migration runs in its own transaction that first takes a transaction-scoped
//! advisory lock, so replicas starting together apply each migration exactly once: the others
//! wait for the lock, then see it recorded and skip it. A database that records a migration this
//! binary does not know (a newer Bosun migrated it), or one whose text changed since it was
//! applied, is refused. Released migrations are never edited: a change is a new file.

use sha2::{Digest, Sha256};

use crate::error::PgError;
use crate::PgStore;

/// One migration: its number, name and SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the SQL text, hex.
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../schema/", $file)),
        }
    };
}

/// Every migration, in order; the numbers match the SQLite store's `user_version` steps.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "initial", "0001_initial.sql"),
    migration!(2, "commands", "0002_commands.sql"),
    migration!(3, "documents", "0003_documents.sql"),
    migration!(4, "parameters", "0004_parameters.sql"),
    migration!(5, "secret_sealed", "0005_secret_sealed.sql"),
    migration!(6, "idempotency", "0006_idempotency.sql"),
    migration!(7, "associations", "0007_associations.sql"),
    migration!(8, "compliance", "0008_compliance.sql"),
    migration!(9, "association_runs", "0009_association_runs.sql"),
    migration!(
        10,
        "association_node_status",
        "0010_association_node_status.sql"
    ),
    migration!(11, "resource_groups", "0011_resource_groups.sql"),
    migration!(
        12,
        "association_applied_nodes",
        "0012_association_applied_nodes.sql"
    ),
    migration!(13, "replicas", "0013_replicas.sql"),
    migration!(14, "maintenance_windows", "0014_maintenance_windows.sql"),
    migration!(15, "event_rules", "0015_event_rules.sql"),
    migration!(16, "event_outbox", "0016_event_outbox.sql"),
    migration!(17, "sns_topics", "0017_sns_topics.sql"),
    migration!(
        18,
        "maintenance_window_runs",
        "0018_maintenance_window_runs.sql"
    ),
    migration!(19, "sessions", "0019_sessions.sql"),
    migration!(
        20,
        "command_notifications",
        "0020_command_notifications.sql"
    ),
    migration!(
        21,
        "sns_delivery_templates",
        "0021_sns_delivery_templates.sql"
    ),
    migration!(22, "automation", "0022_automation.sql"),
    migration!(23, "node_power_facts", "0023_node_power_facts.sql"),
    migration!(
        24,
        "window_task_registrants",
        "0024_window_task_registrants.sql"
    ),
    migration!(25, "agent_releases", "0025_agent_releases.sql"),
    migration!(26, "attachment_blobs", "0026_attachment_blobs.sql"),
    migration!(27, "reported_ping_status", "0027_reported_ping_status.sql"),
    migration!(28, "console_sessions", "0028_console_sessions.sql"),
    migration!(29, "sns_delivery_marks", "0029_sns_delivery_marks.sql"),
    migration!(
        30,
        "parameter_pending_puts",
        "0030_parameter_pending_puts.sql"
    ),
    migration!(
        31,
        "sns_delivery_last_error",
        "0031_sns_delivery_last_error.sql"
    ),
    migration!(
        32,
        "console_signin_failures",
        "0032_console_signin_failures.sql"
    ),
    migration!(33, "user_tags", "0033_user_tags.sql"),
    migration!(34, "rule_target_failures", "0034_rule_target_failures.sql"),
    migration!(35, "agent_release_pins", "0035_agent_release_pins.sql"),
    migration!(36, "session_handoff", "0036_session_handoff.sql"),
];

/// The advisory lock every migration transaction holds ("bosunmig" in ASCII).
const MIGRATION_LOCK: i64 = 0x626f_7375_6e6d_6967;

const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_ms BIGINT NOT NULL
)";

impl PgStore {
    /// Bring the schema up to date; returns the versions this call applied (empty when another
    /// replica, or an earlier start, already did). Safe to run from many replicas at once.
    pub fn migrate(&self) -> Result<Vec<i64>, PgError> {
        self.transaction(async |tx| {
            lock(tx).await?;
            tx.batch_execute(CREATE_MIGRATIONS_TABLE).await?;
            check_applied(tx).await
        })?;
        let mut applied = Vec::new();
        for migration in MIGRATIONS {
            let ran = self.transaction(async |tx| {
                lock(tx).await?;
                let recorded = tx
                    .query_opt(
                        "SELECT checksum FROM schema_migrations WHERE version = $1",
                        &[&migration.version],
                    )
                    .await?;
                if let Some(row) = recorded {
                    check_checksum(migration, row.get(0))?;
                    return Ok(false);
                }
                tx.batch_execute(migration.sql).await.map_err(|e| {
                    let e = PgError::from(e);
                    if e.is_retryable() {
                        return e;
                    }
                    PgError::Schema(format!(
                        "migration {:04} ({}) failed: {e}",
                        migration.version, migration.name
                    ))
                })?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_ms) \
                     VALUES ($1, $2, $3, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT)",
                    &[&migration.version, &migration.name, &migration.checksum()],
                )
                .await?;
                Ok(true)
            })?;
            if ran {
                tracing::info!(
                    version = migration.version,
                    name = migration.name,
                    "applied PostgreSQL migration"
                );
                applied.push(migration.version);
            }
        }
        Ok(applied)
    }
}

async fn lock(tx: &deadpool_postgres::Transaction<'_>) -> Result<(), PgError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    Ok(())
}

/// Every recorded migration must be one this binary knows, with the same text.
async fn check_applied(tx: &deadpool_postgres::Transaction<'_>) -> Result<(), PgError> {
    let rows = tx
        .query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?;
    let newest_known = MIGRATIONS.last().map_or(0, |m| m.version);
    for row in rows {
        let (version, name, checksum): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        match MIGRATIONS.iter().find(|m| m.version == version) {
            Some(migration) => check_checksum(migration, checksum)?,
            None => {
                return Err(PgError::Schema(format!(
                    "the database has migration {version:04} ({name}), but this Bosun knows \
                     migrations up to {newest_known:04}: a newer Bosun migrated it; run that \
                     version or newer"
                )))
            }
        }
    }
    Ok(())
}

fn check_checksum(migration: &Migration, recorded: String) -> Result<(), PgError> {
    if recorded == migration.checksum() {
        return Ok(());
    }
    Err(PgError::Schema(format!(
        "migration {:04} ({}) was applied with checksum {recorded}, but this Bosun's text has \
         {}: released migrations must not change",
        migration.version,
        migration.name,
        migration.checksum()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(!m.sql.trim().is_empty(), "{}", m.name);
        }
    }

    #[test]
    fn every_schema_file_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, listed);
    }
}
