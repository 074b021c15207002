//! Applying agents' command reports (acknowledgements and final results) to the stored
//! invocations, a batch at a time: the result writer reads every invocation and step a batch
//! names in two queries, applies the reports in arrival order (an acknowledgement and the
//! result after it compose), and writes one row per report that changed something, so each
//! status change still writes its event.

use std::collections::HashMap;

use bosun_core::command::{roll_up_final, InvocationEvent, PluginOutcome};
use bosun_proto::command::{NotRunReason, StepStatus};
use bosun_proto::CommandResult;
use bosun_store::{InvocationRecord, PluginRecord};

use super::{apply, settle_plugins, state_of};

/// One agent report waiting to be applied. The node id always comes from the authenticated
/// channel the report arrived on.
#[derive(Debug, Clone)]
pub enum Report {
    /// The agent persisted the command.
    Ack {
        command_id: String,
        instance_id: String,
    },
    /// The agent's final result; `complete` when its output is all stored, so the agent may
    /// be told to drop it once the result is written (otherwise `output_waits` does that).
    Result {
        instance_id: String,
        result: CommandResult,
        complete: bool,
    },
}

impl Report {
    /// The (command, node) pair the report is about.
    pub fn pair(&self) -> (String, String) {
        match self {
            Report::Ack {
                command_id,
                instance_id,
            } => (command_id.clone(), instance_id.clone()),
            Report::Result {
                instance_id,
                result,
                ..
            } => (result.command_id.clone(), instance_id.clone()),
        }
    }
}

/// (node, command) results to acknowledge to their agents.
pub type ResultAcks = Vec<(String, String)>;

/// What a batch of reports comes to: the rows to write, in order, and the (node, command)
/// results to acknowledge once they are written.
#[derive(Debug, Default)]
pub struct Applied {
    pub rows: Vec<(InvocationRecord, Vec<PluginRecord>)>,
    pub acks: ResultAcks,
}

/// Apply `reports` in order to the stored `invocations` and their `plugins` (by pair).
pub fn apply_reports(
    reports: &[Report],
    invocations: Vec<InvocationRecord>,
    plugins: Vec<PluginRecord>,
) -> Applied {
    let mut current: HashMap<(String, String), InvocationRecord> = invocations
        .into_iter()
        .map(|i| ((i.command_id.clone(), i.instance_id.clone()), i))
        .collect();
    let mut steps: HashMap<(String, String), Vec<PluginRecord>> = HashMap::new();
    for p in plugins {
        steps
            .entry((p.command_id.clone(), p.instance_id.clone()))
            .or_default()
            .push(p);
    }
    let mut out = Applied::default();
    for report in reports {
        let pair = report.pair();
        let Some(i) = current.get_mut(&pair) else {
            tracing::warn!(instance_id = %pair.1, command_id = %pair.0, "report for an unknown invocation");
            if matches!(report, Report::Result { .. }) {
                // Nothing will ever take it: the agent may drop it.
                out.acks.push((pair.1, pair.0));
            }
            continue;
        };
        match report {
            Report::Ack { .. } => {
                if state_of(i).is_terminal() {
                    continue;
                }
                i.acked = true;
                apply(i, InvocationEvent::Acknowledged);
                out.rows.push((i.clone(), Vec::new()));
            }
            Report::Result {
                result, complete, ..
            } => {
                if !state_of(i).is_terminal() {
                    let plugins = steps.entry(pair.clone()).or_default();
                    apply_result(i, plugins, result);
                    out.rows.push((i.clone(), plugins.clone()));
                }
                // A result sent again is acknowledged once its output is complete, as a new one.
                if *complete {
                    out.acks.push((pair.1, pair.0));
                }
            }
        }
    }
    out
}

/// A command's final result on a node, applied to its invocation and steps.
fn apply_result(i: &mut InvocationRecord, plugins: &mut [PluginRecord], result: &CommandResult) {
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
    apply(i, event);
    // Not run at all (cancelled or expired before it started): the steps end with it.
    settle_plugins(i, plugins);
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
}
