//! Maintenance windows (definitions only): a window per row, the targets registered with it and
//! the tasks registered with it. Executions are not stored here yet.
//!
//! A window's tags are `TagStore` rows of resource type [`WINDOW_TAG_TYPE`] (id = the window's
//! id), written with the creation and removed with the deletion, as are its targets and tasks.
//!
//! Creations carry the request's `ClientToken` (empty when none) and a hash of the request:
//! a creation whose token a window (or a target or task of the same window) already holds is
//! answered with that resource when the hashes are equal, and refused otherwise; the check and
//! the insert are one transaction, serialised with other creations of the same scope.

use crate::Result;

/// The resource type under which a window's tags are kept in the tags area.
pub const WINDOW_TAG_TYPE: &str = "MaintenanceWindow";

/// One maintenance window. Optional strings are empty when not set, optional numbers 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    pub region: String,
    /// `mw-` + 17 hex digits.
    pub window_id: String,
    pub name: String,
    pub description: String,
    /// The expression as given (`cron(…)`, `rate(…)`, `at(…)`).
    pub schedule: String,
    /// IANA name; empty: UTC.
    pub schedule_timezone: String,
    /// `ScheduleOffset` in days; 0 when none.
    pub schedule_offset: i64,
    /// ISO-8601 text as given; empty when none.
    pub start_date: String,
    pub end_date: String,
    pub duration_hours: i64,
    pub cutoff_hours: i64,
    pub allow_unassociated_targets: bool,
    pub enabled: bool,
    /// Empty when the request had none.
    pub client_token: String,
    /// A hash of the creating request (without its token), to tell a retry from a reuse.
    pub request_hash: String,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// One target registered with a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowTargetRecord {
    pub region: String,
    pub window_id: String,
    /// A UUID.
    pub window_target_id: String,
    /// `INSTANCE` or `RESOURCE_GROUP`.
    pub resource_type: String,
    /// The `Targets` list as JSON (`[{"Key":…,"Values":[…]}]`).
    pub targets_json: String,
    pub owner_information: String,
    pub name: String,
    pub description: String,
    pub client_token: String,
    pub request_hash: String,
    pub created_ms: i64,
}

/// One task registered with a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowTaskRecord {
    pub region: String,
    pub window_id: String,
    /// A UUID.
    pub window_task_id: String,
    /// The document's name for `RUN_COMMAND`.
    pub task_arn: String,
    pub task_type: String,
    /// The `Targets` list as JSON; `[]` when none.
    pub targets_json: String,
    pub service_role_arn: String,
    /// The deprecated `TaskParameters` map as JSON; `{}` when none.
    pub task_parameters_json: String,
    /// `TaskInvocationParameters` as JSON; `{}` when none.
    pub invocation_parameters_json: String,
    pub priority: i64,
    pub max_concurrency: String,
    pub max_errors: String,
    pub name: String,
    pub description: String,
    /// `CONTINUE_TASK` or `CANCEL_TASK`.
    pub cutoff_behavior: String,
    pub client_token: String,
    pub request_hash: String,
    pub created_ms: i64,
    /// The user who registered (or last updated) the task: an `AUTOMATION` task's runbook runs
    /// as them, with their permissions at the time it runs.
    pub registered_by: String,
}

impl WindowTaskRecord {
    /// The window target ids this task's `WindowTargetIds` targets name.
    pub fn window_target_ids(&self) -> Vec<String> {
        window_target_ids(&self.targets_json)
    }
}

/// The values of every `WindowTargetIds` entry of a `Targets` JSON list.
pub fn window_target_ids(targets_json: &str) -> Vec<String> {
    let Ok(serde_json::Value::Array(list)) = serde_json::from_str(targets_json) else {
        return Vec::new();
    };
    list.iter()
        .filter(|t| t.get("Key").and_then(|k| k.as_str()) == Some("WindowTargetIds"))
        .filter_map(|t| t.get("Values").and_then(|v| v.as_array()))
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// What a creation (window, target or task) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// Stored as given.
    Created,
    /// The token belongs to an earlier, identical request: the id it created.
    Replayed(String),
    /// The token belongs to an earlier, different request.
    TokenMismatch,
    /// The window does not exist (targets and tasks).
    NoSuchWindow,
    /// A `WindowTargetIds` value names no target of the window (tasks).
    NoSuchTarget(String),
}

/// What a change of a target or task did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Done,
    /// The window, or the target or task in it, does not exist.
    NotFound,
    /// A `WindowTargetIds` value names no target of the window (tasks).
    NoSuchTarget(String),
    /// `Safe` deregistration of a target that these tasks name.
    InUse(Vec<String>),
}

/// Windows, their targets and tasks.
pub trait MaintenanceWindowStore {
    /// Store a new window with its tags, unless its client token is taken (see the module).
    /// `LimitExceeded` when the region already has `max_windows`; serialised with the region's
    /// other creations, so concurrent creations never exceed it and one token creates once.
    fn create_window(
        &self,
        w: &WindowRecord,
        tags: &[(String, String)],
        max_windows: usize,
    ) -> Result<Registered>;

    fn get_window(&self, region: &str, window_id: &str) -> Result<Option<WindowRecord>>;

    /// Every window of a region, by id.
    fn list_windows(&self, region: &str) -> Result<Vec<WindowRecord>>;

    /// Replace a window's definition (id, region, token, hash and creation time are kept);
    /// `false` when it does not exist.
    fn update_window(&self, w: &WindowRecord) -> Result<bool>;

    /// Delete a window with its targets, tasks and tags, atomically; `false` when none.
    fn delete_window(&self, region: &str, window_id: &str) -> Result<bool>;

    /// Register a target, unless its token is taken in the window. `LimitExceeded` when the
    /// window has `max_targets`; serialised per window (the window's row is locked).
    fn register_target(&self, t: &WindowTargetRecord, max_targets: usize) -> Result<Registered>;

    /// The targets of a window, by id.
    fn list_targets(&self, region: &str, window_id: &str) -> Result<Vec<WindowTargetRecord>>;

    /// Every window target of a region, by window then id.
    fn list_region_targets(&self, region: &str) -> Result<Vec<WindowTargetRecord>>;

    /// Replace a target's definition (its ids, resource type, token, hash and creation time are
    /// kept).
    fn update_target(&self, t: &WindowTargetRecord) -> Result<Changed>;

    /// Remove a target. With `safe`, refuse (`InUse` with the task ids) when a task of the
    /// window names it, checked in the same transaction as the removal and serialised with
    /// task registrations and updates of the window.
    fn deregister_target(
        &self,
        region: &str,
        window_id: &str,
        window_target_id: &str,
        safe: bool,
    ) -> Result<Changed>;

    /// Register a task, unless its token is taken in the window; every target id the task
    /// names must be a target of the window. `LimitExceeded` when the window has `max_tasks`.
    fn register_task(&self, t: &WindowTaskRecord, max_tasks: usize) -> Result<Registered>;

    fn get_task(
        &self,
        region: &str,
        window_id: &str,
        window_task_id: &str,
    ) -> Result<Option<WindowTaskRecord>>;

    /// The tasks of a window, by id.
    fn list_tasks(&self, region: &str, window_id: &str) -> Result<Vec<WindowTaskRecord>>;

    /// Every window task of a region, by window then id.
    fn list_region_tasks(&self, region: &str) -> Result<Vec<WindowTaskRecord>>;

    /// Replace a task's definition (ids, type, token, hash and creation time kept); the target
    /// ids it names must be targets of the window.
    fn update_task(&self, t: &WindowTaskRecord) -> Result<Changed>;

    /// Remove a task; `false` when none.
    fn deregister_task(&self, region: &str, window_id: &str, window_task_id: &str) -> Result<bool>;
}
