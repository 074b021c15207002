//! Runs State Manager associations: about every second (sooner when an association is created
//! or updated) it fires every association whose slot is due and rolls finished executions up
//! into their association's status.
//!
//! A slot is the time an execution stands for: the creation or update time for the first run
//! (not with `ApplyOnlyAtCronInterval`), then the schedule's slots after that anchor, as
//! `bosun_core::schedule::ScheduleState::due_at` names them (after an outage the latest missed
//! slot fires once; older ones are skipped). The store keeps (association, slot) unique and
//! writes the execution with its command in one transaction, so a slot never runs twice, also
//! across restarts or with two schedulers.

mod rollup;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use bosun_core::schedule::{Schedule, ScheduleKind, ScheduleState};
use bosun_store::{AssociationFilter, AssociationRecord};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use tokio::sync::Notify;

use crate::api::associations::execute::{fire, Fired};
use crate::state::{now_ms, AppState};

/// How often the scheduler looks when nothing wakes it.
const TICK: Duration = Duration::from_secs(1);
/// Associations read per store call.
const PAGE: usize = 500;

/// The scheduler's wake-up call.
#[derive(Default)]
pub struct AssociationScheduler {
    notify: Notify,
}

impl AssociationScheduler {
    /// Look soon (an association was created or changed).
    pub fn kick(&self) {
        self.notify.notify_one();
    }
}

/// The slot of `a` to fire at `now_ms`, if any, given the latest slot that fired.
pub fn due_slot(a: &AssociationRecord, latest_slot: Option<i64>, now_ms: i64) -> Option<i64> {
    let anchor = a.updated_ms;
    // Executions of earlier versions do not count: a new version starts its own schedule.
    let fired_since_anchor = latest_slot.filter(|s| *s >= anchor);
    if fired_since_anchor.is_none() && !a.definition.apply_only_at_cron_interval {
        return Some(anchor);
    }
    let expression = &a.definition.schedule_expression;
    if expression.is_empty() {
        return None;
    }
    let schedule = Schedule::parse(expression, ScheduleKind::Association).ok()?;
    let at = |ms: i64| Timestamp::from_millisecond(ms).ok();
    let state = ScheduleState {
        schedule: &schedule,
        anchor: at(anchor)?,
        last_fired: fired_since_anchor.and_then(at),
        tz: &TimeZone::UTC,
        offset_days: u8::try_from(a.definition.schedule_offset).unwrap_or(0),
    };
    state.due_at(at(now_ms)?).slot.map(|t| t.as_millisecond())
}

/// Fire what is due in every served region; the number of executions started.
pub fn fire_due(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let mut fired = 0;
    for region in state.regions.list() {
        let mut after: Option<String> = None;
        loop {
            let page = state.store.list_associations(
                region,
                &AssociationFilter::default(),
                after.as_deref(),
                PAGE,
            )?;
            for a in &page {
                let latest = state
                    .store
                    .association_executions(region, &a.association_id, 1)?
                    .first()
                    .map(|e| e.slot_ms);
                let Some(slot) = due_slot(a, latest, now) else {
                    continue;
                };
                match fire(state, a, slot, now)? {
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
    Ok(fired)
}

/// One pass: roll finished executions up, then fire what is due.
fn pass(state: &AppState, now: i64) -> anyhow::Result<()> {
    rollup::roll_up(state, now)?;
    fire_due(state, now)?;
    Ok(())
}

/// Run passes until the task is aborted.
pub async fn run(state: Arc<AppState>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = state.associations.notify.notified() => {}
        }
        let s = state.clone();
        match tokio::task::spawn_blocking(move || pass(&s, now_ms())).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "association scheduler pass failed"),
            Err(e) => tracing::error!(error = %e, "association scheduler pass panicked"),
        }
    }
}
