//! The Automation runtime: drives every running automation execution this replica holds the
//! lease of, step by step, with `bosun_core::automation`'s rules (`drive.rs`), running each
//! action (`actions.rs`; `aws:runCommand` in `run_command.rs`, the `aws:executeAwsApi` family
//! in `aws_api.rs`, `aws:executeAutomation`'s child execution in `nested.rs`, `aws:loop`'s
//! iterations in `loop_run.rs`), and parents
//! started with `Targets` by starting their children (`children.rs`).
//!
//! Durable like Run Command: a step's row is written `InProgress` (with the id its command
//! will take) before its effect starts, and its end after, so a server killed mid-runbook
//! resumes at the step that was running without running it twice: a command is found by its
//! recorded id (and sent only if it does not exist), a sleep keeps its wake time, waits and
//! approvals carry on. Leases (`bosun_store::AutomationStore`) let another replica take over
//! an execution whose driver stopped renewing it.
//!
//! Every write of an execution or step goes through `writes.rs`, which hands the store the
//! EventBridge events the change emits (`EC2 Automation … Status-change Notification` when an
//! execution or step ends), appended in the same transaction.
//!
//! Woken by a start, a stop or a signal ([`AutomationRuntime::kick`]); every [`POLL`] while
//! executions run (commands and property waits are polled), else every [`IDLE`].

mod actions;
mod aws_api;
mod change_state;
mod children;
mod drive;
pub(crate) mod loop_run;
mod nested;
mod run_command;
mod writes;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::state::{now_ms, AppState};

/// How long a lease lasts; renewed on every pass.
pub const LEASE_MS: i64 = 10_000;
/// How often running executions are driven.
pub const POLL: Duration = Duration::from_secs(1);
/// How often the runtime looks for executions to take over when it drives none.
pub const IDLE: Duration = Duration::from_secs(3);

/// The runtime's wake-up call.
#[derive(Default)]
pub struct AutomationRuntime {
    notify: Notify,
    /// Rings the other replicas' runtimes (silent on SQLite).
    doorbell: crate::doorbell::Doorbell,
}

impl AutomationRuntime {
    /// Look at the executions soon (one started, was stopped or got a signal).
    pub fn kick(&self) {
        self.notify.notify_one();
        self.doorbell.ring(crate::doorbell::Bell::Automation);
    }

    /// A runtime that also wakes the other replicas' through `doorbell`.
    pub fn new(doorbell: crate::doorbell::Doorbell) -> AutomationRuntime {
        AutomationRuntime {
            doorbell,
            ..AutomationRuntime::default()
        }
    }

    /// Wake this replica's runtime only (another replica rang).
    pub fn kick_here(&self) {
        self.notify.notify_one();
    }
}

/// Claim and drive every execution this replica may; whether any runs, and the earliest
/// time one asked to be woken at.
fn pass(state: &AppState) -> anyhow::Result<(bool, Option<i64>)> {
    let now = now_ms();
    let ids = state
        .store
        .claim_automation_executions(&state.replica.id, now, now + LEASE_MS)?;
    let mut wake: Option<i64> = None;
    for id in &ids {
        match drive::drive(state, id) {
            Ok(Some(at)) => wake = Some(wake.map_or(at, |w| w.min(at))),
            Ok(None) => {}
            Err(e) => tracing::error!(execution = %id, error = %e, "automation step failed to run"),
        }
    }
    Ok((!ids.is_empty(), wake))
}

/// Run passes until the task is aborted.
pub async fn run(state: Arc<AppState>) {
    loop {
        let s = state.clone();
        let (running, wake) = match tokio::task::spawn_blocking(move || pass(&s)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "automation pass failed");
                (true, None)
            }
            Err(e) => {
                tracing::error!(error = %e, "automation pass panicked");
                (true, None)
            }
        };
        let mut sleep = if running { POLL } else { IDLE };
        if let Some(at) = wake {
            sleep = sleep.min(Duration::from_millis(
                u64::try_from(at - now_ms()).unwrap_or(0),
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = state.automation.notify.notified() => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use bosun_store::AutomationExecutionRecord;

    /// A plain running execution for unit tests.
    pub(crate) fn execution() -> AutomationExecutionRecord {
        AutomationExecutionRecord {
            execution_id: "e".into(),
            region: "us-east-1".into(),
            document_name: "D".into(),
            document_version: "1".into(),
            document_content: "{}".into(),
            status: "InProgress".into(),
            mode: "Auto".into(),
            parameters_json: "{}".into(),
            outputs_json: "{}".into(),
            failure_message: String::new(),
            executed_by: String::new(),
            parent_id: None,
            targets_json: "[]".into(),
            target_parameter_name: String::new(),
            max_concurrency: String::new(),
            max_errors: String::new(),
            client_token: String::new(),
            request_hash: String::new(),
            current_step_name: String::new(),
            current_action: String::new(),
            start_ms: 0,
            end_ms: None,
            wake_ms: None,
            stop_requested: String::new(),
            signals_json: "[]".into(),
            owner: "r".into(),
            lease_until_ms: 0,
        }
    }
}
