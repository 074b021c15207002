//! Planning a window execution: which tasks start, are skipped or are stopped now, and which
//! invocations of a running task are sent, reported as not run, or cancelled.
//!
//! Facts (user guide "Maintenance Windows", API reference `RegisterTaskWithMaintenanceWindow`,
//! `CreateMaintenanceWindow`):
//! - Tasks run by `Priority`, lower first; tasks of equal priority run in parallel; the next
//!   priority starts once every task of the previous one ended.
//! - `Cutoff`: no new task starts in the last `Cutoff` hours of the window's `Duration`.
//! - `CutoffBehavior`: `CONTINUE_TASK` (default) lets running tasks go on; `CANCEL_TASK` makes
//!   Systems Manager send `CancelCommand` for a Run Command task, whose unfinished part is
//!   `TIMED_OUT`.
//! - A task with several window targets runs their invocations one target after the other.
//! - Console guide ("Assign tasks to a maintenance window"): without `CANCEL_TASK` "the task
//!   continues running when the cutoff time is reached and starts new task invocations until
//!   completion"; the scheduling reference: running tasks are not stopped at the window's end.
//!   So Bosun stops a running task only for `CANCEL_TASK` (at the cutoff, or at the end if the
//!   executor first looks after it) or a cancel; a `CONTINUE_TASK` task runs to completion, its
//!   own Run Command timeouts bounding it.
//!
//! Bosun's choice where AWS says nothing: a task not started before the cutoff is recorded as
//! a task execution with status `TIMED_OUT` (the status AWS gives unfinished tasks at the
//! cutoff), so the operator sees which tasks never ran.

use serde::{Deserialize, Serialize};

use super::targets::{dispatch_check, InvocationOutcome, NodeState, NotRunReason, StopCause};
use crate::command::{MaxConcurrency, MaxErrors};

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;

/// A window execution's clock: when it started and the window's `Duration` and `Cutoff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowTimes {
    pub start_ms: i64,
    /// `Duration`, 1..=24 hours.
    pub duration_hours: u8,
    /// `Cutoff`, 0..=23 hours, less than `Duration`.
    pub cutoff_hours: u8,
}

impl WindowTimes {
    /// When the window closes.
    pub fn end_ms(self) -> i64 {
        self.start_ms + i64::from(self.duration_hours) * HOUR_MS
    }

    /// From when no new task starts.
    pub fn cutoff_ms(self) -> i64 {
        self.end_ms() - i64::from(self.cutoff_hours) * HOUR_MS
    }

    /// What the clock stops, if anything, at `now_ms`: new tasks from the cutoff on, and
    /// `CANCEL_TASK` tasks (`WindowEnded` when first seen after the end).
    pub fn stop_at(self, now_ms: i64) -> Option<StopCause> {
        if now_ms >= self.end_ms() {
            Some(StopCause::WindowEnded)
        } else if now_ms >= self.cutoff_ms() {
            Some(StopCause::Cutoff)
        } else {
            None
        }
    }
}

/// `MaintenanceWindowTaskCutoffBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CutoffBehavior {
    #[default]
    ContinueTask,
    CancelTask,
}

impl CutoffBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContinueTask => "CONTINUE_TASK",
            Self::CancelTask => "CANCEL_TASK",
        }
    }

    pub fn from_wire(s: &str) -> Option<Self> {
        [Self::ContinueTask, Self::CancelTask]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Where one registered task stands in a window execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskPhase {
    NotStarted,
    /// Started; `stopping` once the window stopped it (set by the executor on `StopTask`).
    Running {
        stopping: Option<StopCause>,
    },
    Ended,
}

/// One registered task of the window, as the planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRun {
    pub window_task_id: String,
    pub priority: u32,
    pub cutoff_behavior: CutoffBehavior,
    pub phase: TaskPhase,
}

/// A window execution in progress.
#[derive(Debug, Clone, Copy)]
pub struct WindowRun<'a> {
    pub times: WindowTimes,
    /// `CancelMaintenanceWindowExecution` was called.
    pub cancel_requested: bool,
    pub tasks: &'a [TaskRun],
}

/// What the executor must do for a task now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Resolve the task's targets now, record its execution (`IN_PROGRESS`) with one
    /// invocation per node, and drive it with [`next_invocation_actions`]. No target resolved:
    /// the task ends at once (`rollup::task_status` says `FAILED`).
    StartTask { window_task_id: String },
    /// Record the task's execution as never started (`rollup::task_not_started`).
    SkipTask {
        window_task_id: String,
        cause: StopCause,
    },
    /// Stop a running task: mark it `Running { stopping: Some(cause) }`, then
    /// [`next_invocation_actions`] cancels what runs and reports what waits as not run.
    StopTask {
        window_task_id: String,
        cause: StopCause,
    },
}

/// The task-level actions due at `now_ms`. Apply them all, then call again whenever a task
/// ends, the window is cancelled, or [`next_wake`] arrives; an empty answer with every task
/// ended means the window execution is over (`rollup::window_status`).
pub fn next_actions(window: &WindowRun, now_ms: i64) -> Vec<Action> {
    let stop = if window.cancel_requested {
        Some(StopCause::Cancelled)
    } else {
        window.times.stop_at(now_ms)
    };
    let id = |t: &TaskRun| t.window_task_id.clone();
    let mut actions = Vec::new();
    if let Some(cause) = stop {
        for t in window.tasks {
            match t.phase {
                TaskPhase::NotStarted => actions.push(Action::SkipTask {
                    window_task_id: id(t),
                    cause,
                }),
                TaskPhase::Running { stopping: None }
                    if cause == StopCause::Cancelled
                        || t.cutoff_behavior == CutoffBehavior::CancelTask =>
                {
                    actions.push(Action::StopTask {
                        window_task_id: id(t),
                        cause,
                    })
                }
                _ => {}
            }
        }
        return actions;
    }
    let current = window
        .tasks
        .iter()
        .filter(|t| t.phase != TaskPhase::Ended)
        .map(|t| t.priority)
        .min();
    for t in window.tasks {
        if t.phase == TaskPhase::NotStarted && Some(t.priority) == current {
            actions.push(Action::StartTask {
                window_task_id: id(t),
            });
        }
    }
    actions
}

/// The next time the clock alone changes the plan (the cutoff), while a task has not ended;
/// `None` when nothing waits on the clock.
pub fn next_wake(window: &WindowRun, now_ms: i64) -> Option<i64> {
    if window.tasks.iter().all(|t| t.phase == TaskPhase::Ended) {
        return None;
    }
    Some(window.times.cutoff_ms()).filter(|t| *t > now_ms)
}

/// Where one invocation (one node) of a running task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationPhase {
    Waiting,
    /// Sent; `cancel_sent` once the executor asked Run Command to cancel it.
    Running {
        cancel_sent: bool,
    },
    Ended(InvocationOutcome),
}

/// One invocation of a running task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvocationRun {
    /// The node's standing now (refreshed by the executor before each call).
    pub node_state: NodeState,
    /// The position of its window target in the task's `Targets` (0 for a task that names its
    /// nodes itself): window targets run one after the other.
    pub target_order: usize,
    pub phase: InvocationPhase,
}

/// A task's `MaxConcurrency` and `MaxErrors`, resolved for its number of invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskLimits {
    pub max_concurrency: usize,
    pub max_errors: usize,
}

impl TaskLimits {
    /// Resolve with Run Command's rules (percentages of the invocation count).
    pub fn resolve(max_concurrency: MaxConcurrency, max_errors: MaxErrors, targets: usize) -> Self {
        TaskLimits {
            max_concurrency: max_concurrency.resolve(targets),
            max_errors: max_errors.resolve(targets),
        }
    }
}

/// What the executor must do for one invocation now (by index into the task's invocations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationAction {
    /// Send the task to the node (for `RUN_COMMAND`: one command, `ExecutionId` its id).
    Send(usize),
    /// End the invocation as not run, for this reason.
    NotRun(usize, NotRunReason),
    /// Cancel its command; the invocation ends when Run Command reports the command's end
    /// (`InvocationOutcome::from_command` with the task's stop cause).
    Cancel(usize),
}

/// The invocation-level actions for a running task. `stopping` is the task's
/// `TaskPhase::Running { stopping }`. Nodes that are not `Online` when their turn comes are
/// reported not run without taking a concurrency slot; they do not count against `MaxErrors`
/// (as undelivered Run Command invocations do not) but keep the task from succeeding.
pub fn next_invocation_actions(
    invocations: &[InvocationRun],
    limits: TaskLimits,
    stopping: Option<StopCause>,
) -> Vec<InvocationAction> {
    use InvocationPhase as P;
    let mut actions = Vec::new();
    if let Some(cause) = stopping {
        for (i, inv) in invocations.iter().enumerate() {
            match inv.phase {
                P::Waiting => actions.push(InvocationAction::NotRun(i, cause.not_run_reason())),
                P::Running { cancel_sent: false } => actions.push(InvocationAction::Cancel(i)),
                _ => {}
            }
        }
        return actions;
    }
    let errors = invocations
        .iter()
        .filter(|i| matches!(i.phase, P::Ended(o) if o.counts_as_error()))
        .count();
    if errors > limits.max_errors {
        for (i, inv) in invocations.iter().enumerate() {
            if inv.phase == P::Waiting {
                actions.push(InvocationAction::NotRun(i, NotRunReason::MaxErrorsExceeded));
            }
        }
        return actions;
    }
    let mut room = limits.max_concurrency.saturating_sub(
        invocations
            .iter()
            .filter(|i| matches!(i.phase, P::Running { .. }))
            .count(),
    );
    let mut orders: Vec<usize> = invocations
        .iter()
        .filter(|i| !matches!(i.phase, P::Ended(_)))
        .map(|i| i.target_order)
        .collect();
    orders.sort_unstable();
    orders.dedup();
    for order in orders {
        let mut group_left = false;
        for (i, inv) in invocations.iter().enumerate() {
            if inv.target_order != order {
                continue;
            }
            match inv.phase {
                P::Running { .. } => group_left = true,
                P::Waiting => match dispatch_check(inv.node_state) {
                    Err(reason) => actions.push(InvocationAction::NotRun(i, reason)),
                    Ok(()) if room > 0 => {
                        room -= 1;
                        group_left = true;
                        actions.push(InvocationAction::Send(i));
                    }
                    Ok(()) => group_left = true,
                },
                P::Ended(_) => {}
            }
        }
        if group_left {
            break;
        }
    }
    actions
}

/// What a schedule slot does when it comes due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotStart {
    /// Start a window execution.
    Run,
    /// Record a window execution with status `SKIPPED_OVERLAPPING` (start and end the slot's
    /// time, no task) and start nothing.
    SkippedOverlapping,
}

/// `StatusDetails` of a skipped slot's execution (Bosun's wording).
pub const SKIPPED_OVERLAPPING_DETAILS: &str =
    "Skipped: the previous execution of this window was still running.";

/// A slot whose window still has an execution that has not ended is skipped.
pub fn slot_start(previous_execution_live: bool) -> SlotStart {
    if previous_execution_live {
        SlotStart::SkippedOverlapping
    } else {
        SlotStart::Run
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
