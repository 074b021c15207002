//! An association's `Overview` covers every node it targets: an execution that ran only on
//! newly matching nodes leaves the others' outcomes in the count (also when an older
//! execution ends last), and forgetting nodes the association no longer targets drops their
//! rows, their `Association` compliance items and their applied versions, and their count.

use super::association_runs::fire_on;
use super::associations::{association, id};
use super::fixtures::REGION;
use crate::prelude::*;
use crate::{AssociationExecutionRecord, ComplianceItemRecord, NodeAssociationStatus};

const N1: &str = "mi-00000000000000001";
const N2: &str = "mi-00000000000000002";
const N3: &str = "mi-00000000000000003";

fn execution(n: usize, association: usize, status: &str) -> AssociationExecutionRecord {
    AssociationExecutionRecord {
        region: REGION.into(),
        association_id: id(association),
        execution_id: format!("e0000000-0000-4000-8000-{n:012x}"),
        association_version: 1,
        slot_ms: n as i64 * 1000,
        command_id: String::new(),
        status: status.into(),
        detailed_status: status.into(),
        created_ms: n as i64 * 1000,
        last_update_ms: n as i64 * 1000,
        resource_counts_json: "{}".into(),
    }
}

fn node(association: usize, instance: &str, at_ms: i64, status: &str) -> NodeAssociationStatus {
    NodeAssociationStatus {
        region: REGION.into(),
        association_id: id(association),
        instance_id: instance.into(),
        association_version: 1,
        document_version: "1".into(),
        execution_id: format!("exec-{at_ms}"),
        execution_ms: at_ms,
        status: status.into(),
        detailed_status: status.into(),
        error_code: String::new(),
        execution_summary: String::new(),
        additional_info: String::new(),
    }
}

fn item(association: usize, instance: &str, at_ms: i64, status: &str) -> ComplianceItemRecord {
    ComplianceItemRecord {
        region: REGION.into(),
        resource_type: "ManagedInstance".into(),
        resource_id: instance.into(),
        compliance_type: "Association".into(),
        id: id(association),
        title: String::new(),
        status: if status == "Success" {
            "COMPLIANT"
        } else {
            "NON_COMPLIANT"
        }
        .into(),
        severity: "UNSPECIFIED".into(),
        details: String::new(),
        execution_id: format!("exec-{at_ms}"),
        execution_type: "Command".into(),
        execution_time_ms: at_ms,
    }
}

/// End execution `n` of `association` with `nodes` as (node, status); `latest` passes the
/// roll-up's state (the association's latest execution) with the execution's own outcome.
fn end(
    store: &dyn Store,
    n: usize,
    association: usize,
    status: &str,
    nodes: &[(&str, &str)],
    latest: bool,
) {
    let e = execution(n, association, status);
    let at = e.created_ms;
    let rows: Vec<_> = nodes
        .iter()
        .map(|(i, s)| node(association, i, at, s))
        .collect();
    let items: Vec<_> = nodes
        .iter()
        .map(|(i, s)| item(association, i, at, s))
        .collect();
    let state = latest.then(|| {
        let mut s = store
            .get_association(REGION, &id(association))
            .unwrap()
            .unwrap()
            .state;
        s.overview_status = status.into();
        s.overview_detailed_status = status.into();
        s.overview_counts_json = format!("{{\"{status}\":{}}}", nodes.len());
        s
    });
    store
        .end_association_execution(&e, state.as_ref(), &rows, &items)
        .unwrap();
}

fn overview(store: &dyn Store, association: usize) -> (String, String, serde_json::Value) {
    let s = store
        .get_association(REGION, &id(association))
        .unwrap()
        .unwrap()
        .state;
    (
        s.overview_status,
        s.overview_detailed_status,
        serde_json::from_str(&s.overview_counts_json).unwrap(),
    )
}

fn items_of(store: &dyn Store) -> Vec<(String, String)> {
    store
        .compliance_items(REGION)
        .unwrap()
        .into_iter()
        .map(|i| (i.id, i.resource_id))
        .collect()
}

pub fn the_overview_counts_every_nodes_latest_outcome(store: &dyn Store) {
    store
        .create_association(&association(&id(1), "Deploy", 10), &[], 10)
        .unwrap();
    end(
        store,
        1,
        1,
        "Success",
        &[(N1, "Success"), (N2, "Success")],
        true,
    );
    assert_eq!(
        overview(store, 1),
        (
            "Success".into(),
            "Success".into(),
            serde_json::json!({"Success": 2})
        )
    );
    // A run for a newly matching node: the earlier nodes stay counted.
    end(store, 2, 1, "Success", &[(N3, "Success")], true);
    assert_eq!(
        overview(store, 1),
        (
            "Success".into(),
            "Success".into(),
            serde_json::json!({"Success": 3})
        )
    );
    end(store, 3, 1, "Failed", &[(N3, "Failed")], true);
    assert_eq!(
        overview(store, 1),
        (
            "Failed".into(),
            "Failed".into(),
            serde_json::json!({"Success": 2, "Failed": 1})
        )
    );
    // A good run on other nodes does not hide the failed one.
    end(store, 4, 1, "Success", &[(N1, "Success")], true);
    assert_eq!(overview(store, 1).0, "Failed");
    // An execution that is not the latest, ending last, still counts (newer rows win).
    end(store, 5, 1, "Success", &[(N3, "Success")], false);
    assert_eq!(
        overview(store, 1),
        (
            "Success".into(),
            "Success".into(),
            serde_json::json!({"Success": 3})
        )
    );
    end(store, 2, 1, "Failed", &[(N3, "Failed")], false);
    assert_eq!(
        overview(store, 1).2,
        serde_json::json!({"Success": 3}),
        "an older outcome never replaces a newer one in the count"
    );
}

pub fn forgotten_nodes_leave_rows_compliance_and_the_overview(store: &dyn Store) {
    for a in [1, 2] {
        store
            .create_association(&association(&id(a), "Deploy", 10), &[], 10)
            .unwrap();
    }
    assert!(fire_on(store, 1, 1000, 1, &[N1, N2, N3], false));
    end(
        store,
        2,
        1,
        "Failed",
        &[(N1, "Success"), (N2, "Success"), (N3, "Failed")],
        true,
    );
    end(store, 3, 2, "Success", &[(N3, "Success")], true);
    assert_eq!(
        store.association_nodes_in_region(REGION).unwrap(),
        vec![
            (id(1), N1.to_string()),
            (id(1), N2.to_string()),
            (id(1), N3.to_string()),
            (id(2), N3.to_string()),
        ]
    );
    assert!(store
        .association_nodes_in_region("eu-west-1")
        .unwrap()
        .is_empty());

    // N3 no longer matches association 1: its row, item and applied version go, and the
    // failure it carried leaves the overview.
    assert_eq!(
        store
            .forget_association_nodes(REGION, &id(1), &[N3.to_string()], true)
            .unwrap(),
        1
    );
    assert_eq!(
        overview(store, 1),
        (
            "Success".into(),
            "Success".into(),
            serde_json::json!({"Success": 2})
        )
    );
    assert_eq!(
        store.association_applied_nodes(REGION, &id(1), 1).unwrap(),
        vec![N1, N2],
        "a node that matches again gets the association again"
    );
    let mut items = items_of(store);
    items.sort();
    assert_eq!(
        items,
        vec![
            (id(1), N1.to_string()),
            (id(1), N2.to_string()),
            (id(2), N3.to_string()),
        ],
        "the node keeps its other association's item"
    );
    assert_eq!(
        store
            .node_association_statuses(REGION, N3)
            .unwrap()
            .into_iter()
            .map(|n| n.association_id)
            .collect::<Vec<_>>(),
        vec![id(2)]
    );
    // MANUAL compliance: the rows go, the user's items stay.
    assert_eq!(
        store
            .forget_association_nodes(REGION, &id(1), &[N2.to_string()], false)
            .unwrap(),
        1
    );
    assert!(items_of(store).contains(&(id(1), N2.to_string())));
    assert_eq!(overview(store, 1).2, serde_json::json!({"Success": 1}));
    // The last node: no counts left.
    store
        .forget_association_nodes(REGION, &id(1), &[N1.to_string()], true)
        .unwrap();
    assert_eq!(overview(store, 1).2, serde_json::json!({}));
    assert_eq!(
        store
            .forget_association_nodes(REGION, &id(9), &[N1.to_string()], true)
            .unwrap(),
        0,
        "no association: nothing"
    );
    assert_eq!(
        store
            .forget_association_nodes(REGION, &id(2), &[N1.to_string()], true)
            .unwrap(),
        0,
        "a node without a row: nothing removed"
    );
    assert_eq!(overview(store, 2).2, serde_json::json!({"Success": 1}));
}
