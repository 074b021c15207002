//! Runs State Manager associations: fires every association whose slot is due, applies
//! associations to nodes that newly match their targets, cancels executions that outlive their
//! `Duration`, and rolls finished executions up into their association's status.
//!
//! A slot is the time an execution stands for: the creation or update time for the first run
//! (not with `ApplyOnlyAtCronInterval`), then the schedule's slots after that anchor, as
//! `bosun_core::schedule::ScheduleState::due_at` names them (after an outage the latest missed
//! slot fires once; older ones are skipped). The store keeps (association, slot) unique and
//! writes the execution with its command in one transaction, so a slot never runs twice, also
//! across restarts or with two schedulers.
//!
//! Sleeping: a full pass over the associations computes the earliest next slot; the task then
//! sleeps until that slot or [`SAFETY_CAP`], whichever comes first, unless kicked: a created,
//! changed or deleted association ([`AssociationScheduler::kick`]), a node registered or
//! (un)tagged ([`AssociationScheduler::targets_changed`]), an association's command that ended
//! ([`AssociationScheduler::command_ended`]). While executions are open it looks every
//! [`OPEN_POLL`] to roll them up and enforce `Duration`, without rescanning the schedules. So an
//! idle server with many scheduled associations scans them about once a minute.
//!
//! New targets (`new_nodes.rs`): a node that newly matches an association's targets (registered
//! later, tagged later, `InstanceIds: ["*"]`) gets the association's latest version in an
//! execution of its own whose command targets only the new nodes; the nodes that already have
//! that version are not run again. Which nodes have which version is recorded with each
//! firing, in the store, so this holds across restarts and schedulers. A separate execution
//! (rather than adding invocations to a finished command) keeps every command immutable once
//! its rate controls are computed, and shows in `DescribeAssociationExecutions` as a run of
//! its own, as AWS lists one. The scan runs on start (a kick lost in a crash) and on each
//! targets kick (a node registered, (un)tagged or deregistered, a resource group changed),
//! never on a timer. The same scan drops nodes an association no longer targets from its
//! node statuses, `Association` compliance and `Overview` (`forget.rs`).

#[cfg(test)]
mod automation_tests;
mod deadlines;
mod forget;
mod new_nodes;
pub(crate) mod rollup;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bosun_core::schedule::{Schedule, ScheduleKind, ScheduleState};
use bosun_store::{AssociationFilter, AssociationRecord};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use tokio::sync::Notify;

use crate::api::associations::execute::Fired;
use crate::api::associations::execute_batch::fire_many;
use crate::state::{now_ms, AppState};

/// The longest the scheduler sleeps without a full look at the schedules.
pub const SAFETY_CAP: Duration = Duration::from_secs(60);
/// How often it rolls open executions up (and checks their `Duration`) while there are some.
pub const OPEN_POLL: Duration = Duration::from_secs(1);
/// Associations read per store call.
const PAGE: usize = 500;

/// The scheduler's wake-up calls: what changed since the last pass.
#[derive(Default)]
pub struct AssociationScheduler {
    notify: Notify,
    schedules_changed: AtomicBool,
    targets_changed: AtomicBool,
}

impl AssociationScheduler {
    /// Look at the schedules soon (an association was created, changed or deleted).
    pub fn kick(&self) {
        self.schedules_changed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Look for nodes that newly match associations (a node registered or its tags changed).
    pub fn targets_changed(&self) {
        self.targets_changed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Roll executions up soon (a command ended).
    pub fn command_ended(&self) {
        self.notify.notify_one();
    }
}

/// What one pass is asked to do besides rolling up and enforcing `Duration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Look at every association's schedule and fire what is due.
    pub fire_due: bool,
    /// Look for nodes that newly match associations.
    pub new_nodes: bool,
}

/// What a pass learnt, for the next sleep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassOutcome {
    /// The earliest next slot seen by the schedule scan (only when it ran).
    pub next_due_ms: Option<i64>,
    /// Executions are open (or were just started): roll them up soon.
    pub open_executions: bool,
    /// A new-node firing lost a race: look for new nodes again soon.
    pub retry_new_nodes: bool,
}

/// The slot of `a` to fire at `now_ms` (if any) and its next slot after `now_ms` (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotPlan {
    pub slot: Option<i64>,
    pub next: Option<i64>,
}

/// The plan for `a` at `now_ms`, given the latest slot that fired.
pub fn plan(a: &AssociationRecord, latest_slot: Option<i64>, now_ms: i64) -> SlotPlan {
    let anchor = a.updated_ms;
    // Executions of earlier versions do not count: a new version starts its own schedule.
    let fired_since_anchor = latest_slot.filter(|s| *s >= anchor);
    let first_run = (fired_since_anchor.is_none() && !a.definition.apply_only_at_cron_interval)
        .then_some(anchor);
    let expression = &a.definition.schedule_expression;
    let schedule = (!expression.is_empty())
        .then(|| Schedule::parse(expression, ScheduleKind::Association).ok())
        .flatten();
    let at = |ms: i64| Timestamp::from_millisecond(ms).ok();
    let due = schedule.as_ref().and_then(|schedule| {
        let state = ScheduleState {
            schedule,
            anchor: at(anchor)?,
            last_fired: fired_since_anchor.and_then(at),
            tz: &TimeZone::UTC,
            offset_days: u8::try_from(a.definition.schedule_offset).unwrap_or(0),
        };
        Some(state.due_at(at(now_ms)?))
    });
    SlotPlan {
        slot: first_run.or_else(|| due.as_ref()?.slot.map(|t| t.as_millisecond())),
        next: due.and_then(|d| d.next).map(|t| t.as_millisecond()),
    }
}

/// The slot of `a` to fire at `now_ms`, if any, given the latest slot that fired.
#[cfg(test)]
pub fn due_slot(a: &AssociationRecord, latest_slot: Option<i64>, now_ms: i64) -> Option<i64> {
    plan(a, latest_slot, now_ms).slot
}

/// How long to sleep after a pass at `now_ms` that learnt `outcome`, the next slot being
/// `next_due_ms`.
pub fn sleep_for(now_ms: i64, next_due_ms: Option<i64>, outcome: &PassOutcome) -> Duration {
    let mut sleep = SAFETY_CAP;
    if let Some(due) = next_due_ms {
        let until = Duration::from_millis(u64::try_from(due - now_ms).unwrap_or(0));
        sleep = sleep.min(until);
    }
    if outcome.open_executions || outcome.retry_new_nodes {
        sleep = sleep.min(OPEN_POLL);
    }
    sleep
}

/// Fire what is due in every served region: the number of executions started and the
/// earliest next slot of any association.
pub fn fire_due(state: &AppState, now: i64) -> anyhow::Result<(usize, Option<i64>)> {
    let mut fired = 0;
    let mut next_due: Option<i64> = None;
    for region in state.regions.list() {
        let mut after: Option<String> = None;
        loop {
            let page = state.store.list_associations(
                region,
                &AssociationFilter::default(),
                after.as_deref(),
                PAGE,
            )?;
            let latest_slots: HashMap<String, i64> = match (page.first(), page.last()) {
                (Some(first), Some(last)) => state
                    .store
                    .latest_association_slots(region, &first.association_id, &last.association_id)?
                    .into_iter()
                    .collect(),
                _ => HashMap::new(),
            };
            let mut due = Vec::new();
            for a in &page {
                let latest = latest_slots.get(&a.association_id).copied();
                let SlotPlan { slot, next } = plan(a, latest, now);
                if let Some(next) = next {
                    next_due = Some(next_due.map_or(next, |d| d.min(next)));
                }
                if let Some(slot) = slot {
                    due.push((a, slot));
                }
            }
            // The page's due slots fire together: shared reads, a few store transactions.
            let outcomes = fire_many(state, region, &due, now)?;
            for ((a, slot), outcome) in due.iter().zip(outcomes) {
                match outcome {
                    Fired::Started { execution_id } => {
                        tracing::info!(%region, association = %a.association_id, %execution_id, slot, "association execution started");
                        fired += 1;
                    }
                    Fired::Refused {
                        execution_id,
                        reason,
                    } => {
                        tracing::warn!(%region, association = %a.association_id, %execution_id, slot, %reason, "association execution failed to start");
                        fired += 1;
                    }
                    Fired::SlotTaken => {}
                }
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.association_id.clone()),
                _ => break,
            }
        }
    }
    Ok((fired, next_due))
}

/// One pass at `now`: end executions past their `Duration`, roll finished ones up, then do
/// `work`.
pub fn pass(state: &AppState, now: i64, work: Work) -> anyhow::Result<PassOutcome> {
    let mut outcome = PassOutcome {
        open_executions: deadlines::time_out_overdue(state, now)? > 0,
        ..PassOutcome::default()
    };
    rollup::roll_up(state, now)?;
    if work.fire_due {
        let (fired, next_due) = fire_due(state, now)?;
        outcome.next_due_ms = next_due;
        outcome.open_executions |= fired > 0;
    }
    if work.new_nodes {
        let found = new_nodes::apply_to_new_nodes(state, now)?;
        outcome.open_executions |= found.fired > 0;
        outcome.retry_new_nodes = found.retry;
    }
    Ok(outcome)
}

/// Run passes until the task is aborted.
pub async fn run(state: Arc<AppState>) {
    let scheduler = &state.associations;
    // On start: a full look, and new nodes a kick lost in a crash may have missed.
    scheduler.schedules_changed.store(true, Ordering::SeqCst);
    scheduler.targets_changed.store(true, Ordering::SeqCst);
    let mut next_due_ms: Option<i64> = None;
    let mut last_scan_ms = i64::MIN;
    loop {
        let now = now_ms();
        let scan_due = next_due_ms.is_some_and(|d| d <= now)
            || now.saturating_sub(last_scan_ms) >= SAFETY_CAP.as_millis() as i64;
        let work = Work {
            fire_due: scheduler.schedules_changed.swap(false, Ordering::SeqCst) || scan_due,
            new_nodes: scheduler.targets_changed.swap(false, Ordering::SeqCst),
        };
        let s = state.clone();
        let result = tokio::task::spawn_blocking(move || pass(&s, now, work)).await;
        let outcome = match result {
            Ok(Ok(outcome)) => {
                if work.fire_due {
                    next_due_ms = outcome.next_due_ms;
                    last_scan_ms = now;
                }
                outcome
            }
            failed => {
                match failed {
                    Ok(Err(e)) => tracing::error!(error = %e, "association scheduler pass failed"),
                    Err(e) => tracing::error!(error = %e, "association scheduler pass panicked"),
                    Ok(Ok(_)) => {}
                }
                // Try the same work again shortly.
                if work.fire_due {
                    scheduler.schedules_changed.store(true, Ordering::SeqCst);
                }
                PassOutcome {
                    open_executions: true,
                    retry_new_nodes: work.new_nodes,
                    ..PassOutcome::default()
                }
            }
        };
        if outcome.retry_new_nodes {
            scheduler.targets_changed.store(true, Ordering::SeqCst);
        }
        let sleep = sleep_for(now_ms(), next_due_ms, &outcome);
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = scheduler.notify.notified() => {}
        }
    }
}
