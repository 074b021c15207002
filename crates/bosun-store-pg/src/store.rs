//! `PgStore`: a deadpool connection pool and the small tokio runtime that drives it.
//!
//! Bosun's store interface is synchronous: the server calls it from blocking threads
//! (`spawn_blocking`) and the CLI from plain threads. `PgStore` therefore owns a runtime of its
//! own and runs each operation with `Runtime::block_on` on the calling thread, while the
//! connections' background tasks run on the runtime's two worker threads.
//!
//! Calling a `PgStore` method from an async task (a tokio worker thread) is a bug: it would block
//! that worker for a network round trip. It panics with a message naming `PgStore`, never hangs.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Timeouts};

use crate::error::PgError;
use crate::options::{describe_target, pg_config, PgOptions};

/// The PostgreSQL engine of Bosun's store. Cheap to share behind an `Arc`.
pub struct PgStore {
    pub(crate) pool: Pool,
    pub(crate) options: PgOptions,
    /// The account stamped into emitted events.
    pub(crate) event_account: bosun_store::EventAccount,
    target: String,
    /// `Some` until drop, which shuts it down without waiting (drop may happen on any thread).
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connect with the default [`PgOptions`]; see [`PgStore::connect_with`].
    pub fn connect(url: &str) -> Result<PgStore, bosun_store::StoreError> {
        Ok(Self::connect_with(url, PgOptions::default())?)
    }

    /// Build the pool and open one connection to prove the server answers and the login works.
    /// Does not touch the schema: call [`PgStore::migrate`] for that.
    ///
    /// TLS follows the URL's `sslmode` and `sslrootcert` ([`crate::tls`]).
    pub fn connect_with(url: &str, options: PgOptions) -> Result<PgStore, PgError> {
        let (url, root_cert) = crate::tls::take_root_cert(url);
        let config = pg_config(&url, &options)?;
        let tls = crate::tls::connector(root_cert.as_deref())?;
        let target = describe_target(&config);
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(options.acquire_timeout),
                create: Some(options.connect_timeout),
                recycle: Some(options.connect_timeout),
            })
            .build()
            .map_err(|e| PgError::Config(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bosun-pg")
            .enable_all()
            .build()
            .map_err(|e| PgError::Config(format!("cannot start the PostgreSQL runtime: {e}")))?;
        let store = PgStore {
            pool,
            options,
            event_account: Default::default(),
            target,
            runtime: Some(runtime),
        };
        store.with_client(async |client| Ok(client.simple_query("SELECT 1").await?))?;
        tracing::info!(database = %store.target, "connected to PostgreSQL");
        Ok(store)
    }

    /// Where this store points, as `postgres://user@host:port/dbname` (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Run a future to completion on this store's runtime, blocking the calling thread.
    ///
    /// # Panics
    /// On a thread that is driving async tasks (a tokio worker), where blocking is a bug.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        match catch_unwind(AssertUnwindSafe(|| runtime.block_on(future))) {
            Ok(output) => output,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                if text.contains("Cannot start a runtime from within a runtime") {
                    panic!(
                        "PgStore was called from an async task; its methods block, so call them \
                         from a blocking thread (tokio::task::spawn_blocking) or a plain thread"
                    );
                }
                resume_unwind(panic)
            }
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Closing the pool drops idle connections; shutting the runtime down in the background
        // ends the connection tasks without blocking, which is allowed on any thread.
        self.pool.close();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
