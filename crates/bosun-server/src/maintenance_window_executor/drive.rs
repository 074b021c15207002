//! Driving one live window execution a step: the task-level plan (`plan::next_actions`: start,
//! skip, stop), each running task's step, and, once every task has ended, the window's roll-up
//! (`rollup::window_status`), which never says `SUCCESS` for a target that did not run.

use bosun_core::maintenance_window::{
    next_actions, task_not_started, window_status, Action, CutoffBehavior, StopCause, TaskPhase,
    TaskRun, TaskSummary, WindowRun, WindowTimes,
};
use bosun_store::{TaskExecutionRecord, WindowExecutionRecord};

use super::task::{self, stop_cause, stop_text};
use crate::api::Ctx;
use crate::replicas::Presence;

/// The principal of the commands maintenance windows send.
pub const PRINCIPAL: &str = "bosun:maintenance-window";
/// Task-level rounds per step: a task that ends lets the next priority start in the same step.
const ROUNDS: usize = 4;

fn phase(t: &TaskExecutionRecord) -> TaskPhase {
    match t.status.as_str() {
        "PENDING" => TaskPhase::NotStarted,
        "IN_PROGRESS" | "CANCELLING" => TaskPhase::Running {
            stopping: stop_cause(&t.stopping),
        },
        _ => TaskPhase::Ended,
    }
}

/// A task never started: its execution records why, and no invocation.
fn never_started(t: &TaskExecutionRecord) -> bool {
    t.start_ms == 0 && !t.stopping.is_empty()
}

/// Step `e` at `now`; `true` once it has ended.
pub fn drive(
    state: &crate::state::AppState,
    e: &WindowExecutionRecord,
    now: i64,
) -> anyhow::Result<bool> {
    let ctx = Ctx::internal(state, &e.region, PRINCIPAL, now);
    let store = &state.store;
    let presence = Presence::load(&**store, now)?;
    let times = WindowTimes {
        start_ms: e.start_ms,
        duration_hours: u8::try_from(e.duration_hours).unwrap_or(24),
        cutoff_hours: u8::try_from(e.cutoff_hours).unwrap_or(0),
    };
    for _ in 0..ROUNDS {
        let tasks = store.task_executions(&e.region, &e.window_execution_id)?;
        let runs: Vec<TaskRun> = tasks
            .iter()
            .map(|t| TaskRun {
                window_task_id: t.window_task_id.clone(),
                priority: u32::try_from(t.priority).unwrap_or(u32::MAX),
                cutoff_behavior: CutoffBehavior::from_wire(&t.cutoff_behavior).unwrap_or_default(),
                phase: phase(t),
            })
            .collect();
        let window = WindowRun {
            times,
            cancel_requested: e.cancel_requested,
            tasks: &runs,
        };
        let by_id = |id: &str| tasks.iter().find(|t| t.window_task_id == id);
        for action in next_actions(&window, now) {
            match action {
                Action::StartTask { window_task_id } => {
                    if let Some(t) = by_id(&window_task_id) {
                        task::start(&ctx, e, t, now)?;
                    }
                }
                Action::SkipTask {
                    window_task_id,
                    cause,
                } => {
                    if let Some(t) = by_id(&window_task_id) {
                        let rolled = task_not_started(cause);
                        store.update_window_task(&TaskExecutionRecord {
                            status: rolled.status.as_str().into(),
                            status_details: rolled.details,
                            stopping: stop_text(cause).into(),
                            end_ms: now,
                            ..t.clone()
                        })?;
                    }
                }
                Action::StopTask {
                    window_task_id,
                    cause,
                } => {
                    if let Some(t) = by_id(&window_task_id) {
                        store.update_window_task(&TaskExecutionRecord {
                            stopping: stop_text(cause).into(),
                            ..t.clone()
                        })?;
                    }
                }
            }
        }
        let mut any_ended = false;
        for t in store.task_executions(&e.region, &e.window_execution_id)? {
            if matches!(phase(&t), TaskPhase::Running { .. }) {
                any_ended |= task::step(&ctx, &presence, e, &t, now)?;
            }
        }
        if !any_ended {
            break;
        }
    }
    let tasks = store.task_executions(&e.region, &e.window_execution_id)?;
    let mut summaries = Vec::with_capacity(tasks.len());
    for t in &tasks {
        if never_started(t) {
            summaries.push(TaskSummary::not_started(
                stop_cause(&t.stopping).unwrap_or(StopCause::WindowEnded),
            ));
        } else {
            let invs =
                store.task_invocations(&t.region, &t.window_execution_id, &t.task_execution_id)?;
            let mut summary = TaskSummary::started(task::tally(&invs), stop_cause(&t.stopping));
            // A task that ended before running (refused type, unresolvable targets) keeps
            // the status it was given.
            if let Some(status) =
                bosun_core::maintenance_window::ExecutionStatus::from_wire(&t.status)
            {
                if status.is_terminal() {
                    summary.status = status;
                } else if summary.status.is_terminal() {
                    summary.status = bosun_core::maintenance_window::ExecutionStatus::InProgress;
                }
            }
            summaries.push(summary);
        }
    }
    let rolled = window_status(&summaries, e.cancel_requested);
    let ended = rolled.status.is_terminal();
    if ended || rolled.status.as_str() != e.status {
        store.update_window_execution(&WindowExecutionRecord {
            status: rolled.status.as_str().into(),
            status_details: rolled.details,
            end_ms: if ended { now } else { 0 },
            ..e.clone()
        })?;
        if ended {
            tracing::info!(window = %e.window_id, execution = %e.window_execution_id, status = %rolled.status, "maintenance window execution ended");
        }
    }
    Ok(ended)
}
