//! The Bosun control plane: the SSM-compatible API, the agent channel and their state.
//!
//! Entry point: [`start`] takes the data directory (private, one server at a time), opens it,
//! creates the first admin key if needed, binds the listener and serves until
//! [`RunningServer::shutdown`] (or the process ends).

pub mod access_keys;
pub mod admin;
mod agents;
pub mod api;
mod association_scheduler;
mod automation;
mod blobs;
pub mod bootstrap;
pub mod client_config;
mod command_notify;
pub mod config;
mod console;
pub mod datadir;
mod delivery_template;
mod documents;
mod doorbell;
mod event_dispatch;
mod feed;
mod http;
mod image_validation;
pub mod kms;
mod mailer;
mod maintenance_window_executor;
mod node_pings;
mod orchestrator;
mod outputs;
mod package_files;
mod param_policies;
pub mod power;
mod readiness;
pub mod release_key;
mod replicas;
mod sessions;
mod sns_delivery;
mod sns_group;
mod sns_limits;
mod sns_mail;
mod state;
mod store_open;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use bosun_core::regions::ServedRegions;
use bosun_store::prelude::*;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{ServerConfig, SmtpConfig, SmtpSecurity, TlsConfig};
use store_open::open_store_to_serve;
pub use store_open::{migrate, open_store, OpenedStore};

/// A server that is accepting connections.
pub struct RunningServer {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    pub config: ServerConfig,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    background: Vec<JoinHandle<()>>,
    /// For leaving the database on shutdown.
    state: Arc<state::AppState>,
    /// Held while the server runs: no second server on the same data directory.
    _lock: datadir::DataDirLock,
}

impl RunningServer {
    /// Stop accepting connections and wait for the server task to end.
    /// Drains: new connections stop, background work stops, and this replica leaves the
    /// database ([`replicas::Replica::leave`]) so the others take its commands over at once.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        for t in &self.background {
            t.abort();
        }
        let state = self.state.clone();
        let left = tokio::task::spawn_blocking(move || state.replica.leave(&*state.store)).await;
        match left {
            Ok(Ok(())) => {
                tracing::info!(replica_id = %self.state.replica.id, "left the database: other replicas take this one's commands over")
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not leave the database; other replicas take over when this one's leases end")
            }
            Err(e) => tracing::warn!(error = %e, "leaving the database failed"),
        }
        self.task.await.context("server task")?
    }

    /// Wait until the server stops by itself (it only does on error).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task")?
    }
}

/// Open the store and the keyring; seal legacy plaintext secrets; create the first admin key.
fn prepare_store(config: &ServerConfig) -> anyhow::Result<(OpenedStore, kms::Keyring)> {
    for region in std::iter::once(&config.default_region).chain(&config.regions) {
        anyhow::ensure!(
            bosun_core::regions::is_region_name(region),
            "{region:?} is not a region name (like us-east-1)"
        );
    }
    let opened = open_store_to_serve(config)?;
    let store = &*opened.store;
    let kms = kms::Keyring::open(&config.kms_keyring_path(), state::now_ms())
        .context("opening the KMS keyring")?;
    let sealed = access_keys::seal_plaintext(store, &kms)
        .context("sealing access-key secrets stored in plaintext")?;
    if sealed > 0 {
        tracing::info!(
            count = sealed,
            "sealed access-key secrets stored in plaintext by an older version"
        );
    }
    bootstrap::ensure_admin(store, &kms, config)?;
    for id in access_keys::unopenable(store, &kms)? {
        tracing::warn!(access_key_id = %id, keyring = %config.kms_keyring_path().display(),
            "this access key was sealed with a master key the keyring lacks; it cannot authenticate");
    }
    Ok((opened, kms))
}

/// The regions this server answers in, warning about data it will not show.
fn served_regions(config: &ServerConfig, store: &dyn Store) -> anyhow::Result<ServedRegions> {
    let with_data = store
        .regions_with_data()
        .context("listing the regions that hold data")?;
    let served = ServedRegions::new(&config.regions, &config.default_region, &with_data);
    let hidden: Vec<&String> = with_data.iter().filter(|r| !served.serves(r)).collect();
    if !hidden.is_empty() {
        tracing::warn!(?hidden, "these regions hold data but are not in --regions: requests signed for them are refused");
    }
    tracing::info!(regions = ?served.list(), "serving regions");
    Ok(served)
}

/// Start serving. Returns once the listener is bound and the address file is written.
///
/// Sets the process umask to 0077 (see [`datadir`]) and fails if another server holds the
/// data directory.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    datadir::restrict_umask();
    // Bad mail settings stop the start before anything else is touched.
    let mailer = match &config.smtp {
        Some(smtp) => {
            let mailer = mailer::Mailer::new(smtp).context("the SMTP settings (--smtp-*)")?;
            tracing::info!(relay = %mailer.describe(), "email subscriptions are sent through this SMTP relay");
            Some(Arc::new(mailer))
        }
        None => None,
    };
    datadir::prepare(&config.data_dir)?;
    let lock = datadir::lock(&config.data_dir)?;
    // Opening a store may block (PostgreSQL), so it and the first-start work run off the
    // async threads.
    let setup_config = config.clone();
    let (opened, kms, regions, blobs, replica, release_key) = tokio::task::spawn_blocking(move || {
        let (opened, kms) = prepare_store(&setup_config)?;
        // Announce this replica (and hear of a differing keyring) before serving anything.
        let replica = replicas::Replica::new(state::now_ms());
        replica
            .beat(&*opened.store, &kms, state::now_ms())
            .context("recording this server as a replica of the database")?;
        tracing::info!(replica_id = %replica.id, keyring = %replicas::fingerprint(&kms), "replica started");
        let regions = served_regions(&setup_config, &*opened.store)?;
        let location = setup_config.blobs().map_err(anyhow::Error::msg)?;
        let blobs = blobs::Blobs::open(&location).context("opening the blob store (--blobs)")?;
        let release_key = release_key::ReleaseKey::load_or_create(&setup_config.data_dir)?;
        anyhow::Ok((opened, kms, regions, blobs, replica, release_key))
    })
    .await
    .context("store setup task")??;
    tracing::info!(blobs = %blobs.describe(), "command output store");
    let OpenedStore {
        store,
        inline_reads,
    } = opened;
    let (doorbell, heard) = match config.database().map_err(anyhow::Error::msg)? {
        config::Database::Postgres(url) => {
            let (doorbell, heard) = doorbell::Doorbell::connect(&url, &replica.id)
                .context("starting the doorbell between replicas (LISTEN/NOTIFY)")?;
            (doorbell, Some(heard))
        }
        config::Database::Sqlite(_) => (doorbell::Doorbell::local(), None),
    };
    let skew_ms = config.max_clock_skew.as_millis() as i64;
    let state = Arc::new(state::AppState {
        config: config.clone(),
        store,
        inline_reads,
        hub: agents::AgentHub::default(),
        sessions: sessions::Sessions::default(),
        idempotency: api::idempotency::Idempotency::new(skew_ms, replica.id.clone()),
        replica,
        orchestrator: orchestrator::Orchestrator::new(doorbell.clone(), config.orchestrator_sweep),
        associations: association_scheduler::AssociationScheduler::default(),
        image_validator: Default::default(),
        windows: maintenance_window_executor::WindowExecutor::default(),
        automation: automation::AutomationRuntime::new(doorbell.clone()),
        doorbell,
        blobs,
        output_waits: orchestrator::OutputWaits::default(),
        feed: feed::OutputFeed::default(),
        results: orchestrator::ResultWriter::default(),
        kms,
        opened_secrets: access_keys::OpenedSecrets::default(),
        regions,
        mailer,
        release_key,
    });
    orchestrator::ResultWriter::start(&state);
    let replica_task = tokio::spawn(replicas::run(state.clone()));
    let orchestrator_task = tokio::spawn(orchestrator::run(state.clone()));
    let policy_task = tokio::spawn(param_policies::run(state.clone()));
    let image_validation_task = tokio::spawn(image_validation::run(state.clone()));
    let association_task = tokio::spawn(association_scheduler::run(state.clone()));
    let window_task = tokio::spawn(maintenance_window_executor::run(state.clone()));
    let automation_task = tokio::spawn(automation::run(state.clone()));
    let sns_delivery_task = tokio::spawn(sns_delivery::run(state.clone()));
    let event_dispatch_task = tokio::spawn(event_dispatch::run(state.clone()));
    let output_waits_task = tokio::spawn(orchestrator::run_output_waits(state.clone()));
    let sessions_task = tokio::spawn(sessions::run(state.clone()));
    let node_pings_task = tokio::spawn(node_pings::run(state.clone()));
    let doorbell_task = heard.map(|heard| tokio::spawn(doorbell::run(state.clone(), heard)));
    let app = http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let std_listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("binding {}", config.listen))?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    // Published before anyone can start a session here: a data channel that lands on another
    // replica is relayed to this address.
    state.replica.set_url(config.replica_url(addr));
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        st.replica
            .while_present(|| st.replica.beat(&*st.store, &st.kms, state::now_ms()))
    })
    .await
    .context("replica heartbeat task")?
    .context("recording this replica's address")?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = match &config.tls {
        None => {
            // Session and agent traffic is many small messages each way: without TCP_NODELAY,
            // Nagle's wait for delayed ACKs adds ~40 ms per hop to every keystroke's echo.
            // (axum-server's acceptor, the TLS path, sets it already.)
            let listener = tokio::net::TcpListener::from_std(std_listener)?.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "could not set TCP_NODELAY");
                }
            });
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await
                    .context("serving HTTP")
            })
        }
        Some(tls) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls_config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert_path, &tls.key_path)
                    .await
                    .context("loading the TLS certificate and key")?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                let _ = rx.await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            tokio::spawn(async move {
                axum_server::from_tcp_rustls(std_listener, rustls_config)
                    .handle(handle)
                    .serve(app)
                    .await
                    .context("serving HTTPS")
            })
        }
    };
    // Before listen-addr: whoever waits for that file then finds the config current too.
    if let Err(e) = client_config::record_endpoint(&config, addr) {
        tracing::warn!(error = %e, "could not record endpoint_url in the data dir's AWS config");
    }
    bosun_fs::write_atomic(
        &config.listen_addr_path(),
        addr.to_string().as_bytes(),
        0o600,
    )
    .context("writing the listen-addr file")?;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), tls = config.tls.is_some(), "bosun server listening");
    Ok(RunningServer {
        addr,
        config,
        shutdown: Some(tx),
        task,
        background: vec![
            replica_task,
            orchestrator_task,
            policy_task,
            image_validation_task,
            association_task,
            window_task,
            automation_task,
            sns_delivery_task,
            node_pings_task,
            event_dispatch_task,
            output_waits_task,
            sessions_task,
        ]
        .into_iter()
        .chain(doorbell_task)
        .collect(),
        state,
        _lock: lock,
    })
}
