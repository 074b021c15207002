//! Executions of maintenance windows: one window execution per (window, slot), the task
//! executions it plans when it starts (one per registered task, a snapshot of the task), and
//! the invocations of each started task (one per node, with the Run Command command that ran
//! it).
//!
//! Exactly once, also across restarts and replicas, by keys and compare-and-set, never by
//! process memory:
//! - a slot fires once: (region, window, slot) is unique and the execution is inserted with
//!   its planned tasks in one transaction ([`MaintenanceWindowRunStore::fire_window_slot`]);
//! - a task starts once: its row moves from `PENDING` only once, together with the insert of
//!   its invocations ([`MaintenanceWindowRunStore::start_window_task`]);
//! - a node is sent the task once: the invocation moves from phase `Waiting` only once, in the
//!   same transaction that creates its command
//!   ([`MaintenanceWindowRunStore::send_task_invocation`]);
//! - every later change of an invocation names the phase it expects.
//!
//! Statuses are AWS's `MaintenanceWindowExecutionStatus` spellings; times are epoch
//! milliseconds, 0 when not yet known.

use crate::{NewCommand, Result};

/// Window execution statuses that are not final.
pub const LIVE_WINDOW_STATUSES: [&str; 3] = ["PENDING", "IN_PROGRESS", "CANCELLING"];

/// One execution of a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowExecutionRecord {
    pub region: String,
    pub window_id: String,
    /// A UUID.
    pub window_execution_id: String,
    /// The schedule slot it stands for (unique per window).
    pub slot_ms: i64,
    pub status: String,
    pub status_details: String,
    pub start_ms: i64,
    /// 0 while live.
    pub end_ms: i64,
    /// `CancelMaintenanceWindowExecution` was called.
    pub cancel_requested: bool,
    /// The window's `Duration` and `Cutoff` when it started.
    pub duration_hours: i64,
    pub cutoff_hours: i64,
}

/// One task of a window execution: planned `PENDING` when the execution starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskExecutionRecord {
    pub region: String,
    pub window_execution_id: String,
    /// A UUID.
    pub task_execution_id: String,
    pub window_task_id: String,
    pub task_arn: String,
    pub task_type: String,
    pub priority: i64,
    pub max_concurrency: String,
    pub max_errors: String,
    pub cutoff_behavior: String,
    /// The registered task's `Targets` and `TaskInvocationParameters`, as JSON, when planned.
    pub task_json: String,
    pub status: String,
    pub status_details: String,
    /// Why the window stopped it: `""`, `Cutoff`, `WindowEnded` or `Cancelled`.
    pub stopping: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// One invocation (one node) of a started task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInvocationRecord {
    pub region: String,
    pub window_execution_id: String,
    pub task_execution_id: String,
    /// A UUID.
    pub invocation_id: String,
    /// Its position in the task (the order nodes were resolved).
    pub seq: i64,
    pub node_id: String,
    /// Empty when the task named its nodes itself.
    pub window_target_id: String,
    /// The position of its window target in the task's `Targets`.
    pub target_order: i64,
    /// How the node was targeted (`InstanceId`, `Tag`, `ResourceGroup`).
    pub via: String,
    /// The Run Command command id once sent (AWS's `ExecutionId`).
    pub execution_id: String,
    /// The parameters sent, as JSON, once sent.
    pub parameters: String,
    pub owner_information: String,
    /// `Waiting`, `Running`, `Cancelling` (cancel sent) or `Ended`.
    pub phase: String,
    /// How it ended (JSON of the core outcome), empty while not ended.
    pub outcome: String,
    pub status: String,
    pub status_details: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// What firing a slot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotFired {
    /// The execution and its planned tasks are stored.
    Started,
    /// Another execution of the window is live: the slot is recorded `SKIPPED_OVERLAPPING`.
    Skipped,
    /// The slot already fired (another replica, an earlier start).
    SlotTaken,
}

/// Executions of maintenance windows.
pub trait MaintenanceWindowRunStore {
    /// Fire a slot: in one transaction, unless (region, window, slot) already has an
    /// execution or the window no longer exists (`SlotTaken`), store `run` with `tasks` when the window has no live execution
    /// (`Started`), else `skipped` alone (`Skipped`). `run` and `skipped` share the key.
    fn fire_window_slot(
        &self,
        run: &WindowExecutionRecord,
        tasks: &[TaskExecutionRecord],
        skipped: &WindowExecutionRecord,
    ) -> Result<SlotFired>;

    /// The latest fired slot of each window of `region` that has one.
    fn latest_window_slots(&self, region: &str) -> Result<Vec<(String, i64)>>;

    /// Every live window execution (any region), oldest first.
    fn open_window_executions(&self) -> Result<Vec<WindowExecutionRecord>>;

    fn get_window_execution(
        &self,
        region: &str,
        window_execution_id: &str,
    ) -> Result<Option<WindowExecutionRecord>>;

    /// The executions of a window, newest first.
    fn window_executions(
        &self,
        region: &str,
        window_id: &str,
    ) -> Result<Vec<WindowExecutionRecord>>;

    /// Write a live execution's status, details and end; `false` (nothing written) when it
    /// already ended. `cancel_requested` is not written.
    fn update_window_execution(&self, e: &WindowExecutionRecord) -> Result<bool>;

    /// Delete the executions that ended before `before_ms`, with their task executions and
    /// invocations (the history's retention), except each window's execution of its latest
    /// slot: that one anchors the window's next slot (`latest_window_slots`), and without it an
    /// `at(…)` window would fire its one slot again. Live executions are never deleted. How
    /// many executions went.
    fn prune_window_executions(&self, before_ms: i64) -> Result<u64>;

    /// Ask a live execution to cancel; `false` when it does not exist or already ended.
    fn cancel_window_execution(&self, region: &str, window_execution_id: &str) -> Result<bool>;

    /// The task executions of a window execution, by priority then window task id.
    fn task_executions(
        &self,
        region: &str,
        window_execution_id: &str,
    ) -> Result<Vec<TaskExecutionRecord>>;

    /// Start a planned task: write `t` (its new status, details, times) and insert its
    /// invocations, only while its stored status is `PENDING`; `false` otherwise.
    fn start_window_task(
        &self,
        t: &TaskExecutionRecord,
        invocations: &[TaskInvocationRecord],
    ) -> Result<bool>;

    /// Write a task execution's status, details, stopping cause and times, only while its
    /// stored status is not final; `false` otherwise.
    fn update_window_task(&self, t: &TaskExecutionRecord) -> Result<bool>;

    /// The invocations of a task execution, by `seq`.
    fn task_invocations(
        &self,
        region: &str,
        window_execution_id: &str,
        task_execution_id: &str,
    ) -> Result<Vec<TaskInvocationRecord>>;

    /// Send an invocation: write `inv` (phase `Running`, its command id, parameters and start)
    /// and create `command`, in one transaction, only while its stored phase is `Waiting`;
    /// `false` (nothing stored) otherwise.
    fn send_task_invocation(
        &self,
        inv: &TaskInvocationRecord,
        command: NewCommand<'_>,
    ) -> Result<bool>;

    /// Write an invocation's phase, outcome, status, details and times, only while its stored
    /// phase is `expected_phase`; `false` otherwise.
    fn update_task_invocation(
        &self,
        inv: &TaskInvocationRecord,
        expected_phase: &str,
    ) -> Result<bool>;
}
