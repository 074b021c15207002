//! `PgCluster`: a private throwaway PostgreSQL for tests (feature `testing`).
//!
//! A cluster lives in a temp dir on a free loopback port with `fsync` off. [`PgCluster::shared`]
//! is one cluster per test binary, stopped and removed when the binary exits; each test takes
//! its own database from it ([`PgCluster::fresh_database`]: a copy of a pre-migrated template,
//! about 0.1 s). Failure tests that stop or restart the server start their own with
//! [`PgCluster::start`], removed on drop, so they never disturb other tests.
//!
//! Without the PostgreSQL server binaries both return `None` after printing why, so the caller
//! skips; with `BOSUN_REQUIRE_PG=1` (set in CI) they panic instead, so CI never skips silently.

mod server;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::PgStore;
use server::Server;

/// The pre-migrated database every [`PgCluster::fresh_database`] copies.
const TEMPLATE: &str = "bosun_template";

/// A running private PostgreSQL server. Superuser `postgres`, trust authentication.
#[derive(Debug)]
pub struct PgCluster {
    server: Mutex<Server>,
    port: u16,
    /// Serializes database creation; holds whether the template exists yet.
    template_ready: Mutex<bool>,
    next_database: AtomicU64,
    /// Set once cleanup ran, so it runs once.
    cleaned: Mutex<bool>,
}

static SHARED: OnceLock<Option<PgCluster>> = OnceLock::new();

impl PgCluster {
    /// This test binary's cluster, started on first use and removed when the binary exits.
    /// `None` (after printing why) when the PostgreSQL server binaries are missing, unless
    /// `BOSUN_REQUIRE_PG=1`, which makes that a panic.
    pub fn shared() -> Option<&'static PgCluster> {
        SHARED
            .get_or_init(|| {
                let cluster = Self::start()?;
                // SAFETY: registering a plain `extern "C" fn` with no captured state.
                unsafe { libc::atexit(clean_up_shared) };
                Some(cluster)
            })
            .as_ref()
    }

    /// A cluster of the caller's own (for tests that stop or restart it), removed on drop.
    /// `None` as for [`PgCluster::shared`].
    ///
    /// # Panics
    /// When the binaries exist but the cluster cannot be created or started.
    pub fn start() -> Option<PgCluster> {
        let bindir = bindir_or_skip()?;
        let mut server = Server::init(bindir).unwrap_or_else(|e| panic!("{e}"));
        if let Err(e) = server.start() {
            server.remove_files();
            panic!("{e}");
        }
        Some(PgCluster {
            port: server.port,
            server: Mutex::new(server),
            template_ready: Mutex::new(false),
            next_database: AtomicU64::new(1),
            cleaned: Mutex::new(false),
        })
    }

    /// A cluster of the caller's own that accepts TCP clients over TLS only (a throwaway CA's
    /// certificate for 127.0.0.1), and the CA certificate's path. `None` as for
    /// [`PgCluster::shared`]. Its databases are reached with [`PgCluster::url`] plus
    /// `?sslmode=…&sslrootcert=<ca>`; the other helpers (which connect without the CA) do not
    /// work on it.
    pub fn start_tls() -> Option<(PgCluster, std::path::PathBuf)> {
        let bindir = bindir_or_skip()?;
        let mut server = Server::init(bindir).unwrap_or_else(|e| panic!("{e}"));
        let ca = server.enable_tls().unwrap_or_else(|e| panic!("{e}"));
        if let Err(e) = server.start() {
            server.remove_files();
            panic!("{e}");
        }
        Some((
            PgCluster {
                port: server.port,
                server: Mutex::new(server),
                template_ready: Mutex::new(false),
                next_database: AtomicU64::new(1),
                cleaned: Mutex::new(false),
            },
            ca,
        ))
    }

    /// The loopback port the server listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of a database on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new database with the current schema, named uniquely; its URL.
    pub fn fresh_database(&self) -> String {
        let mut ready = lock(&self.template_ready);
        if !*ready {
            self.create_database(TEMPLATE, "template0");
            let store = PgStore::connect(&self.url(TEMPLATE))
                .unwrap_or_else(|e| panic!("cannot connect to the template database: {e}"));
            store
                .migrate()
                .unwrap_or_else(|e| panic!("cannot migrate the template database: {e}"));
            // Copying needs the template without sessions: the store's connections close here.
            drop(store);
            self.admin(&format!("ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true"));
            *ready = true;
        }
        let name = self.next_name();
        self.create_database(&name, TEMPLATE);
        self.url(&name)
    }

    /// A new database without any schema, named uniquely; its URL.
    pub fn fresh_empty_database(&self) -> String {
        let _serialized = lock(&self.template_ready);
        let name = self.next_name();
        self.create_database(&name, "template0");
        self.url(&name)
    }

    /// Drop the database at `url` (one [`PgCluster::url`] gave), closing its sessions first.
    ///
    /// # Panics
    /// If it cannot be dropped.
    pub fn drop_database(&self, url: &str) {
        let name = url.rsplit('/').next().unwrap_or(url);
        self.admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }

    /// Stop the server (fast shutdown) and wait until it is down.
    ///
    /// # Panics
    /// If it cannot be stopped.
    pub fn stop(&self) {
        lock(&self.server).stop().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Start the server again on the same port (stopping it first if it runs) and wait until it
    /// accepts connections.
    ///
    /// # Panics
    /// If it cannot be started.
    pub fn restart(&self) {
        let mut server = lock(&self.server);
        let _ = server.stop();
        server
            .start()
            .unwrap_or_else(|e| panic!("cannot restart PostgreSQL: {e}"));
    }

    fn next_name(&self) -> String {
        format!(
            "bosun_t{}",
            self.next_database.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn create_database(&self, name: &str, template: &str) {
        self.admin(&format!(
            "CREATE DATABASE {name} TEMPLATE {template} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        ));
    }

    /// One statement on the `postgres` database, through a short-lived store.
    fn admin(&self, sql: &str) {
        let store = PgStore::connect(&self.url("postgres"))
            .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"));
        store
            .with_client(async |client| Ok(client.batch_execute(sql).await?))
            .unwrap_or_else(|e| panic!("{sql}: {e}\n{}", lock(&self.server).log_tail()));
    }

    /// Stop the server and remove its files; once.
    fn clean_up(&self) {
        let mut cleaned = lock(&self.cleaned);
        if *cleaned {
            return;
        }
        *cleaned = true;
        let mut server = lock(&self.server);
        if let Err(e) = server.stop() {
            eprintln!("PgCluster cleanup: {e}");
        }
        server.remove_files();
    }
}

/// The PostgreSQL server binaries' directory; `None` after printing why they are missing, or a
/// panic under `BOSUN_REQUIRE_PG=1`.
fn bindir_or_skip() -> Option<std::path::PathBuf> {
    let Some(bindir) = server::find_bindir() else {
        let why = "PostgreSQL server binaries not found (looked in $BOSUN_PG_BINDIR, \
                       `pg_config --bindir` and /usr/lib/postgresql/*/bin; on Debian: \
                       apt-get install postgresql)";
        if std::env::var("BOSUN_REQUIRE_PG").as_deref() == Ok("1") {
            panic!("BOSUN_REQUIRE_PG=1 but {why}");
        }
        // Straight to stderr, past the test harness's capture, so a skip is always seen.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipping PostgreSQL tests: {why}");
        return None;
    };
    Some(bindir)
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.clean_up();
    }
}

extern "C" fn clean_up_shared() {
    // A panic must not unwind into C.
    let _ = std::panic::catch_unwind(|| {
        if let Some(Some(cluster)) = SHARED.get() {
            cluster.clean_up();
        }
    });
}

/// A poisoned lock only means another test panicked; the state it guards stays usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
