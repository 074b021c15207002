//! Opening the store `--database` names (SQLite file or PostgreSQL), and `bosun migrate`.

use std::sync::Arc;

use anyhow::Context;
use bosun_store::{EventOutboxStore, SqliteStore, Store};
use bosun_store_pg::PgStore;

use crate::config::{self, ServerConfig};
use crate::datadir;

/// An opened store and how the server may call it.
pub struct OpenedStore {
    pub store: Arc<dyn Store>,
    /// Reads are local and short (SQLite), so bounded ones may run on async threads.
    pub inline_reads: bool,
}

/// Open the store `config` names (`--database`, default the SQLite file in the data directory,
/// which is created if needed, private to this user) and bring its schema up to date.
///
/// Blocks (PostgreSQL: connects and migrates): call it from a blocking thread.
pub fn open_store(config: &ServerConfig) -> anyhow::Result<OpenedStore> {
    open(config, false)
}

/// Bring the schema of `database` (`sqlite:<path>` or `postgres://…`) up to date; says what
/// it did. Blocks.
pub fn migrate(database: &str) -> anyhow::Result<String> {
    match config::Database::parse(database).map_err(anyhow::Error::msg)? {
        config::Database::Sqlite(path) => {
            let existed = path.exists();
            SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
            Ok(format!(
                "{} {}: schema up to date",
                if existed { "migrated" } else { "created" },
                path.display()
            ))
        }
        config::Database::Postgres(url) => {
            let store = connect_postgres(&url)?;
            let applied = migrate_postgres(&store)?;
            Ok(if applied.is_empty() {
                format!("{}: schema already up to date", store.target())
            } else {
                format!("{}: applied migrations {applied:?}", store.target())
            })
        }
    }
}

/// [`open_store`] for a server. Any number of servers (replicas) may serve one PostgreSQL
/// database together; they coordinate through it (`crate::replicas`). `--standby`, which once
/// made a server wait for the serving one to stop, is accepted and only starts a replica.
pub(crate) fn open_store_to_serve(config: &ServerConfig) -> anyhow::Result<OpenedStore> {
    open(config, true)
}

fn open(config: &ServerConfig, serve: bool) -> anyhow::Result<OpenedStore> {
    datadir::prepare(&config.data_dir)?;
    match config.database().map_err(anyhow::Error::msg)? {
        config::Database::Sqlite(path) => {
            anyhow::ensure!(
                !(serve && config.standby),
                "--standby needs a postgres:// --database (a SQLite file has one server)"
            );
            let store =
                SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
            store.set_event_account(&config.account_id);
            Ok(OpenedStore {
                store: Arc::new(store),
                inline_reads: true,
            })
        }
        config::Database::Postgres(url) => {
            let store = connect_postgres(&url)?;
            if serve && config.standby {
                tracing::info!(database = %store.target(), "--standby is no longer needed: replicas serve one database together; serving now");
            }
            let applied = migrate_postgres(&store)?;
            if !applied.is_empty() {
                tracing::info!(database = %store.target(), migrations = ?applied, "schema migrated");
            }
            store.set_event_account(&config.account_id);
            Ok(OpenedStore {
                store: Arc::new(store),
                inline_reads: false,
            })
        }
    }
}

fn connect_postgres(url: &str) -> anyhow::Result<PgStore> {
    PgStore::connect(url).context("connecting to PostgreSQL (--database)")
}

/// Apply pending migrations; the versions applied.
fn migrate_postgres(store: &PgStore) -> anyhow::Result<Vec<i64>> {
    store
        .migrate()
        .with_context(|| format!("migrating {}", store.target()))
}
