//! What agents report about commands: acknowledgements, output, results. The node id always
//! comes from the authenticated channel; a report about another node's invocation is ignored.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_proto::{CommandResult, OutputChunk};

use super::commit::{send_acks, settle};
use super::output_waits::{after_chunk, expected_output, result_output_complete};
use super::reports::Report;
use crate::state::{now_ms, AppState};

/// The agent persisted a command: applied and stored by the result writer with the reports
/// arriving together, in order with this agent's result that may follow.
pub fn on_ack(state: &AppState, instance_id: &str, command_id: &str) -> anyhow::Result<()> {
    submit(
        state,
        Report::Ack {
            command_id: command_id.to_string(),
            instance_id: instance_id.to_string(),
        },
    )
}

/// A piece of live output: store it in the blob store at its offset. A chunk that cannot be
/// stored is dropped: the result that follows finds the gap and asks for it again, and is not
/// acknowledged before it is stored.
pub fn on_output(state: &AppState, instance_id: &str, chunk: &OutputChunk) -> anyhow::Result<()> {
    let known = &state.orchestrator.known;
    if !known.contains(&chunk.command_id, instance_id) {
        if state
            .store
            .invocation(&chunk.command_id, instance_id)?
            .is_none()
        {
            tracing::warn!(%instance_id, command_id = %chunk.command_id, "output for an unknown invocation");
            return Ok(());
        }
        known.insert(&chunk.command_id, instance_id);
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

/// A command's final result on a node: stored by the result writer (with the reports arriving
/// together), then acknowledged so the agent drops its copy — once its output is stored too
/// (see `output_waits`).
pub fn on_result(
    state: &AppState,
    instance_id: &str,
    result: &CommandResult,
) -> anyhow::Result<()> {
    // Only a known invocation's output is looked at (and written to its command's bucket).
    let known = &state.orchestrator.known;
    if !known.contains(&result.command_id, instance_id) {
        if state
            .store
            .invocation(&result.command_id, instance_id)?
            .is_none()
        {
            tracing::warn!(%instance_id, command_id = %result.command_id, "result for an unknown invocation");
            // Nothing will ever take it: the agent may drop it.
            send_acks(
                state,
                &[(instance_id.to_string(), result.command_id.clone())],
            );
            return Ok(());
        }
        known.insert(&result.command_id, instance_id);
    }
    let complete = result_output_complete(
        state,
        &result.command_id,
        instance_id,
        expected_output(result),
    );
    submit(
        state,
        Report::Result {
            instance_id: instance_id.to_string(),
            result: result.clone(),
            complete,
        },
    )
}

/// Queue a report for the result writer, or apply it here when the writer is not running.
fn submit(state: &AppState, report: Report) -> anyhow::Result<()> {
    let Some(report) = state.results.submit(report) else {
        return Ok(());
    };
    let acks = settle(state, std::slice::from_ref(&report))?;
    send_acks(state, &acks);
    state.orchestrator.kick();
    Ok(())
}
