//! The scheduler's decision for one association: the first run at the anchor, then the
//! schedule's slots, one catch-up slot after an outage, none before its time.

use bosun_store::{AssociationDefinition, AssociationRecord, AssociationState};

use super::due_slot;

const MINUTE: i64 = 60_000;
/// 2026-01-06T00:00:00Z, a Tuesday.
const T0: i64 = 1_767_657_600_000;

fn association(expression: &str, apply_only_at_cron_interval: bool) -> AssociationRecord {
    AssociationRecord {
        region: "us-east-1".into(),
        association_id: "a".into(),
        version: 1,
        created_ms: T0 - MINUTE,
        updated_ms: T0,
        definition: AssociationDefinition {
            name: "AWS-RunShellScript".into(),
            document_version: String::new(),
            instance_id: String::new(),
            association_name: String::new(),
            schedule_expression: expression.into(),
            apply_only_at_cron_interval,
            schedule_offset: 0,
            duration_hours: 0,
            spec_json: "{}".into(),
        },
        state: AssociationState {
            status_name: String::new(),
            status_message: String::new(),
            status_date_ms: T0,
            overview_status: "Pending".into(),
            overview_detailed_status: "Creating".into(),
            overview_counts_json: "{}".into(),
            last_execution_ms: None,
            last_successful_execution_ms: None,
        },
    }
}

#[test]
fn the_first_run_is_at_the_anchor_then_the_schedule_slots() {
    let a = association("rate(30 minutes)", false);
    assert_eq!(due_slot(&a, None, T0 + 1000), Some(T0));
    assert_eq!(due_slot(&a, Some(T0), T0 + 29 * MINUTE), None);
    assert_eq!(
        due_slot(&a, Some(T0), T0 + 30 * MINUTE),
        Some(T0 + 30 * MINUTE)
    );
    // An execution of an earlier version does not count: an update runs again.
    assert_eq!(due_slot(&a, Some(T0 - 1), T0 + 1000), Some(T0));
}

#[test]
fn after_an_outage_only_the_latest_missed_slot_fires() {
    let a = association("rate(30 minutes)", false);
    assert_eq!(
        due_slot(&a, Some(T0), T0 + 100 * MINUTE),
        Some(T0 + 90 * MINUTE)
    );
}

#[test]
fn apply_only_at_cron_interval_waits_for_the_slot() {
    let a = association("cron(0 5 ? * TUE *)", true);
    assert_eq!(due_slot(&a, None, T0 + MINUTE), None);
    let slot = T0 + 5 * 60 * MINUTE;
    assert_eq!(due_slot(&a, None, slot), Some(slot));
    assert_eq!(due_slot(&a, Some(slot), slot + MINUTE), None);
}

#[test]
fn without_a_schedule_it_runs_once() {
    let a = association("", false);
    assert_eq!(due_slot(&a, None, T0), Some(T0));
    assert_eq!(due_slot(&a, Some(T0), T0 + 1000 * MINUTE), None);
}
