//! The Run Command orchestrator: sends invocations to agents within the rate controls, re-sends
//! until acknowledged, applies delivery deadlines and cancellations, records results, and keeps
//! each command's aggregate status. All decisions come from `bosun_core::command`; this module
//! only applies them to the store and the agent channels.

mod commit;
mod events;
mod output_waits;

use std::sync::Arc;
use std::time::Duration;

use bosun_core::command::{
    command_status, next, plan, settle_step, CommandCounts, CommandPluginStatus, DispatchCounts,
    InvocationEvent, InvocationState, MaxConcurrency, MaxErrors,
};
use bosun_core::document::StepPlan;
use bosun_proto::{CommandDelivery, ServerMessage};
use bosun_store::{CommandRecord, InvocationRecord, PluginRecord};
use tokio::sync::Notify;

use crate::state::{now_ms, AppState};

pub use commit::ResultWriter;
pub use events::{on_ack, on_output, on_result};
pub use output_waits::{run as run_output_waits, OutputWaits};

/// How long an unacknowledged delivery waits before it is sent again.
const RESEND_AFTER_MS: i64 = 5_000;
/// How often the orchestrator looks at active commands without being asked.
const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// Wakes the orchestrator loop.
#[derive(Default)]
pub struct Orchestrator {
    notify: Notify,
}

impl Orchestrator {
    /// Ask for a pass soon (after a new command, a result, a connect...).
    pub fn kick(&self) {
        self.notify.notify_one();
    }
}

/// Run the orchestrator until the process ends.
pub async fn run(state: Arc<AppState>) {
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
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

/// One pass over every active command.
pub fn tick(state: &AppState, now: i64) -> anyhow::Result<()> {
    for c in state.store.active_commands()? {
        if let Err(e) = process(state, c, now) {
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
    crate::api::references::resolve(&*state.store, &state.kms, &scope, &mut steps)?;
    Ok(CommandDelivery {
        command_id: c.command_id.clone(),
        document_name: c.document_name.clone(),
        document_hash: c.document_hash.clone(),
        steps,
        deliver_by_ms: c.expires_ms,
        region: c.region.clone(),
    })
}

/// Send (or re-send) one invocation to its node; `Delayed` when the node is not connected.
/// The caller persists the change.
fn send(state: &AppState, msg: &CommandDelivery, i: &mut InvocationRecord, now: i64) {
    let sent = state
        .hub
        .send(&i.instance_id, ServerMessage::RunCommand(msg.clone()));
    let event = if sent {
        InvocationEvent::Sent
    } else {
        InvocationEvent::DeliveryFailed
    };
    apply(i, event);
    if sent {
        i.dispatched_ms = Some(now);
    } else if i.dispatched_ms.is_none() {
        // Attempted: it counts against MaxConcurrency and is retried when the node returns.
        i.dispatched_ms = Some(0);
    }
}

/// One pass over one command. Every invocation change of the pass is written in one
/// transaction, after the messages went out: a crash in between only means a re-send, which
/// agents de-duplicate.
fn process(state: &AppState, mut c: CommandRecord, now: i64) -> anyhow::Result<()> {
    let msg = delivery(state, &c)?;
    let mut invocations = state.store.invocations(&c.command_id)?;
    let mut dirty = vec![false; invocations.len()];
    for (n, i) in invocations.iter_mut().enumerate() {
        if state_of(i).is_terminal() {
            continue;
        }
        if now >= c.expires_ms {
            // ExpiresAfter passed without a terminal answer.
            if state_of(i) == InvocationState::InProgress && i.acked {
                state.hub.send(
                    &i.instance_id,
                    ServerMessage::CancelCommand {
                        command_id: c.command_id.clone(),
                    },
                );
            }
            dirty[n] = apply(i, InvocationEvent::DeliveryDeadlinePassed);
            continue;
        }
        if matches!(
            state_of(i),
            InvocationState::Pending | InvocationState::Delayed
        ) && state
            .store
            .get_instance(&i.instance_id)?
            .is_none_or(|node| node.deregistered)
        {
            // The node was deregistered after the command was sent: it can never be reached.
            dirty[n] = apply(i, InvocationEvent::Undeliverable);
            continue;
        }
        let due = i.dispatched_ms.is_none_or(|d| now - d >= RESEND_AFTER_MS);
        match state_of(i) {
            InvocationState::Cancelling if due => {
                let cancel = ServerMessage::CancelCommand {
                    command_id: c.command_id.clone(),
                };
                if state.hub.send(&i.instance_id, cancel) {
                    i.dispatched_ms = Some(now);
                    dirty[n] = true;
                }
            }
            InvocationState::Delayed if state.hub.is_connected(&i.instance_id) => {
                send(state, &msg, i, now);
                dirty[n] = true;
            }
            InvocationState::InProgress if !i.acked && due => {
                send(state, &msg, i, now);
                dirty[n] = true;
            }
            _ => {}
        }
    }
    let targets = invocations.len();
    let states: Vec<InvocationState> = invocations.iter().map(state_of).collect();
    let max_concurrency = MaxConcurrency::parse(&c.max_concurrency)
        .map(|m| m.resolve(targets))
        .unwrap_or(50);
    let max_errors = MaxErrors::parse(&c.max_errors)
        .map(|m| m.resolve(targets))
        .unwrap_or(0);
    let decision = plan(&DispatchCounts::tally(&states), max_concurrency, max_errors);
    let mut to_start = decision.start;
    for (n, i) in invocations.iter_mut().enumerate() {
        if state_of(i) != InvocationState::Pending || i.dispatched_ms.is_some() {
            continue;
        }
        if decision.terminate_not_started {
            dirty[n] = apply(i, InvocationEvent::MaxErrorsExceeded);
        } else if to_start > 0 {
            to_start -= 1;
            send(state, &msg, i, now);
            dirty[n] = true;
        }
    }
    let changed = invocations
        .iter()
        .zip(&dirty)
        .filter(|(_, d)| **d)
        .map(|(i, _)| with_settled_plugins(state, i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    state.store.write_results(&changed)?;
    let states: Vec<InvocationState> = invocations.iter().map(state_of).collect();
    let (status, details) = command_status(&states, max_errors, c.cancel_requested);
    let counts = CommandCounts::tally(&states);
    let active = states.iter().any(|s| !s.is_terminal());
    let unchanged = c.status == status.as_str()
        && c.status_details == details
        && c.completed_count == counts.completed_count as i64
        && c.error_count == counts.error_count as i64
        && c.delivery_timed_out_count == counts.delivery_timed_out_count as i64
        && active;
    if unchanged {
        return Ok(());
    }
    c.status = status.as_str().to_string();
    c.status_details = details.to_string();
    c.completed_count = counts.completed_count as i64;
    c.error_count = counts.error_count as i64;
    c.delivery_timed_out_count = counts.delivery_timed_out_count as i64;
    state.store.update_command_status(&c, active)?;
    if !active {
        tracing::info!(command_id = %c.command_id, status = %c.status, details = %c.status_details, "command finished");
        // An association's execution may be waiting for it.
        state.associations.command_ended();
    }
    Ok(())
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
