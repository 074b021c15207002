//! Per-node association state: an ended execution writes its nodes' statuses and their
//! `Association` compliance items with it (newer wins, nothing for a deleted association,
//! deletion removes them), and `AssociationStatus` updates are compare-and-set.

use super::associations::{association, id};
use super::concurrency::race;
use super::fixtures::REGION;
use crate::prelude::*;
use crate::{
    AssociationExecutionRecord, ComplianceItemRecord, NodeAssociationStatus, StatusChange,
    StatusValue, UploadMode,
};

const NODE: &str = "mi-00000000000000001";

fn execution(n: usize, association: usize) -> AssociationExecutionRecord {
    AssociationExecutionRecord {
        region: REGION.into(),
        association_id: id(association),
        execution_id: format!("e0000000-0000-4000-8000-{n:012x}"),
        association_version: 1,
        slot_ms: n as i64 * 1000,
        command_id: String::new(),
        status: "Pending".into(),
        detailed_status: "Pending".into(),
        created_ms: n as i64 * 1000,
        last_update_ms: n as i64 * 1000,
        resource_counts_json: "{}".into(),
    }
}

fn node(association: usize, at_ms: i64, status: &str) -> NodeAssociationStatus {
    NodeAssociationStatus {
        region: REGION.into(),
        association_id: id(association),
        instance_id: NODE.into(),
        association_version: 1,
        document_version: "1".into(),
        execution_id: format!("exec-{at_ms}"),
        execution_ms: at_ms,
        status: status.into(),
        detailed_status: status.into(),
        error_code: String::new(),
        execution_summary: "1 out of 1 plugin processed".into(),
        additional_info: String::new(),
    }
}

fn item(association: usize, at_ms: i64, status: &str) -> ComplianceItemRecord {
    ComplianceItemRecord {
        region: REGION.into(),
        resource_type: "ManagedInstance".into(),
        resource_id: NODE.into(),
        compliance_type: "Association".into(),
        id: id(association),
        title: String::new(),
        status: status.into(),
        severity: "HIGH".into(),
        details: r#"{"DocumentName":"Deploy","DocumentVersion":"1"}"#.into(),
        execution_id: format!("exec-{at_ms}"),
        execution_type: "Command".into(),
        execution_time_ms: at_ms,
    }
}

fn end(store: &dyn Store, n: usize, association: usize, status: &str, compliance: &str) {
    let mut e = execution(n, association);
    e.status = status.into();
    let at = e.created_ms;
    store
        .end_association_execution(
            &e,
            None,
            &[node(association, at, status)],
            &[item(association, at, compliance)],
        )
        .unwrap();
}

fn statuses(store: &dyn Store) -> Vec<(String, String)> {
    store
        .node_association_statuses(REGION, NODE)
        .unwrap()
        .into_iter()
        .map(|n| (n.association_id, n.status))
        .collect()
}

fn compliance(store: &dyn Store) -> Vec<(String, String)> {
    store
        .compliance_items(REGION)
        .unwrap()
        .into_iter()
        .map(|i| (i.id, i.status))
        .collect()
}

pub fn ended_executions_write_node_statuses_and_compliance_newer_wins(store: &dyn Store) {
    end(store, 1, 1, "Success", "COMPLIANT");
    assert!(statuses(store).is_empty(), "no association: no node rows");
    assert!(compliance(store).is_empty());
    for a in [1, 2] {
        store
            .create_association(&association(&id(a), "Deploy", 10), &[], 10)
            .unwrap();
    }
    let e = execution(2, 1);
    assert!(store.fire_association(&e, None).unwrap());
    let mut ended = e.clone();
    ended.status = "Failed".into();
    ended.detailed_status = "Failed".into();
    let mut state = store
        .get_association(REGION, &id(1))
        .unwrap()
        .unwrap()
        .state;
    // The overview as the node rows count it (`association_overview.rs` covers the count).
    state.overview_status = "Failed".into();
    state.overview_detailed_status = "Failed".into();
    state.overview_counts_json = r#"{"Failed":1}"#.into();
    store
        .end_association_execution(
            &ended,
            Some(&state),
            &[node(1, 2000, "Failed")],
            &[item(1, 2000, "NON_COMPLIANT")],
        )
        .unwrap();
    assert_eq!(
        store.association_executions(REGION, &id(1), 1).unwrap(),
        vec![ended],
        "the execution is written with its nodes"
    );
    assert_eq!(
        store
            .get_association(REGION, &id(1))
            .unwrap()
            .unwrap()
            .state,
        state
    );
    assert_eq!(
        store.node_association_statuses(REGION, NODE).unwrap(),
        vec![node(1, 2000, "Failed")]
    );
    assert_eq!(
        store.compliance_items(REGION).unwrap(),
        vec![item(1, 2000, "NON_COMPLIANT")]
    );
    end(store, 1, 1, "Success", "COMPLIANT");
    assert_eq!(
        statuses(store),
        vec![(id(1), "Failed".to_string())],
        "an older execution ending later changes nothing"
    );
    assert_eq!(
        compliance(store),
        vec![(id(1), "NON_COMPLIANT".to_string())]
    );
    end(store, 3, 1, "Success", "COMPLIANT");
    end(store, 4, 2, "Failed", "NON_COMPLIANT");
    assert_eq!(
        statuses(store),
        vec![
            (id(1), "Success".to_string()),
            (id(2), "Failed".to_string())
        ]
    );
    assert_eq!(
        compliance(store),
        vec![
            (id(1), "COMPLIANT".to_string()),
            (id(2), "NON_COMPLIANT".to_string())
        ]
    );
    assert!(store
        .node_association_statuses(REGION, "mi-00000000000000002")
        .unwrap()
        .is_empty());
    assert!(store
        .node_association_statuses("eu-west-1", NODE)
        .unwrap()
        .is_empty());
    // An upload's hash sent before Bosun's write never makes a later upload `Unchanged`.
    let custom = |status: &str| ComplianceItemRecord {
        compliance_type: "Association".into(),
        id: id(2),
        status: status.into(),
        ..item(2, 9000, status)
    };
    store
        .put_compliance_items(
            REGION,
            "ManagedInstance",
            NODE,
            "Association",
            &[custom("COMPLIANT")],
            UploadMode::Partial,
            Some("hash-1"),
            10,
        )
        .unwrap();
    end(store, 10, 2, "Failed", "NON_COMPLIANT");
    let again = store
        .put_compliance_items(
            REGION,
            "ManagedInstance",
            NODE,
            "Association",
            &[custom("COMPLIANT")],
            UploadMode::Partial,
            Some("hash-1"),
            10,
        )
        .unwrap();
    assert_eq!(again, crate::ComplianceOutcome::Stored);
    assert!(store.delete_association(REGION, &id(1)).unwrap());
    assert_eq!(statuses(store), vec![(id(2), "Failed".to_string())]);
    assert_eq!(
        compliance(store),
        vec![(id(2), "COMPLIANT".to_string())],
        "deletion removes the association's compliance item"
    );
}

pub fn association_status_updates_are_compare_and_set(store: &dyn Store) {
    let created = association(&id(1), "Deploy", 10);
    store.create_association(&created, &[], 10).unwrap();
    let current = StatusValue {
        name: created.state.status_name.clone(),
        message: created.state.status_message.clone(),
        date_ms: created.state.status_date_ms,
    };
    let next = |t: usize| StatusValue {
        name: "Success".into(),
        message: format!("run {t}"),
        date_ms: 5000 + t as i64,
    };
    let mut row = node(1, 5000, "Success");
    row.additional_info = "{\"agent\":\"x\"}".into();
    let outcomes = race(|t| {
        store
            .set_association_status(REGION, &id(1), &current, &next(t), &row)
            .unwrap()
    });
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == StatusChange::Written)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, StatusChange::Written | StatusChange::Conflict)));
    let state = store
        .get_association(REGION, &id(1))
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(state.status_name, "Success");
    assert!(state.status_message.starts_with("run "));
    assert_eq!(
        store.node_association_statuses(REGION, NODE).unwrap(),
        vec![row.clone()]
    );
    assert_eq!(
        store
            .set_association_status(REGION, &id(9), &current, &next(0), &row)
            .unwrap(),
        StatusChange::NoSuchAssociation
    );
}
