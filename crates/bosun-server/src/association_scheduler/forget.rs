//! Nodes an association no longer targets leave it: a node that was deregistered, or whose
//! tags (or resource group) no longer match, loses its status row for the association and,
//! with `SyncCompliance` `AUTO`, its `Association` compliance item; a deregistered node's
//! items go whatever the mode. Its count leaves the association's `Overview`, and its record of
//! having the association's versions goes, so a node that matches again gets the association
//! again (as a newly matching node).
//!
//! AWS documents no explicit rule here. What it documents: compliance of type `Association`
//! is the agent's report of the associations the node has (`ListComplianceItems` shows one
//! item per association on the node), and `Overview.AssociationStatusAggregatedCount` counts
//! "the association's targets"; a node that is no longer a target is neither. So Bosun drops
//! the node from both when the association stops targeting it.

use std::collections::HashSet;

use bosun_store::{AssociationRecord, InstanceRecord};
use serde_json::{Map, Value};

use crate::state::AppState;

/// Forget the nodes of `rows` (the association's node rows) that `a` no longer targets:
/// those not registered (any more) and, when the targets resolved (`matching`), those not
/// matching. Returns how many rows went.
pub fn forget_untargeted(
    state: &AppState,
    a: &AssociationRecord,
    rows: &[String],
    nodes: &[InstanceRecord],
    matching: Option<&[(String, String)]>,
) -> anyhow::Result<usize> {
    let registered: HashSet<&str> = nodes
        .iter()
        .filter(|n| !n.deregistered)
        .map(|n| n.instance_id.as_str())
        .collect();
    let targeted: Option<HashSet<&str>> =
        matching.map(|m| m.iter().map(|(id, _)| id.as_str()).collect());
    let (gone, registered_rows): (Vec<String>, Vec<String>) = rows
        .iter()
        .cloned()
        .partition(|id| !registered.contains(id.as_str()));
    let untargeted: Vec<String> = match &targeted {
        Some(t) => registered_rows
            .into_iter()
            .filter(|id| !t.contains(id.as_str()))
            .collect(),
        None => Vec::new(),
    };
    let mut removed = 0;
    if !gone.is_empty() {
        removed +=
            state
                .store
                .forget_association_nodes(&a.region, &a.association_id, &gone, true)?;
    }
    if !untargeted.is_empty() {
        removed += state.store.forget_association_nodes(
            &a.region,
            &a.association_id,
            &untargeted,
            automatic_compliance(a),
        )?;
    }
    if removed > 0 {
        tracing::info!(region = %a.region, association = %a.association_id, deregistered = ?gone, untargeted = ?untargeted, "nodes no longer targeted left the association");
    }
    Ok(removed)
}

/// Whether State Manager writes the association's compliance (`SyncCompliance` `AUTO`, the
/// default) rather than the user (`MANUAL`).
fn automatic_compliance(a: &AssociationRecord) -> bool {
    let spec: Map<String, Value> =
        serde_json::from_str(&a.definition.spec_json).unwrap_or_default();
    spec.get("SyncCompliance").and_then(Value::as_str) != Some("MANUAL")
}
