//! One serving `bosun server` per PostgreSQL database, until replicas coordinate through the
//! database: a session advisory lock held on a connection of its own for the server's lifetime.
//!
//! A second server on the same database fails to start, naming the reason. If the holding
//! connection breaks (PostgreSQL restarted, network cut), the lock is gone with it: the lease
//! reconnects and takes it again, and if another server took it meanwhile, `on_lost` is called
//! so this server stops rather than serve beside it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::PgError;
use crate::PgStore;

/// The advisory lock a serving server holds ("bosunsrv" in ASCII).
const SERVER_LOCK: i64 = 0x626f_7375_6e73_7276;
/// Pause between attempts to take the lock back after its connection broke.
const RETAKE_PAUSE: Duration = Duration::from_secs(1);

/// Held while a server serves a database; dropping it releases the lock.
pub struct ServerLease {
    task: JoinHandle<()>,
}

impl Drop for ServerLease {
    fn drop(&mut self) {
        // Ending the task drops its client, which closes the session and releases the lock.
        self.task.abort();
    }
}

/// A connection holding the lock, and a signal that fires when the connection ends.
struct Holder {
    _client: Client,
    ended: oneshot::Receiver<()>,
}

/// Connect and try the lock: `Some` holding it, `None` when another session holds it.
async fn take(
    config: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
) -> Result<Option<Holder>, PgError> {
    let (client, connection) = config.connect(tls.clone()).await?;
    let (ended_tx, ended) = oneshot::channel();
    tokio::spawn(async move {
        let _ = connection.await;
        let _ = ended_tx.send(());
    });
    let row = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&SERVER_LOCK])
        .await?;
    Ok(row.get::<_, bool>(0).then_some(Holder {
        _client: client,
        ended,
    }))
}

impl PgStore {
    /// Take the serving lease of this database, or fail with
    /// [`PgError::Config`] when another server holds it. `on_lost` runs (once) if the lease is
    /// lost for good: its connection broke and another server took the lock before this one
    /// could take it back.
    pub fn take_server_lease(
        &self,
        on_lost: impl Fn() + Send + Sync + 'static,
    ) -> Result<ServerLease, PgError> {
        self.try_take_server_lease(on_lost)?.ok_or_else(|| {
            PgError::Config(format!(
                "another bosun server is serving the database {}; Bosun does not run several \
                 servers on one database yet (start this one with --standby to take over when \
                 that one stops)",
                self.target()
            ))
        })
    }

    /// [`take_server_lease`](Self::take_server_lease), answering `None` (at once) while another
    /// server holds the lease: a standby calls it until the serving server is gone.
    pub fn try_take_server_lease(
        &self,
        on_lost: impl Fn() + Send + Sync + 'static,
    ) -> Result<Option<ServerLease>, PgError> {
        let config = self.config.clone();
        let tls = self.tls.clone();
        let first = self.block_on(take(&config, &tls))?;
        let Some(mut holder) = first else {
            return Ok(None);
        };
        let on_lost = Arc::new(on_lost);
        let target = self.target().to_string();
        let task = self.spawn(async move {
            loop {
                let _ = (&mut holder.ended).await;
                tracing::warn!(database = %target, "the connection holding the server lease broke; taking it again");
                holder = loop {
                    tokio::time::sleep(RETAKE_PAUSE).await;
                    match take(&config, &tls).await {
                        Ok(Some(h)) => break h,
                        Ok(None) => {
                            tracing::error!(database = %target, "another bosun server took this database while the lease's connection was down");
                            on_lost();
                            return;
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "the server lease cannot reconnect yet")
                        }
                    }
                };
                tracing::info!(database = %target, "server lease taken again");
            }
        });
        Ok(Some(ServerLease { task }))
    }
}
