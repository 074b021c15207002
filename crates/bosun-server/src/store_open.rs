//! Opening the store `--database` names (SQLite file or PostgreSQL), and `bosun migrate`.

use std::sync::Arc;

use anyhow::Context;
use bosun_store::{SqliteStore, Store};
use bosun_store_pg::PgStore;

use crate::config::{self, ServerConfig};
use crate::datadir;

/// An opened store and how the server may call it.
pub struct OpenedStore {
    pub store: Arc<dyn Store>,
    /// Reads are local and short (SQLite), so bounded ones may run on async threads.
    pub inline_reads: bool,
    /// PostgreSQL: the lease that makes this the database's one serving server.
    pub(crate) lease: Option<bosun_store_pg::ServerLease>,
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

/// [`open_store`] for a server, which must be the database's only one: on PostgreSQL it takes
/// the database's serving lease (a second server fails here), and losing that lease later for
/// good ends the process, so two servers never serve one database.
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
            Ok(OpenedStore {
                store: Arc::new(store),
                inline_reads: true,
                lease: None,
            })
        }
        config::Database::Postgres(url) => {
            let store = connect_postgres(&url)?;
            let lease = if serve {
                Some(take_lease(&store, config.standby)?)
            } else {
                None
            };
            let applied = migrate_postgres(&store)?;
            if !applied.is_empty() {
                tracing::info!(database = %store.target(), migrations = ?applied, "schema migrated");
            }
            Ok(OpenedStore {
                store: Arc::new(store),
                inline_reads: false,
                lease,
            })
        }
    }
}

/// Take the database's serving lease; a standby (`--standby`) waits for it, polling, until the
/// serving server stops (its session ends, e.g. the process died), then goes on to serve.
fn take_lease(store: &PgStore, standby: bool) -> anyhow::Result<bosun_store_pg::ServerLease> {
    let on_lost = || {
        tracing::error!("another bosun server took over this database; stopping");
        std::process::exit(1);
    };
    if !standby {
        return store
            .take_server_lease(on_lost)
            .context("taking the database's serving lease");
    }
    let mut announced = false;
    loop {
        let attempt = store.try_take_server_lease(on_lost);
        match attempt {
            Ok(Some(lease)) => {
                tracing::info!(database = %store.target(), "standby: the serving lease is ours; starting to serve");
                return Ok(lease);
            }
            Ok(None) if !announced => {
                tracing::info!(database = %store.target(), "standing by: another server serves this database; taking over when it stops");
                announced = true;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "standby: cannot reach the database yet"),
        }
        std::thread::sleep(STANDBY_POLL);
    }
}

/// How often a standby tries the serving lease (failover takes at most this plus start-up).
const STANDBY_POLL: std::time::Duration = std::time::Duration::from_millis(500);

fn connect_postgres(url: &str) -> anyhow::Result<PgStore> {
    PgStore::connect(url).context("connecting to PostgreSQL (--database)")
}

/// Apply pending migrations; the versions applied.
fn migrate_postgres(store: &PgStore) -> anyhow::Result<Vec<i64>> {
    store
        .migrate()
        .with_context(|| format!("migrating {}", store.target()))
}
