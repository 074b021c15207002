//! Shared server state handed to every request and agent connection.

use std::sync::Arc;

use bosun_store::Store;

use crate::agents::AgentHub;
use crate::api::idempotency::Idempotency;
use crate::blobs::Blobs;
use crate::config::ServerConfig;
use crate::feed::OutputFeed;
use crate::orchestrator::{Orchestrator, OutputWaits, ResultWriter};

pub struct AppState {
    pub config: ServerConfig,
    pub store: Arc<dyn Store>,
    /// The store's reads are local and short (SQLite): bounded reads may run on async threads.
    /// False for a store across the network, whose every call runs on the blocking pool.
    pub inline_reads: bool,
    pub hub: AgentHub,
    /// Session Manager sessions relayed by this replica.
    pub sessions: crate::sessions::Sessions,
    /// This process among the replicas serving the database (`replicas`).
    pub replica: crate::replicas::Replica,
    pub idempotency: Idempotency,
    pub orchestrator: Orchestrator,
    /// Wakes the `aws:ec2:image` validator.
    pub image_validator: crate::image_validation::ImageValidator,
    /// Wakes the association scheduler.
    pub associations: crate::association_scheduler::AssociationScheduler,
    /// Wakes the maintenance window executor.
    pub windows: crate::maintenance_window_executor::WindowExecutor,
    /// Wakes the automation runtime.
    pub automation: crate::automation::AutomationRuntime,
    pub blobs: Blobs,
    /// Results not acknowledged until their output is stored.
    pub output_waits: OutputWaits,
    pub feed: OutputFeed,
    /// Wakes the other replicas and carries live output between them (silent on SQLite).
    pub doorbell: crate::doorbell::Doorbell,
    pub results: ResultWriter,
    pub kms: crate::kms::Keyring,
    /// Secret access keys opened from their sealed form (see `access_keys`).
    pub opened_secrets: crate::access_keys::OpenedSecrets,
    /// The regions requests may be signed for (see `bosun_core::regions`).
    pub regions: bosun_core::regions::ServedRegions,
    /// The SMTP relay (`--smtp-*`) for email subscriptions; `None` when not configured.
    pub mailer: Option<Arc<crate::mailer::Mailer>>,
    /// Signs agent releases; its public half goes to agents in `Welcome`.
    pub release_key: crate::release_key::ReleaseKey,
}

/// Milliseconds since the Unix epoch, from the system clock (the only clock the server reads).
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    buf
}
