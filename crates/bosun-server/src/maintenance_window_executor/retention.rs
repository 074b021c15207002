//! Maintenance window execution history retention: AWS keeps a window's execution history
//! (executions, their task executions and invocations) for 30 days (Systems Manager service
//! quotas, "Maintenance window execution history retention"); Bosun deletes what ended longer
//! ago, from the executor's loop, about once an hour.
//!
//! Where Bosun differs: each window's execution of its latest slot is kept however old, since
//! it is what tells the executor that slot already ran (`MaintenanceWindowRunStore::
//! prune_window_executions`). Replica-safe: the delete is one conditional statement, so two
//! replicas pruning at once delete each row once and nothing live.

use std::sync::atomic::Ordering;

use crate::state::AppState;

/// How long an ended window execution is kept.
pub const RETENTION_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// How often the executor prunes, at most.
pub const PRUNE_EVERY_MS: i64 = 60 * 60 * 1000;

/// Prune the history if the last prune (by this server) was [`PRUNE_EVERY_MS`] ago or more;
/// how many executions went, `None` when it was not time.
pub fn prune_now_and_then(state: &AppState, now_ms: i64) -> Option<u64> {
    let last = &state.windows.pruned_ms;
    let before = last.load(Ordering::SeqCst);
    if now_ms - before < PRUNE_EVERY_MS
        || last
            .compare_exchange(before, now_ms, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
    {
        return None;
    }
    match state.store.prune_window_executions(now_ms - RETENTION_MS) {
        Ok(n) => {
            if n > 0 {
                tracing::info!(
                    pruned = n,
                    "maintenance window executions older than 30 days deleted"
                );
            }
            Some(n)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not prune maintenance window execution history");
            Some(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use bosun_store::{SlotFired, WindowExecutionRecord, WindowRecord};

    use super::*;
    use crate::association_scheduler::tests::test_state;

    const DAY: i64 = 24 * 60 * 60 * 1000;
    /// 2026-01-06T00:00:00Z.
    const NOW: i64 = 1_767_657_600_000;

    fn execution(id: &str, slot_ms: i64, end_ms: i64) -> WindowExecutionRecord {
        WindowExecutionRecord {
            region: "us-east-1".into(),
            window_id: "mw-0123456789abcdef0".into(),
            window_execution_id: id.into(),
            slot_ms,
            status: "SUCCESS".into(),
            status_details: String::new(),
            start_ms: slot_ms,
            end_ms,
            cancel_requested: false,
            duration_hours: 1,
            cutoff_hours: 0,
        }
    }

    #[test]
    fn history_older_than_30_days_goes_once_an_hour_and_the_latest_slot_stays() {
        let dir = tempfile::tempdir().unwrap();
        let state = test_state(dir.path());
        let w = WindowRecord {
            region: "us-east-1".into(),
            window_id: "mw-0123456789abcdef0".into(),
            name: "w".into(),
            description: String::new(),
            schedule: "rate(1 day)".into(),
            schedule_timezone: String::new(),
            schedule_offset: 0,
            start_date: String::new(),
            end_date: String::new(),
            duration_hours: 1,
            cutoff_hours: 0,
            allow_unassociated_targets: true,
            enabled: true,
            client_token: String::new(),
            request_hash: String::new(),
            created_ms: NOW - 40 * DAY,
            modified_ms: NOW - 40 * DAY,
        };
        state.store.create_window(&w, &[], 50).unwrap();
        // Ended 31 days ago, and 29 days ago (the window's latest slot).
        for (id, slot, end) in [
            ("old", NOW - 32 * DAY, NOW - 31 * DAY),
            ("recent", NOW - 29 * DAY - 1, NOW - 29 * DAY),
        ] {
            let e = execution(id, slot, end);
            let fired = state.store.fire_window_slot(&e, &[], &e).unwrap();
            assert_eq!(fired, SlotFired::Started);
        }
        assert_eq!(prune_now_and_then(&state, NOW), Some(1));
        let left: Vec<String> = state
            .store
            .window_executions("us-east-1", &w.window_id)
            .unwrap()
            .into_iter()
            .map(|e| e.window_execution_id)
            .collect();
        assert_eq!(left, ["recent"]);
        // Not again within the hour; then again, with nothing more to delete.
        assert_eq!(prune_now_and_then(&state, NOW + PRUNE_EVERY_MS - 1), None);
        assert_eq!(prune_now_and_then(&state, NOW + PRUNE_EVERY_MS), Some(0));
        // Thirty days on, "recent" is old but still the window's latest slot: it stays.
        assert_eq!(
            prune_now_and_then(&state, NOW + 2 * DAY + 2 * PRUNE_EVERY_MS),
            Some(0)
        );
        assert_eq!(
            state
                .store
                .window_executions("us-east-1", &w.window_id)
                .unwrap()
                .len(),
            1
        );
    }
}
