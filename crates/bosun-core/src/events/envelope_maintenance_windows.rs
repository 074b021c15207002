//! Maintenance windows' run events in AWS's envelope (api-surface.md §5.4):
//! `Maintenance Window Execution State-change Notification` (a window execution),
//! `Maintenance Window Task Execution State-change Notification` (one task of it) and
//! `Maintenance Window Task Target Invocation State-change Notification` (one node of a task).
//! Detail keys are kebab-case, times ISO-8601 with milliseconds, statuses AWS's
//! `MaintenanceWindowExecutionStatus` spellings, and `resources` name the window
//! (`maintenancewindow/<mw-id>`) alone, as in every published example.
//!
//! **Which changes emit** ([`emits_state_change`]): entering a final status (`SUCCESS`,
//! `FAILED`, `TIMED_OUT`, `CANCELLED`, `SKIPPED_OVERLAPPING`), once, with its `end-time`
//! (source: the SSM user guide's "Amazon EventBridge event examples for Systems Manager",
//! "Maintenance Windows"); and starting ([`emits_start`]): the EventBridge reference
//! (reference-eventbridge-events) lists `IN_PROGRESS` for all three and `PENDING` for an
//! execution. A started event has no `end-time` (the run has none yet). Bosun's executions are
//! created `IN_PROGRESS` (never `PENDING`), so an execution's start is one `IN_PROGRESS` event;
//! a task's when it leaves `PENDING`; a node's invocation's when it is sent.

use serde_json::{json, Map, Value};

use super::envelope::{detail_time, envelope, Event, Origin};

/// A window execution reached a final status.
pub const WINDOW_EXECUTION_STATE_CHANGE: &str =
    "Maintenance Window Execution State-change Notification";
/// A task execution of a window execution reached a final status.
pub const WINDOW_TASK_EXECUTION_STATE_CHANGE: &str =
    "Maintenance Window Task Execution State-change Notification";
/// One node's invocation of a task execution reached a final status.
pub const WINDOW_TASK_INVOCATION_STATE_CHANGE: &str =
    "Maintenance Window Task Target Invocation State-change Notification";

/// The `MaintenanceWindowExecutionStatus` values that end an execution, task or invocation.
pub const FINAL_STATUSES: [&str; 5] = [
    "SUCCESS",
    "FAILED",
    "TIMED_OUT",
    "CANCELLED",
    "SKIPPED_OVERLAPPING",
];

/// Whether a change of status from `old` (`None`: new row) to `new` emits its event: `new` is
/// final and was not the status before (see the module doc).
pub fn emits_state_change(old: Option<&str>, new: &str) -> bool {
    old != Some(new) && FINAL_STATUSES.contains(&new)
}

/// Whether a run written with `status` on its start emits a started event.
pub fn emits_start(status: &str) -> bool {
    matches!(status, "PENDING" | "IN_PROGRESS")
}

/// The window's ARN: `arn:aws:ssm:<region>:<account>:maintenancewindow/<mw-id>`.
pub fn window_arn(region: &str, account: &str, window_id: &str) -> String {
    format!("arn:aws:ssm:{region}:{account}:maintenancewindow/{window_id}")
}

/// What every run event says: which window execution, its status and times.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    pub window_id: &'a str,
    pub window_execution_id: &'a str,
    pub status: &'a str,
    pub start_ms: i64,
    /// 0 while the run goes on: `end-time` is then left out.
    pub end_ms: i64,
}

fn common(origin: &Origin<'_>, f: &RunFacts<'_>) -> (Map<String, Value>, Vec<String>) {
    let mut detail = Map::new();
    detail.insert("start-time".into(), json!(detail_time(f.start_ms)));
    if f.end_ms > 0 {
        detail.insert("end-time".into(), json!(detail_time(f.end_ms)));
    }
    detail.insert("window-id".into(), json!(f.window_id));
    detail.insert("window-execution-id".into(), json!(f.window_execution_id));
    detail.insert("status".into(), json!(f.status));
    let resources = vec![window_arn(origin.region, origin.account, f.window_id)];
    (detail, resources)
}

/// `Maintenance Window Execution State-change Notification`.
pub fn execution_state_change(origin: Origin<'_>, f: &RunFacts<'_>) -> Event {
    let (detail, resources) = common(&origin, f);
    envelope(
        origin,
        WINDOW_EXECUTION_STATE_CHANGE,
        resources,
        Value::Object(detail),
    )
}

/// `Maintenance Window Task Execution State-change Notification`: task `task_execution_id` of
/// the execution; `f` holds the task's status and times.
pub fn task_state_change(origin: Origin<'_>, f: &RunFacts<'_>, task_execution_id: &str) -> Event {
    let (mut detail, resources) = common(&origin, f);
    detail.insert("task-execution-id".into(), json!(task_execution_id));
    envelope(
        origin,
        WINDOW_TASK_EXECUTION_STATE_CHANGE,
        resources,
        Value::Object(detail),
    )
}

/// Which invocation a `Maintenance Window Task Target Invocation State-change Notification`
/// is about.
#[derive(Debug, Clone, Copy)]
pub struct InvocationFacts<'a> {
    pub task_execution_id: &'a str,
    /// Empty when the task named its nodes itself (the key is then left out).
    pub window_target_id: &'a str,
    /// Empty when the target has none (the key is then left out).
    pub owner_information: &'a str,
}

/// `Maintenance Window Task Target Invocation State-change Notification`: `f` holds the
/// invocation's status and times.
pub fn invocation_state_change(
    origin: Origin<'_>,
    f: &RunFacts<'_>,
    inv: &InvocationFacts<'_>,
) -> Event {
    let (mut detail, resources) = common(&origin, f);
    detail.insert("task-execution-id".into(), json!(inv.task_execution_id));
    if !inv.window_target_id.is_empty() {
        detail.insert("window-target-id".into(), json!(inv.window_target_id));
    }
    if !inv.owner_information.is_empty() {
        detail.insert("owner-information".into(), json!(inv.owner_information));
    }
    envelope(
        origin,
        WINDOW_TASK_INVOCATION_STATE_CHANGE,
        resources,
        Value::Object(detail),
    )
}

#[cfg(test)]
#[path = "envelope_maintenance_windows_tests.rs"]
mod tests;
