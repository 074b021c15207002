//! The Run Command orchestrator: sends invocations to agents within the rate controls, re-sends
//! until acknowledged, applies delivery deadlines and cancellations, records results, and keeps
//! each command's aggregate status. All decisions come from `bosun_core::command`; this module
//! only applies them to the store and the agent channels.
//!
//! Several replicas may serve one database: each pass renews and claims command ownership
//! (`ReplicaStore::claim_commands`); only a command's owner plans its starts, deadlines and
//! status, with writes fenced by its lease epoch, and every replica delivers to the nodes
//! connected to it (`ownership.rs`). On SQLite the one replica owns everything.

mod commit;
mod events;
mod known;
mod output_waits;
mod ownership;
mod release_choice;
mod reports;
#[cfg(test)]
mod reports_tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bosun_core::command::{
    next, settle_step, CommandPluginStatus, InvocationEvent, InvocationState,
};
use bosun_core::document::StepPlan;
use bosun_proto::{CommandDelivery, ServerMessage};
use bosun_store::{CommandLease, CommandRecord, InvocationRecord, PluginRecord};
use tokio::sync::Notify;

use crate::doorbell::{Bell, Doorbell};
use crate::replicas::Presence;
use crate::state::{now_ms, AppState};
use ownership::{advance, deliver};

pub use commit::ResultWriter;
pub use events::{on_ack, on_output, on_result};
pub use output_waits::{run as run_output_waits, OutputWaits};

/// How long an unacknowledged delivery waits before it is sent again.
const RESEND_AFTER_MS: i64 = 5_000;
/// How often the orchestrator looks at active commands without being asked.
const SWEEP_EVERY: Duration = Duration::from_millis(500);
/// How long a replica owns a command without renewing it (it renews every pass): after this,
/// another replica takes it over with a new epoch.
const COMMAND_LEASE_MS: i64 = 15_000;
/// Most commands one pass claims.
const CLAIM_LIMIT: usize = 50;

/// Wakes the orchestrator loop.
#[derive(Default)]
pub struct Orchestrator {
    notify: Notify,
    /// The command leases this replica held after its last pass (to log new ones).
    owned: std::sync::Mutex<HashMap<String, i64>>,
    /// Rings the other replicas' orchestrators (silent on SQLite).
    doorbell: Doorbell,
    /// How often a pass runs without being asked.
    sweep_every: Option<Duration>,
    /// Invocations known to exist (output chunks are checked against it first).
    known: known::KnownInvocations,
}

impl Orchestrator {
    /// An orchestrator that also wakes the other replicas' through `doorbell`, and sweeps every
    /// `sweep_every` (default [`SWEEP_EVERY`]) without being asked.
    pub fn new(doorbell: Doorbell, sweep_every: Option<Duration>) -> Orchestrator {
        Orchestrator {
            doorbell,
            sweep_every,
            ..Orchestrator::default()
        }
    }

    /// Ask for a pass soon (after a new command, a result, a connect...), here and on the
    /// other replicas.
    pub fn kick(&self) {
        self.notify.notify_one();
        self.doorbell.ring(Bell::Orchestrator);
    }

    /// How long this replica's command leases last: [`COMMAND_LEASE_MS`], or three sweeps when
    /// the sweep is slower, so a lease outlives the pauses between renewals.
    fn lease_ms(&self) -> i64 {
        let sweep = self.sweep_every.unwrap_or(SWEEP_EVERY).as_millis() as i64;
        COMMAND_LEASE_MS.max(3 * sweep)
    }

    /// Ask for a pass on the other replicas only (this one just made one).
    pub(crate) fn ring_others(&self) {
        self.doorbell.ring(Bell::Orchestrator);
    }

    /// Ask for a pass here only (another replica rang).
    pub fn kick_here(&self) {
        self.notify.notify_one();
    }
}

/// Run the orchestrator until the process ends.
pub async fn run(state: Arc<AppState>) {
    let every = state.orchestrator.sweep_every.unwrap_or(SWEEP_EVERY);
    let mut sweep = tokio::time::interval(every);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = state.orchestrator.notify.notified() => {}
            _ = sweep.tick() => {}
        }
        let st = state.clone();
        match tokio::task::spawn_blocking(move || tick(&st, now_ms())).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "orchestrator pass failed"),
            Err(e) => tracing::error!(error = %e, "orchestrator pass panicked"),
        }
    }
}

fn state_of(i: &InvocationRecord) -> InvocationState {
    InvocationState::from_wire(&i.status, &i.status_details).unwrap_or(InvocationState::Pending)
}

/// Apply an event to an invocation record; `false` when it does not apply (left unchanged).
pub(crate) fn apply(i: &mut InvocationRecord, event: InvocationEvent) -> bool {
    match next(state_of(i), event) {
        Ok(s) => {
            i.status = s.status().as_str().to_string();
            i.status_details = s.details().to_string();
            true
        }
        Err(_) => false,
    }
}

/// Steps that never reported take their invocation's end once it is terminal, so a
/// `Terminated`, `Cancelled` or undelivered invocation shows no `Pending` step
/// (`bosun_core::command::settle_step`). Returns whether any step changed.
pub(crate) fn settle_plugins(i: &InvocationRecord, plugins: &mut [PluginRecord]) -> bool {
    let state = state_of(i);
    let mut changed = false;
    for p in plugins {
        let Some(status) = CommandPluginStatus::from_wire(&p.status) else {
            continue;
        };
        if let Some((s, d)) = settle_step(state, status) {
            p.status = s.as_str().to_string();
            p.status_details = d.to_string();
            changed = true;
        }
    }
    changed
}

/// An invocation's change to write, with its steps settled when it ended without a report.
fn with_settled_plugins(
    state: &AppState,
    i: &InvocationRecord,
) -> anyhow::Result<(InvocationRecord, Vec<PluginRecord>)> {
    if !state_of(i).is_terminal() {
        return Ok((i.clone(), Vec::new()));
    }
    let mut plugins = state.store.plugins(&i.command_id, &i.instance_id)?;
    let changed = settle_plugins(i, &mut plugins);
    Ok((i.clone(), if changed { plugins } else { Vec::new() }))
}

/// One pass: renew and claim command ownership, then go over every active command.
pub fn tick(state: &AppState, now: i64) -> anyhow::Result<()> {
    let claimed = state.replica.while_present(|| {
        Ok(state.store.claim_commands(
            &state.replica.id,
            now,
            now + state.orchestrator.lease_ms(),
            CLAIM_LIMIT,
        )?)
    })?;
    // Left (shutting down): the commands are another replica's now.
    let Some(claimed) = claimed else {
        return Ok(());
    };
    let leases: HashMap<String, CommandLease> = claimed
        .into_iter()
        .map(|l| (l.command_id.clone(), l))
        .collect();
    {
        let mut owned = state
            .orchestrator
            .owned
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for l in leases.values() {
            if owned.get(&l.command_id) != Some(&l.epoch) {
                tracing::info!(command_id = %l.command_id, epoch = l.epoch, replica_id = %state.replica.id, "took ownership of a command");
            }
        }
        *owned = leases
            .values()
            .map(|l| (l.command_id.clone(), l.epoch))
            .collect();
    }
    let mut presence = None;
    for c in state.store.active_commands()? {
        let lease = leases.get(&c.command_id);
        if let Err(e) = process(state, c, lease, &mut presence, now) {
            tracing::error!(error = %e, "could not advance a command");
        }
    }
    Ok(())
}

/// The message an agent gets: the stored plan with its Parameter Store references resolved
/// in memory (the values are never stored with the command).
fn delivery(state: &AppState, c: &CommandRecord) -> anyhow::Result<CommandDelivery> {
    let mut steps: Vec<StepPlan> = serde_json::from_str(&c.steps_json)?;
    let scope = bosun_core::arn::Scope::new(c.region.clone(), state.config.account_id.clone());
    crate::api::references::resolve(
        &*state.store,
        &state.kms,
        &state.replica,
        &scope,
        &mut steps,
    )?;
    Ok(CommandDelivery {
        command_id: c.command_id.clone(),
        document_name: c.document_name.clone(),
        document_hash: c.document_hash.clone(),
        steps,
        deliver_by_ms: c.expires_ms,
        region: c.region.clone(),
    })
}

/// One pass over one command: its owner (`lease`) advances it; then every replica delivers
/// what is due to the nodes connected to it.
fn process(
    state: &AppState,
    mut c: CommandRecord,
    lease: Option<&CommandLease>,
    presence: &mut Option<Presence>,
    now: i64,
) -> anyhow::Result<()> {
    // The live invocations whole, the ended ones only as their states: a pass over a command
    // that is mostly done reads little.
    let digest = state.store.live_invocations(&c.command_id)?;
    let ended: Vec<InvocationState> = digest
        .ended
        .iter()
        .flat_map(|e| {
            let s = InvocationState::from_wire(&e.status, &e.status_details)
                .unwrap_or(InvocationState::Pending);
            std::iter::repeat_n(s, usize::try_from(e.count).unwrap_or(0))
        })
        .collect();
    let mut invocations = digest.live;
    if let Some(lease) = lease {
        if !advance(
            state,
            &mut c,
            lease,
            &mut invocations,
            &ended,
            presence,
            now,
        )? {
            tracing::warn!(command_id = %c.command_id, epoch = lease.epoch,
                "ownership lost: another replica owns this command now; dropping it");
            return Ok(());
        }
    }
    deliver(state, &c, &invocations, now)
}

/// `CancelCommand`: cancel the chosen invocations (all when `instance_ids` is empty).
pub fn cancel(
    state: &AppState,
    c: &CommandRecord,
    invocations: &[InvocationRecord],
    instance_ids: &[String],
    now: i64,
) -> Result<(), bosun_store::StoreError> {
    let whole = instance_ids.is_empty();
    for i in invocations {
        if !whole && !instance_ids.contains(&i.instance_id) {
            continue;
        }
        let mut i = i.clone();
        if state_of(&i).is_terminal() {
            continue;
        }
        let was_sent = state_of(&i) == InvocationState::InProgress;
        if apply(&mut i, InvocationEvent::CancelRequested) {
            if was_sent
                && state.hub.send(
                    &i.instance_id,
                    ServerMessage::CancelCommand {
                        command_id: c.command_id.clone(),
                    },
                )
            {
                i.dispatched_ms = Some(now);
            }
            // Not sent yet: it ends here, and so do its steps.
            let mut plugins = Vec::new();
            if state_of(&i).is_terminal() {
                plugins = state.store.plugins(&i.command_id, &i.instance_id)?;
                settle_plugins(&i, &mut plugins);
            }
            state.store.update_invocation_with_plugins(&i, &plugins)?;
        }
    }
    if whole {
        state.store.request_cancel(&c.command_id)?;
    }
    state.orchestrator.kick();
    Ok(())
}
