//! The `aws:ec2:image` validator: a background task that takes pending puts
//! (`bosun_store::ParameterValidationStore`, leased so that one replica handles each) and
//! validates them as AWS does after answering `PutParameter`: a valid one is applied as the
//! put it was (`api::parameter_put::apply_pending`: same version rules, `Overwrite` checked
//! now), its `Parameter Store Change` event written with it; an invalid one, or one whose put
//! fails now, writes nothing but AWS's failure event (`detail.exception`), logged as well.
//! Rows survive crashes: one leased by a replica that died is taken again when its lease ends.

use std::sync::Arc;
use std::time::Duration;

use bosun_core::events::envelope::{parameter_validation_failed, Origin, ParameterOperation};
use bosun_core::parameters::image_data_type::{
    IMAGE_DATA_TYPE, VALIDATION_FAILURE_EXCEPTION, VALIDATION_LEASE_MS,
};
use bosun_store::{new_event_id, PendingPut};
use tokio::sync::Notify;

use crate::api::Ctx;
use crate::state::{now_ms, AppState};

/// How often the validator looks for work when not kicked (pending rows left by a replica
/// that died, or accepted by another replica).
const POLL: Duration = Duration::from_secs(1);
/// Pending puts taken per pass.
const BATCH: usize = 50;

/// The validator's wake-up call: a put was accepted.
#[derive(Default)]
pub struct ImageValidator {
    notify: Notify,
}

impl ImageValidator {
    pub fn kick(&self) {
        self.notify.notify_one();
    }
}

/// What became of one pending put.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Failed,
    /// Another replica holds it now.
    Lost,
}

/// Validate every pending put this replica can take now; how many were handled.
pub fn pass(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let owner = state.replica.id.clone();
    let claimed = state
        .store
        .claim_pending_puts(&owner, now, VALIDATION_LEASE_MS, BATCH)?;
    let n = claimed.len();
    for pending in claimed {
        settle(state, &pending, &owner)?;
    }
    Ok(n)
}

/// Validate and apply one pending put held by `owner`, or record its failure.
pub fn settle(state: &AppState, pending: &PendingPut, owner: &str) -> anyhow::Result<Outcome> {
    let now = now_ms();
    let ctx = Ctx::internal(state, &pending.region, &pending.principal, now);
    let why = match crate::api::parameter_put::apply_pending(&ctx, pending, owner) {
        Ok(Some(answer)) => {
            tracing::info!(region = %pending.region, parameter = %pending.name, version = %answer["Version"], "aws:ec2:image value validated and applied");
            return Ok(Outcome::Applied);
        }
        Ok(None) => return Ok(Outcome::Lost),
        Err(e) if e.status.is_server_error() || e.code == "TooManyUpdates" => {
            // The store failed or the parameter is busy: the row stays leased and is tried
            // again when the lease ends.
            anyhow::bail!("applying a pending aws:ec2:image put failed: {}", e.message)
        }
        Err(e) => format!("{}: {}", e.code, e.message),
    };
    let existing = state.store.parameter(&pending.region, &pending.key)?;
    let operation = match &existing {
        Some(_) => ParameterOperation::Update,
        None => ParameterOperation::Create,
    };
    let param_type = serde_json::from_str::<serde_json::Value>(&pending.request_json)
        .ok()
        .and_then(|r| r["Type"].as_str().map(str::to_string))
        .or_else(|| existing.map(|e| e.param_type))
        .unwrap_or_else(|| "String".into());
    let id = new_event_id();
    let event = parameter_validation_failed(
        Origin {
            account: &state.config.account_id,
            region: &pending.region,
            id: &id,
            now_ms: now,
        },
        operation,
        &pending.name,
        &param_type,
        IMAGE_DATA_TYPE,
        VALIDATION_FAILURE_EXCEPTION,
    );
    if !state
        .store
        .fail_pending_put(pending.id, owner, &event, now)?
    {
        return Ok(Outcome::Lost);
    }
    // String values only (aws:ec2:image is refused for other types): nothing secret here.
    tracing::warn!(region = %pending.region, parameter = %pending.name, principal = %pending.principal, reason = %why, "aws:ec2:image validation failed: the parameter was not created or updated");
    Ok(Outcome::Failed)
}

/// Run [`pass`] whenever kicked, and every [`POLL`] at the latest, until aborted.
pub async fn run(state: Arc<AppState>) {
    loop {
        let s = state.clone();
        match tokio::task::spawn_blocking(move || pass(&s, now_ms())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "aws:ec2:image validation pass failed"),
            Err(e) => tracing::error!(error = %e, "aws:ec2:image validation pass panicked"),
        }
        let _ = tokio::time::timeout(POLL, state.image_validator.notify.notified()).await;
    }
}
