//! State Manager's events from stored rows, for the engines to write in the transaction of the
//! change they report (`bosun_core::events::envelope_associations` builds the envelopes):
//!
//! - `EC2 State Manager Association State Change` when an association is created, updated or
//!   deleted (as it was last), and when an execution's end changes its `Overview.Status`;
//! - `EC2 State Manager Instance Association State Change` when a node's status of an
//!   association changes: a node row written with another status than the stored one (or the
//!   node's first row), and not dropped as older than the stored row.

use bosun_core::events::envelope::{Event, Origin};
use bosun_core::events::envelope_associations::{
    association_state_change, instance_association_state_change, AssociationFacts, AssociationHead,
    NodeOutcome,
};
use serde_json::Value;

use crate::association_status::NodeAssociationStatus;
use crate::event_outbox::new_event_id;
use crate::{AssociationRecord, AssociationState};

/// An association's `Targets` (from its definition's `spec_json`).
fn targets_of(a: &AssociationRecord) -> Option<Value> {
    serde_json::from_str::<Value>(&a.definition.spec_json)
        .ok()
        .and_then(|spec| spec.get("Targets").cloned())
}

fn facts<'a>(a: &'a AssociationRecord, targets: Option<&'a Value>) -> AssociationFacts<'a> {
    AssociationFacts {
        association_id: &a.association_id,
        document_name: &a.definition.name,
        document_version: &a.definition.document_version,
        targets,
        instance_id: &a.definition.instance_id,
        created_ms: a.created_ms,
        last_execution_ms: a.state.last_execution_ms,
        last_successful_execution_ms: a.state.last_successful_execution_ms,
    }
}

/// `EC2 State Manager Association State Change` for `a` as stored.
pub fn association_event(account: &str, now_ms: i64, a: &AssociationRecord) -> Event {
    let targets = targets_of(a);
    let counts = serde_json::from_str::<Value>(&a.state.overview_counts_json)
        .unwrap_or(Value::Object(Default::default()));
    let id = new_event_id();
    let head = AssociationHead {
        facts: facts(a, targets.as_ref()),
        association_version: a.version,
        updated_ms: a.updated_ms,
        status: &a.state.overview_status,
        aggregated_count: &counts,
        schedule_expression: &a.definition.schedule_expression,
    };
    association_state_change(
        Origin {
            account,
            region: &a.region,
            id: &id,
            now_ms,
        },
        &head,
    )
}

/// The instance events of `nodes` written over `stored` (the rows of the same association
/// before the write), and the association event when `state` changes its overall status.
pub fn execution_end_events(
    account: &str,
    now_ms: i64,
    a: &AssociationRecord,
    state: Option<&AssociationState>,
    stored: &[NodeAssociationStatus],
    nodes: &[NodeAssociationStatus],
) -> Vec<Event> {
    let mut events = node_events(account, now_ms, a, stored, nodes);
    if let Some(s) = state.filter(|s| s.overview_status != a.state.overview_status) {
        let now = AssociationRecord {
            state: s.clone(),
            ..a.clone()
        };
        events.push(association_event(account, now_ms, &now));
    }
    events
}

/// The instance events of `nodes` whose status changes over `stored`.
pub fn node_events(
    account: &str,
    now_ms: i64,
    a: &AssociationRecord,
    stored: &[NodeAssociationStatus],
    nodes: &[NodeAssociationStatus],
) -> Vec<Event> {
    let targets = targets_of(a);
    let facts = facts(a, targets.as_ref());
    nodes
        .iter()
        .filter(|n| {
            let before = stored.iter().find(|s| s.instance_id == n.instance_id);
            before.is_none_or(|s| s.execution_ms <= n.execution_ms && s.status != n.status)
        })
        .map(|n| {
            let id = new_event_id();
            let node = NodeOutcome {
                instance_id: &n.instance_id,
                document_version: &n.document_version,
                execution_ms: n.execution_ms,
                status: &n.status,
                detailed_status: &n.detailed_status,
                error_code: &n.error_code,
                execution_summary: &n.execution_summary,
                output_url: "",
            };
            instance_association_state_change(
                Origin {
                    account,
                    region: &a.region,
                    id: &id,
                    now_ms,
                },
                &facts,
                &node,
            )
        })
        .collect()
}
