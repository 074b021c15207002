//! An Automation association's execution stored but never started (a crash between the slot's
//! row and `StartAutomationExecution`): the roll-up starts it once it is no longer new, with
//! the execution's own id, and starting it again finds the same automation — never a second.

use bosun_store::{AssociationExecutionRecord, AutomationQuery};
use serde_json::json;

use super::rollup::roll_up;
use super::tests::test_state;

const T0: i64 = 1_767_657_600_000;

#[test]
fn an_execution_left_unstarted_by_a_crash_is_started_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = test_state(dir.path());
    let store = &state.store;
    store.create_user("ops", T0).unwrap();
    store
        .put_user_policy(
            "ops",
            "all",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .unwrap();
    let mut a = super::tests::association_for_tests("rate(30 minutes)");
    a.definition.name = "AWS-StopEC2Instance".into();
    a.definition.spec_json = json!({
        "AutomationTargetParameterName": "InstanceId",
        "Targets": [{"Key": "ParameterValues", "Values": ["mi-0123456789abcdef0"]}],
        "@runAs": "ops",
    })
    .to_string();
    store.create_association(&a, &[], 2_000).unwrap();
    let id = "0b8a2f8e-6a39-4c1a-9d8e-3f0d2c1b0a99".to_string();
    let e = AssociationExecutionRecord {
        region: a.region.clone(),
        association_id: a.association_id.clone(),
        execution_id: id.clone(),
        association_version: 1,
        slot_ms: T0,
        command_id: id.clone(),
        status: "Pending".into(),
        detailed_status: "Pending".into(),
        created_ms: T0,
        last_update_ms: T0,
        resource_counts_json: "{}".into(),
    };
    assert!(store.fire_association(&e, None).unwrap());
    let automations = || {
        store
            .list_automation_executions(&AutomationQuery {
                region: a.region.clone(),
                limit: 50,
                ..Default::default()
            })
            .unwrap()
    };

    // Still new: it may be starting right now elsewhere; nothing happens.
    roll_up(&state, T0 + 1_000).unwrap();
    assert!(automations().is_empty());
    // Past that: started, with the execution's id, as the association's user.
    roll_up(&state, T0 + 60_000).unwrap();
    let started = automations();
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0].execution_id, id);
    assert!(started[0].executed_by.ends_with(":user/ops"));
    assert_eq!(started[0].target_parameter_name, "InstanceId");
    // Again (another replica, or the next pass before it moved): still that one.
    roll_up(&state, T0 + 120_000).unwrap();
    assert_eq!(automations().len(), 1);
    let open = store.open_association_executions().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, "InProgress");
}
