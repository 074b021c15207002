//! Maintenance windows: the windows (`windows.rs`), their executions (`executions.rs`; run by
//! `crate::maintenance_window_executor`), the
//! targets registered with them (`targets.rs`), their tasks (`tasks.rs`, checked by
//! `task_input.rs`), and when they run (`schedule.rs`: `DescribeMaintenanceWindowSchedule`,
//! `DescribeMaintenanceWindowsForTarget`). Stored through `bosun_store::MaintenanceWindowStore`;
//! the timing rules are `bosun_core::maintenance_window`.
//!
//! `ClientToken` (the SDKs fill one in): the store keeps each creation's token with a hash of its
//! request, so a retry gets the first creation's id and a different request with the same token
//! gets `IdempotentParameterMismatch`.

pub(crate) mod automation_task;
mod executions;
mod filters;
pub(crate) mod schedule;
mod targets;
pub(crate) mod task_input;
mod tasks;
mod windows;

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::send_command::Target;

pub use executions::{
    cancel_maintenance_window_execution, describe_maintenance_window_execution_task_invocations,
    describe_maintenance_window_execution_tasks, describe_maintenance_window_executions,
    get_maintenance_window_execution, get_maintenance_window_execution_task,
    get_maintenance_window_execution_task_invocation,
};
pub use schedule::{describe_maintenance_window_schedule, describe_maintenance_windows_for_target};
pub use targets::{
    deregister_target_from_maintenance_window, describe_maintenance_window_targets,
    register_target_with_maintenance_window, update_maintenance_window_target,
};
pub use tasks::{
    deregister_task_from_maintenance_window, describe_maintenance_window_tasks,
    get_maintenance_window_task, register_task_with_maintenance_window,
    update_maintenance_window_task,
};
pub use windows::{
    create_maintenance_window, delete_maintenance_window, describe_maintenance_windows,
    get_maintenance_window, update_maintenance_window,
};

/// AWS's quotas (Systems Manager service quotas): windows per account and region, targets and
/// tasks per window.
pub const MAX_WINDOWS: usize = 50;
pub const MAX_TARGETS_PER_WINDOW: usize = 100;
pub const MAX_TASKS_PER_WINDOW: usize = 20;

fn no_such_window(id: &str) -> ApiError {
    ApiError::new(
        "DoesNotExistException",
        format!("Maintenance window {id} does not exist"),
    )
}

fn limit_exceeded(what: &str) -> ApiError {
    ApiError::new(
        "ResourceLimitExceededException",
        format!("You have reached the maximum number of {what}."),
    )
}

fn token_mismatch() -> ApiError {
    ApiError::new(
        "IdempotentParameterMismatch",
        "The ClientToken was used before with different parameters.",
    )
}

/// A hash of a creation's request without its `ClientToken`, to tell a retry from a reuse.
fn request_hash(body: &Value) -> String {
    let mut body = body.clone();
    if let Value::Object(m) = &mut body {
        m.remove("ClientToken");
    }
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

/// `Targets` as stored (JSON) and echoed.
fn targets_json(targets: &[Target]) -> String {
    Value::Array(
        targets
            .iter()
            .map(|t| json!({"Key": t.key, "Values": t.values.clone().unwrap_or_default()}))
            .collect(),
    )
    .to_string()
}

fn targets_value(stored: &str) -> Value {
    serde_json::from_str(stored).unwrap_or_else(|_| json!([]))
}

/// Put `value` in `out` under `key` unless it is empty (AWS leaves unset members out).
fn put_str(out: &mut serde_json::Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        out.insert(key.into(), json!(value));
    }
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// A request naming one window.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WindowRef {
    window_id: Option<String>,
}
