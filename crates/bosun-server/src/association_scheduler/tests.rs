//! The scheduler's decision for one association: the first run at the anchor, then the
//! schedule's slots, one catch-up slot after an outage, none before its time; how long it
//! sleeps; and a pass at a given `now` ending an execution past its `Duration`.

use std::sync::Arc;

use bosun_store::{
    AssociationDefinition, AssociationExecutionRecord, AssociationRecord, AssociationState,
    CommandRecord, InvocationRecord, NewCommand, SqliteStore, Store,
};

use super::{due_slot, pass, plan, sleep_for, PassOutcome, Work, OPEN_POLL, SAFETY_CAP};
use crate::state::AppState;

const MINUTE: i64 = 60_000;
/// 2026-01-06T00:00:00Z, a Tuesday.
const T0: i64 = 1_767_657_600_000;

/// A rate association for other test modules.
pub(crate) fn association_for_tests(expression: &str) -> AssociationRecord {
    association(expression, false)
}

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

#[test]
fn the_plan_names_the_next_slot_after_now() {
    let a = association("rate(30 minutes)", false);
    let p = plan(&a, Some(T0), T0 + 10 * MINUTE);
    assert_eq!((p.slot, p.next), (None, Some(T0 + 30 * MINUTE)));
    let cron = association("cron(0 5 ? * TUE *)", true);
    let p = plan(&cron, None, T0 + MINUTE);
    assert_eq!((p.slot, p.next), (None, Some(T0 + 5 * 60 * MINUTE)));
    let once = association("", false);
    assert_eq!(plan(&once, Some(T0), T0 + MINUTE).next, None);
}

#[test]
fn it_sleeps_until_the_next_slot_capped_and_polls_only_while_executions_are_open() {
    let idle = PassOutcome::default();
    assert_eq!(sleep_for(T0, Some(T0 + 5_000), &idle).as_millis(), 5_000);
    assert_eq!(sleep_for(T0, Some(T0 + 3_600_000), &idle), SAFETY_CAP);
    assert_eq!(sleep_for(T0, None, &idle), SAFETY_CAP);
    assert_eq!(sleep_for(T0, Some(T0 - 10), &idle).as_millis(), 0);
    let open = PassOutcome {
        open_executions: true,
        ..PassOutcome::default()
    };
    assert_eq!(sleep_for(T0, Some(T0 + 3_600_000), &open), OPEN_POLL);
}

/// A server state over an in-memory store, for passes at a chosen `now`.
pub(crate) fn test_state(dir: &std::path::Path) -> Arc<AppState> {
    let config = crate::config::ServerConfig {
        data_dir: dir.to_path_buf(),
        ..Default::default()
    };
    let blobs = crate::blobs::Blobs::open(&crate::config::BlobsLocation::Folder(dir.join("blobs")))
        .unwrap();
    let kms = crate::kms::Keyring::open(&dir.join("keyring.json"), T0).unwrap();
    Arc::new(AppState {
        config,
        store: Arc::new(SqliteStore::open_in_memory().unwrap()) as Arc<dyn Store>,
        inline_reads: true,
        hub: Default::default(),
        sessions: Default::default(),
        idempotency: crate::api::idempotency::Idempotency::new(300_000, "test".into()),
        replica: crate::replicas::Replica::new(T0),
        orchestrator: Default::default(),
        associations: Default::default(),
        image_validator: Default::default(),
        windows: Default::default(),
        automation: Default::default(),
        blobs,
        output_waits: Default::default(),
        feed: Default::default(),
        doorbell: Default::default(),
        results: Default::default(),
        kms,
        opened_secrets: Default::default(),
        regions: bosun_core::regions::ServedRegions::new(&[], "us-east-1", &[]),
        mailer: None,
        release_key: crate::release_key::ReleaseKey::load_or_create(dir).unwrap(),
    })
}

fn invocation(command_id: &str, node: &str, seq: i64, status: &str) -> InvocationRecord {
    InvocationRecord {
        command_id: command_id.into(),
        instance_id: node.into(),
        seq,
        instance_name: String::new(),
        status: status.into(),
        status_details: status.into(),
        dispatched_ms: (status != "Pending").then_some(T0),
        acked: status != "Pending",
        response_code: -1,
        start_ms: None,
        end_ms: None,
    }
}

#[test]
fn a_pass_past_the_duration_cancels_the_command_and_times_the_execution_out() {
    let dir = tempfile::tempdir().unwrap();
    let state = test_state(dir.path());
    let mut a = association("cron(0 5 ? * TUE *)", true);
    a.definition.duration_hours = 1;
    state.store.create_association(&a, &[], 10).unwrap();
    let command_id = "c0000000-0000-4000-8000-000000000001";
    let command = CommandRecord {
        region: a.region.clone(),
        command_id: command_id.into(),
        document_name: "AWS-RunShellScript".into(),
        document_version: String::new(),
        document_hash: String::new(),
        comment: String::new(),
        request_json: "{}".into(),
        steps_json: "[]".into(),
        requested_ms: T0,
        expires_ms: T0 + 48 * 60 * MINUTE,
        timeout_seconds: 3600,
        max_concurrency: "1".into(),
        max_errors: "100%".into(),
        status: "InProgress".into(),
        status_details: "InProgress".into(),
        target_count: 2,
        completed_count: 0,
        error_count: 0,
        delivery_timed_out_count: 0,
        cancel_requested: false,
        notification: None,
    };
    let invocations = [
        invocation(command_id, "mi-00000000000000001", 0, "InProgress"),
        invocation(command_id, "mi-00000000000000002", 1, "Pending"),
    ];
    let execution = AssociationExecutionRecord {
        region: a.region.clone(),
        association_id: a.association_id.clone(),
        execution_id: "e0000000-0000-4000-8000-000000000001".into(),
        association_version: 1,
        slot_ms: T0,
        command_id: command_id.into(),
        status: "Pending".into(),
        detailed_status: "Pending".into(),
        created_ms: T0,
        last_update_ms: T0,
        resource_counts_json: "{}".into(),
    };
    assert!(state
        .store
        .fire_association(
            &execution,
            Some(NewCommand {
                command: &command,
                invocations: &invocations,
                plugins: &[],
            }),
        )
        .unwrap());
    let latest = |state: &AppState| {
        state
            .store
            .association_executions(&a.region, &a.association_id, 1)
            .unwrap()
            .remove(0)
    };

    let before = pass(&state, T0 + 60 * MINUTE - 1, Work::default()).unwrap();
    assert!(before.open_executions);
    assert_eq!(latest(&state).status, "InProgress");

    let after = pass(&state, T0 + 60 * MINUTE, Work::default()).unwrap();
    assert!(!after.open_executions, "{after:?}");
    let ended = latest(&state);
    assert_eq!(
        (ended.status.as_str(), ended.detailed_status.as_str()),
        ("TimedOut", "TimedOut")
    );
    let statuses: Vec<String> = state
        .store
        .invocations(command_id)
        .unwrap()
        .into_iter()
        .map(|i| i.status)
        .collect();
    assert!(
        statuses
            .iter()
            .all(|s| s == "Cancelled" || s == "Cancelling"),
        "{statuses:?}"
    );
    let c = state
        .store
        .get_command(&a.region, command_id)
        .unwrap()
        .unwrap();
    assert!(c.cancel_requested);
    let overview = state
        .store
        .get_association(&a.region, &a.association_id)
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(
        (
            overview.overview_status.as_str(),
            overview.overview_detailed_status.as_str()
        ),
        ("Failed", "TimedOut")
    );
    // Ended once: a later pass leaves it alone.
    pass(&state, T0 + 120 * MINUTE, Work::default()).unwrap();
    assert_eq!(latest(&state), ended);
}
