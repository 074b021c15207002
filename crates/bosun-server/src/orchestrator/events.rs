//! What agents report about commands: acknowledgements, output, results. The node id always
//! comes from the authenticated channel; a report about another node's invocation is ignored.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_core::command::{roll_up_final, InvocationEvent, PluginOutcome};
use bosun_proto::command::{NotRunReason, StepStatus};
use bosun_proto::{CommandResult, OutputChunk, ServerMessage};

use super::commit::PendingResult;
use super::output_waits::{after_chunk, expected_output, result_output_complete};
use super::{apply, settle_plugins, state_of};
use crate::state::{now_ms, AppState};

/// The agent persisted a command.
pub fn on_ack(state: &AppState, instance_id: &str, command_id: &str) -> anyhow::Result<()> {
    let Some(mut i) = state.store.invocation(command_id, instance_id)? else {
        tracing::warn!(%instance_id, %command_id, "ack for an unknown invocation");
        return Ok(());
    };
    if state_of(&i).is_terminal() {
        return Ok(());
    }
    i.acked = true;
    apply(&mut i, InvocationEvent::Acknowledged);
    // Through the group-commit writer, in order with this agent's result that may follow.
    if let Some(r) = state.results.submit(PendingResult {
        invocation: i,
        plugins: Vec::new(),
        result_ack: false,
    }) {
        state.store.update_invocation(&r.invocation)?;
        state.orchestrator.kick();
    }
    Ok(())
}

/// A piece of live output: store it in the blob store at its offset. A chunk that cannot be
/// stored is dropped: the result that follows finds the gap and asks for it again, and is not
/// acknowledged before it is stored.
pub fn on_output(state: &AppState, instance_id: &str, chunk: &OutputChunk) -> anyhow::Result<()> {
    if state
        .store
        .invocation(&chunk.command_id, instance_id)?
        .is_none()
    {
        tracing::warn!(%instance_id, command_id = %chunk.command_id, "output for an unknown invocation");
        return Ok(());
    }
    let data = B64.decode(&chunk.data)?;
    state.blobs.write_chunk(
        &chunk.command_id,
        instance_id,
        &chunk.step,
        chunk.stream,
        chunk.offset,
        &data,
    )?;
    after_chunk(
        state,
        &chunk.command_id,
        instance_id,
        &chunk.step,
        chunk.stream,
        chunk.offset + data.len() as u64,
    );
    state.feed.publish(
        &chunk.command_id,
        instance_id,
        chunk.stream,
        chunk.offset,
        &data,
    );
    if state.feed.watched_elsewhere(&chunk.command_id, now_ms()) {
        state.doorbell.live(
            &chunk.command_id,
            instance_id,
            chunk.stream,
            chunk.offset,
            &data,
        );
    }
    Ok(())
}

/// A command's final result on a node: store it, then acknowledge so the agent drops its copy
/// — once its output is stored too (see `output_waits`).
pub fn on_result(
    state: &AppState,
    instance_id: &str,
    result: &CommandResult,
) -> anyhow::Result<()> {
    let ack = || {
        state.hub.send(
            instance_id,
            ServerMessage::ResultAck {
                command_id: result.command_id.clone(),
            },
        );
    };
    let Some(mut i) = state.store.invocation(&result.command_id, instance_id)? else {
        tracing::warn!(%instance_id, command_id = %result.command_id, "result for an unknown invocation");
        ack();
        return Ok(());
    };
    if state_of(&i).is_terminal() {
        // A result sent again: acknowledge it once its output is complete.
        if result_output_complete(
            state,
            &result.command_id,
            instance_id,
            expected_output(result),
        ) {
            ack();
        }
        return Ok(());
    }
    let mut plugins = state.store.plugins(&result.command_id, instance_id)?;
    let event = match result.not_run {
        Some(NotRunReason::DeliveryTimedOut) => InvocationEvent::DeliveryDeadlinePassed,
        Some(NotRunReason::Cancelled) => InvocationEvent::CancelConfirmed,
        None => {
            let mut outcomes = Vec::new();
            // A result is the agent's final report: a step it did not run never will (see
            // `PluginOutcome::in_final_report`), so the invocation always ends.
            for p in plugins.iter_mut() {
                let Some(step) = result.steps.iter().find(|s| s.name == p.name) else {
                    let o = PluginOutcome::NotStarted.in_final_report();
                    outcomes.push(o);
                    p.status = o.status().as_str().to_string();
                    p.status_details = o.details().to_string();
                    p.detail = "the agent's final report did not include this step".into();
                    continue;
                };
                let o = step.status.outcome().in_final_report();
                outcomes.push(o);
                p.status = o.status().as_str().to_string();
                p.status_details = o.details().to_string();
                p.response_code = i64::from(step.response_code);
                p.start_ms = step.start_ms;
                p.end_ms = step.end_ms;
                p.stdout = step.stdout.clone();
                // Like the AWS agent, the agent's own explanation ends the step's stderr, except
                // for a skipped step, whose output already says why (AWS shows no error there).
                p.stderr = match &step.detail {
                    Some(d)
                        if !matches!(step.status, StepStatus::Success | StepStatus::Skipped) =>
                    {
                        let sep = if step.stderr.is_empty() || step.stderr.ends_with('\n') {
                            ""
                        } else {
                            "\n"
                        };
                        format!("{}{sep}bosun-agent: {d}\n", step.stderr)
                    }
                    _ => step.stderr.clone(),
                };
                p.stdout_bytes = step.stdout_bytes as i64;
                p.stderr_bytes = step.stderr_bytes as i64;
                p.detail = step.detail.clone().unwrap_or_default();
            }
            InvocationEvent::Finished(roll_up_final(&outcomes))
        }
    };
    apply(&mut i, event);
    // Not run at all (cancelled or expired before it started): the steps end with it.
    settle_plugins(&i, &mut plugins);
    let first = result.steps.first();
    i.response_code = result
        .steps
        .iter()
        .find(|s| s.response_code != 0)
        .or(first)
        .map(|s| i64::from(s.response_code))
        .unwrap_or(-1);
    i.start_ms = result.steps.iter().filter_map(|s| s.start_ms).min();
    i.end_ms = result.steps.iter().filter_map(|s| s.end_ms).max();
    let complete = result_output_complete(
        state,
        &result.command_id,
        instance_id,
        expected_output(result),
    );
    // Stored (with the others arriving now) and then acknowledged by the result writer, when
    // the output is complete; otherwise by `output_waits` once it is.
    if let Some(r) = state.results.submit(PendingResult {
        invocation: i,
        plugins,
        result_ack: complete,
    }) {
        state
            .store
            .update_invocation_with_plugins(&r.invocation, &r.plugins)?;
        if complete {
            ack();
        }
        state.orchestrator.kick();
    }
    Ok(())
}
