//! The two halves of a pass over one command when several replicas serve one database: the
//! owner's (`advance`: rate controls, deadlines, aggregate status; every write fenced by the
//! owner's lease epoch) and every replica's (`deliver`: sending to the nodes connected to it).

use std::collections::HashSet;

use bosun_core::command::{
    command_status, plan, CommandCounts, DispatchCounts, InvocationEvent, InvocationState,
    MaxConcurrency, MaxErrors,
};
use bosun_proto::{CommandDelivery, ServerMessage};
use bosun_store::{CommandLease, CommandRecord, DeliveryMark, InvocationRecord};

use super::release_choice::ReleaseChooser;
use super::{apply, delivery, state_of, with_settled_plugins, RESEND_AFTER_MS};
use crate::replicas::Presence;
use crate::state::AppState;

/// The owner's part of a pass, written only while `lease` holds (`false`: it no longer does,
/// and nothing was written): applies the delivery deadline, ends invocations of deregistered
/// nodes, starts as many `Pending` invocations as the rate controls allow (or terminates the
/// unsent ones past MaxErrors), and stores the aggregate status.
///
/// A started invocation is `InProgress` when its node is connected to a live replica (which
/// sends it, [`deliver`]), else `Delayed`; either way `dispatched_ms` 0 makes it due at once.
///
/// `invocations` are the command's live ones; `ended` the states of the others.
pub(super) fn advance(
    state: &AppState,
    c: &mut CommandRecord,
    lease: &CommandLease,
    invocations: &mut [InvocationRecord],
    ended: &[InvocationState],
    presence: &mut Option<Presence>,
    now: i64,
) -> anyhow::Result<bool> {
    let mut dirty = vec![false; invocations.len()];
    // Running invocations ended at the deadline on nodes connected elsewhere: their replicas
    // are told to stop them once the end is written.
    let mut cancel_elsewhere = Vec::new();
    // The nodes of the invocations still waiting to start, in one read: those not among them
    // (or deregistered) can never be reached.
    let waiting: Vec<String> = invocations
        .iter()
        .filter(|i| {
            matches!(
                state_of(i),
                InvocationState::Pending | InvocationState::Delayed
            )
        })
        .map(|i| i.instance_id.clone())
        .collect();
    let reachable: HashSet<String> = state
        .store
        .instances_by_ids(&waiting)?
        .into_iter()
        .filter(|node| !node.deregistered)
        .map(|node| node.instance_id)
        .collect();
    for (n, i) in invocations.iter_mut().enumerate() {
        if state_of(i).is_terminal() {
            continue;
        }
        if now >= c.expires_ms {
            // ExpiresAfter passed without a terminal answer: a running step is stopped, through
            // this replica's channel or the one holding the node's (best effort either way).
            if state_of(i) == InvocationState::InProgress && i.acked {
                let sent = state.hub.send(
                    &i.instance_id,
                    ServerMessage::CancelCommand {
                        command_id: c.command_id.clone(),
                    },
                );
                if !sent {
                    cancel_elsewhere.push(i.instance_id.clone());
                }
            }
            dirty[n] = apply(i, InvocationEvent::DeliveryDeadlinePassed);
            continue;
        }
        if matches!(
            state_of(i),
            InvocationState::Pending | InvocationState::Delayed
        ) && !reachable.contains(&i.instance_id)
        {
            // The node was deregistered after the command was sent: it can never be reached.
            dirty[n] = apply(i, InvocationEvent::Undeliverable);
        }
    }
    let targets = invocations.len() + ended.len();
    let states: Vec<InvocationState> = invocations
        .iter()
        .map(state_of)
        .chain(ended.iter().copied())
        .collect();
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
            if presence.is_none() {
                *presence = Some(Presence::load(&*state.store, now)?);
            }
            let online = state.hub.is_connected(&i.instance_id)
                || presence
                    .as_ref()
                    .is_some_and(|p| p.heard(&i.instance_id).is_some());
            let event = if online {
                InvocationEvent::Sent
            } else {
                InvocationEvent::DeliveryFailed
            };
            apply(i, event);
            // Attempted: it counts against MaxConcurrency, and is due for delivery now.
            i.dispatched_ms = Some(0);
            dirty[n] = true;
        }
    }
    let changed = invocations
        .iter()
        .zip(&dirty)
        .filter(|(_, d)| **d)
        .map(|(i, _)| with_settled_plugins(state, i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !changed.is_empty() {
        if !state.store.write_owned_results(lease, &changed)? {
            return Ok(false);
        }
        if !cancel_elsewhere.is_empty() {
            state.doorbell.cancel(&c.command_id, &cancel_elsewhere);
        }
        // Started or ended invocations: the replicas their nodes are connected to deliver now.
        state.orchestrator.ring_others();
    }
    let states: Vec<InvocationState> = invocations
        .iter()
        .map(state_of)
        .chain(ended.iter().copied())
        .collect();
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
        return Ok(true);
    }
    c.status = status.as_str().to_string();
    c.status_details = details.to_string();
    c.completed_count = counts.completed_count as i64;
    c.error_count = counts.error_count as i64;
    c.delivery_timed_out_count = counts.delivery_timed_out_count as i64;
    if !state.store.update_owned_command_status(lease, c, active)? {
        return Ok(false);
    }
    if !active {
        tracing::info!(command_id = %c.command_id, status = %c.status, details = %c.status_details, "command finished");
        // An association's execution or a maintenance window's task may be waiting for it.
        state.associations.command_ended();
        state.windows.command_ended();
    }
    Ok(true)
}

/// Every replica's part of a pass: send what is due to the nodes connected here: started
/// invocations not yet acknowledged (again every [`RESEND_AFTER_MS`]), `Delayed` ones, cancels.
/// Each send is first marked in the store by a compare-and-set on the invocation's status and
/// `dispatched_ms`, so of two replicas (a node that just moved) one sends; a send lost after
/// its mark goes out again when due, and agents de-duplicate.
pub(super) fn deliver(
    state: &AppState,
    c: &CommandRecord,
    invocations: &[InvocationRecord],
    now: i64,
) -> anyhow::Result<()> {
    if now >= c.expires_ms {
        return Ok(());
    }
    let (mut marks, mut cancels) = (Vec::new(), Vec::new());
    for i in invocations {
        let current = state_of(i);
        if current.is_terminal() || !state.hub.is_connected(&i.instance_id) {
            continue;
        }
        let due = i.dispatched_ms.is_none_or(|d| now - d >= RESEND_AFTER_MS);
        let wanted = match current {
            InvocationState::Delayed => true,
            InvocationState::Cancelling => due,
            InvocationState::InProgress => !i.acked && due,
            _ => false,
        };
        if !wanted {
            continue;
        }
        let mut sent = i.clone();
        if current == InvocationState::Delayed {
            apply(&mut sent, InvocationEvent::Sent);
        }
        cancels.push(current == InvocationState::Cancelling);
        marks.push(DeliveryMark {
            command_id: i.command_id.clone(),
            instance_id: i.instance_id.clone(),
            from_status: i.status.clone(),
            from_dispatched_ms: i.dispatched_ms,
            status: sent.status,
            status_details: sent.status_details,
            dispatched_ms: now,
        });
    }
    if marks.is_empty() {
        return Ok(());
    }
    let written = state.store.mark_deliveries(&marks)?;
    let mut run: Option<(CommandDelivery, Option<ReleaseChooser>)> = None;
    for ((m, won), cancel) in marks.iter().zip(written).zip(cancels) {
        if !won {
            continue;
        }
        // Its output and result will not need to read it to know it exists.
        state
            .orchestrator
            .known
            .insert(&m.command_id, &m.instance_id);
        let message = if cancel {
            ServerMessage::CancelCommand {
                command_id: c.command_id.clone(),
            }
        } else {
            if run.is_none() {
                let base = delivery(state, c)?;
                let chooser = ReleaseChooser::load(state, &c.region, &base)?;
                run = Some((base, chooser));
            }
            let (base, chooser) = run.as_ref().expect("built above");
            let mine = match chooser {
                Some(chooser) => chooser.for_node(state, &c.region, &m.instance_id, base),
                None => Ok(base.clone()),
            };
            match mine {
                Ok(d) => ServerMessage::RunCommand(d),
                Err(e) => {
                    // Marked sent but not sent: it goes out again when the re-send is due.
                    tracing::error!(error = %e, command_id = %c.command_id,
                        instance_id = %m.instance_id, "choosing a node's agent release failed");
                    continue;
                }
            }
        };
        state.hub.send(&m.instance_id, message);
    }
    Ok(())
}
