//! Runs maintenance windows: fires each enabled window's due schedule slot as a window
//! execution, then drives every live execution with `bosun_core::maintenance_window`'s rules
//! (tasks by priority, rate controls, cutoff, cancel, roll-up) until it ends.
//!
//! A slot is a fire time of the window's schedule (as `NextExecutionTime` shows it) after the
//! later of the window's last change and its latest fired slot; after an outage only the latest
//! missed slot fires. The store keeps (window, slot) unique and writes the execution with its
//! planned tasks in one transaction, so a slot fires once across restarts and replicas; a slot
//! whose window still has a live execution is recorded `SKIPPED_OVERLAPPING`.
//!
//! Driving (`drive.rs`, `task.rs`) is a sequence of compare-and-set steps in the store (a task
//! starts once, an invocation is sent once), so two replicas driving one execution never both
//! act: the loser of each step sees the winner's write on its next look. All state lives in the
//! store; a restarted server picks up every live execution where it stood.
//!
//! Sleeping: until the next slot of any window or [`SAFETY_CAP`], unless kicked (a window
//! created or changed, an execution cancelled, or — while executions are live — a command that
//! ended, [`WindowExecutor::command_ended`], so a task invocation's end is acted on at once);
//! every [`OPEN_POLL`] while executions are live, the fallback for commands that end on another
//! replica.
//!
//! History (`retention.rs`): executions that ended more than [`retention::RETENTION_MS`] ago are
//! pruned, with their tasks and invocations, from this loop about once an hour.

mod automation;
mod drive;
pub mod retention;
mod targets;
mod task;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bosun_core::maintenance_window::ids::new_uuid;
use bosun_core::maintenance_window::plan::SKIPPED_OVERLAPPING_DETAILS;
use bosun_store::{SlotFired, TaskExecutionRecord, WindowExecutionRecord, WindowRecord};
use serde_json::json;
use tokio::sync::Notify;

use crate::api::maintenance_windows::schedule::upcoming;
use crate::state::{now_ms, random_bytes, AppState};

/// The longest the executor sleeps without looking at the schedules.
pub const SAFETY_CAP: Duration = Duration::from_secs(60);
/// How often live executions are driven.
pub const OPEN_POLL: Duration = Duration::from_secs(1);
/// Fire times looked at per window per pass, at most (a `rate(1 minute)` window after a long
/// outage skips to the latest missed slot within this many).
const MAX_MISSED_SLOTS: usize = 10_000;

/// How long after this server started a slot missed while it was down waits before it fires:
/// agents reconnect with backoff after an outage, and a node not back yet would fail the run as
/// `ConnectionLost` although nothing is wrong with it.
const RECONNECT_GRACE_MS: i64 = 30_000;

/// The executor's wake-up calls.
#[derive(Default)]
pub struct WindowExecutor {
    notify: Notify,
    /// The last pass left executions live on this server's watch.
    live: AtomicBool,
    /// When history was last pruned (epoch ms, 0 never).
    pruned_ms: std::sync::atomic::AtomicI64,
}

impl WindowExecutor {
    /// Look at the schedules soon (a window was created or changed, an execution cancelled).
    pub fn kick(&self) {
        self.notify.notify_one();
    }

    /// A command ended: while window executions are live one of their task invocations may
    /// have been waiting for it, so drive them now rather than at the next [`OPEN_POLL`].
    /// With none live, nothing can be waiting and the executor sleeps on.
    pub fn command_ended(&self) {
        if self.live.load(Ordering::SeqCst) {
            self.notify.notify_one();
        }
    }

    fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::SeqCst);
    }
}

/// The slot of `w` to fire at `now_ms` (the latest fire time in (after, now]), and its next
/// fire time after `now_ms`.
pub fn due_slot(
    w: &WindowRecord,
    latest_slot: Option<i64>,
    now_ms: i64,
) -> (Option<i64>, Option<i64>) {
    let mut after = latest_slot.unwrap_or(i64::MIN).max(w.modified_ms);
    let mut due = None;
    let mut seen = 0;
    while seen < MAX_MISSED_SLOTS {
        let batch = upcoming(w, after, 100);
        if batch.is_empty() {
            return (due, None);
        }
        for (ms, _) in &batch {
            if *ms > now_ms {
                return (due, Some(*ms));
            }
            due = Some(*ms);
        }
        seen += batch.len();
        after = batch.last().map_or(after, |(ms, _)| *ms);
    }
    (due, None)
}

/// The execution of slot `slot_ms` of `w` and its planned tasks (a snapshot of each task).
fn plan_execution(
    state: &AppState,
    w: &WindowRecord,
    slot_ms: i64,
    now: i64,
) -> anyhow::Result<(WindowExecutionRecord, Vec<TaskExecutionRecord>)> {
    let e = WindowExecutionRecord {
        region: w.region.clone(),
        window_id: w.window_id.clone(),
        window_execution_id: new_uuid(random_bytes()),
        slot_ms,
        status: "IN_PROGRESS".into(),
        status_details: String::new(),
        start_ms: now,
        end_ms: 0,
        cancel_requested: false,
        duration_hours: w.duration_hours,
        cutoff_hours: w.cutoff_hours,
    };
    let tasks = state
        .store
        .list_tasks(&w.region, &w.window_id)?
        .into_iter()
        .map(|t| TaskExecutionRecord {
            region: w.region.clone(),
            window_execution_id: e.window_execution_id.clone(),
            task_execution_id: new_uuid(random_bytes()),
            window_task_id: t.window_task_id.clone(),
            task_arn: t.task_arn.clone(),
            task_type: t.task_type.clone(),
            priority: t.priority,
            max_concurrency: t.max_concurrency.clone(),
            max_errors: t.max_errors.clone(),
            cutoff_behavior: t.cutoff_behavior.clone(),
            task_json: json!({
                "Targets": serde_json::from_str::<serde_json::Value>(&t.targets_json).unwrap_or_default(),
                "TaskParameters": serde_json::from_str::<serde_json::Value>(&t.task_parameters_json).unwrap_or_default(),
                "TaskInvocationParameters": serde_json::from_str::<serde_json::Value>(&t.invocation_parameters_json).unwrap_or_default(),
                "ServiceRoleArn": t.service_role_arn,
                "RegisteredBy": t.registered_by,
            })
            .to_string(),
            status: "PENDING".into(),
            status_details: String::new(),
            stopping: String::new(),
            start_ms: 0,
            end_ms: 0,
        })
        .collect();
    Ok((e, tasks))
}

/// Fire every due slot in every served region; the earliest next slot of any window.
pub fn fire_due(state: &AppState, now: i64) -> anyhow::Result<Option<i64>> {
    let mut next_due: Option<i64> = None;
    for region in state.regions.list() {
        let latest: std::collections::HashMap<String, i64> = state
            .store
            .latest_window_slots(region)?
            .into_iter()
            .collect();
        for w in state.store.list_windows(region)? {
            let (slot, next) = due_slot(&w, latest.get(&w.window_id).copied(), now);
            if let Some(next) = next {
                next_due = Some(next_due.map_or(next, |d| d.min(next)));
            }
            let Some(slot) = slot else { continue };
            let started = state.replica.started_ms();
            if slot < started && now < started + RECONNECT_GRACE_MS {
                // Missed while this server was down: fire once the nodes had time to return.
                let wake = started + RECONNECT_GRACE_MS;
                next_due = Some(next_due.map_or(wake, |d| d.min(wake)));
                continue;
            }
            let (run, tasks) = plan_execution(state, &w, slot, now)?;
            let skipped = WindowExecutionRecord {
                status: "SKIPPED_OVERLAPPING".into(),
                status_details: SKIPPED_OVERLAPPING_DETAILS.into(),
                end_ms: now,
                ..run.clone()
            };
            let id = &run.window_execution_id;
            match state.store.fire_window_slot(&run, &tasks, &skipped)? {
                SlotFired::Started => {
                    tracing::info!(%region, window = %w.window_id, execution = %id, slot, "maintenance window execution started")
                }
                SlotFired::Skipped => {
                    tracing::warn!(%region, window = %w.window_id, execution = %id, slot, "maintenance window slot skipped: the previous execution is still running")
                }
                SlotFired::SlotTaken => {}
            }
        }
    }
    Ok(next_due)
}

/// One pass at `now`: fire due slots, then drive every live execution. Whether executions are
/// live, and the next slot.
pub fn pass(state: &AppState, now: i64) -> anyhow::Result<(bool, Option<i64>)> {
    let next_due = fire_due(state, now)?;
    retention::prune_now_and_then(state, now);
    let mut live = false;
    for e in state.store.open_window_executions()? {
        match drive::drive(state, &e, now) {
            Ok(ended) => live |= !ended,
            Err(err) => {
                live = true;
                tracing::warn!(window = %e.window_id, execution = %e.window_execution_id, error = %err, "maintenance window execution step failed");
            }
        }
    }
    Ok((live, next_due))
}

/// Run passes until the task is aborted.
pub async fn run(state: Arc<AppState>) {
    loop {
        let now = now_ms();
        let s = state.clone();
        let (live, next_due) = match tokio::task::spawn_blocking(move || pass(&s, now)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "maintenance window pass failed");
                (true, None)
            }
            Err(e) => {
                tracing::error!(error = %e, "maintenance window pass panicked");
                (true, None)
            }
        };
        // Before sleeping, so a command that ends from now on wakes the next pass.
        state.windows.set_live(live);
        let mut sleep = SAFETY_CAP;
        if let Some(due) = next_due {
            sleep = sleep.min(Duration::from_millis(
                u64::try_from(due - now_ms()).unwrap_or(0),
            ));
        }
        if live {
            sleep = sleep.min(OPEN_POLL);
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = state.windows.notify.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(schedule: &str, modified_ms: i64) -> WindowRecord {
        WindowRecord {
            region: "us-east-1".into(),
            window_id: "mw-0123456789abcdef0".into(),
            name: "w".into(),
            description: String::new(),
            schedule: schedule.into(),
            schedule_timezone: String::new(),
            schedule_offset: 0,
            start_date: String::new(),
            end_date: String::new(),
            duration_hours: 2,
            cutoff_hours: 0,
            allow_unassociated_targets: false,
            enabled: true,
            client_token: String::new(),
            request_hash: String::new(),
            created_ms: modified_ms,
            modified_ms,
        }
    }

    const MIN: i64 = 60_000;

    #[test]
    fn an_ended_command_wakes_the_executor_only_while_executions_are_live() {
        use futures_util::FutureExt;
        let w = WindowExecutor::default();
        // Nothing live: nothing can wait for the command, the executor sleeps on.
        w.command_ended();
        assert!(w.notify.notified().now_or_never().is_none());
        w.set_live(true);
        w.command_ended();
        assert!(w.notify.notified().now_or_never().is_some());
        // One wake per end, not a standing one.
        assert!(w.notify.notified().now_or_never().is_none());
    }

    #[test]
    fn the_latest_missed_slot_fires_once() {
        let w = window("rate(1 hour)", 0);
        let hour = 60 * MIN;
        assert_eq!(due_slot(&w, None, 30 * MIN), (None, Some(hour)));
        assert_eq!(
            due_slot(&w, None, 3 * hour + 5),
            (Some(3 * hour), Some(4 * hour))
        );
        // Fired: nothing until the next one.
        assert_eq!(
            due_slot(&w, Some(3 * hour), 3 * hour + 10),
            (None, Some(4 * hour))
        );
    }

    #[test]
    fn an_at_window_fires_at_its_time_and_never_again() {
        let w = window("at(2030-01-01T10:00:30)", 0);
        let at = jiff::Timestamp::from_second(1_893_492_030)
            .unwrap()
            .as_millisecond();
        assert_eq!(due_slot(&w, None, at - 1), (None, Some(at)));
        assert_eq!(due_slot(&w, None, at), (Some(at), None));
        assert_eq!(due_slot(&w, Some(at), at + 1), (None, None));
        let mut disabled = w.clone();
        disabled.enabled = false;
        assert_eq!(due_slot(&disabled, None, at), (None, None));
    }
}
