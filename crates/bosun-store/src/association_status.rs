//! Per-node state of associations: each (association, node)'s latest outcome
//! (`DescribeInstanceAssociationsStatus`), written with the execution that produced it and the
//! node's `Association` compliance item, and the legacy `UpdateAssociationStatus` write.
//!
//! The association's `Overview` is counted over its node rows in the transaction that changes
//! them ([`state_after_end`], [`state_after_forget`]), so it covers every node the association
//! targets, whichever execution ran each, on both engines alike.

use std::collections::BTreeMap;

use bosun_core::association_overview::overview;

use crate::{
    AssociationExecutionRecord, AssociationRecord, AssociationState, ComplianceItemRecord, Result,
};

/// One node's latest outcome of one association (AWS's `InstanceAssociationStatusInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAssociationStatus {
    pub region: String,
    pub association_id: String,
    pub instance_id: String,
    /// The association's version that ran.
    pub association_version: i64,
    /// The document version that ran.
    pub document_version: String,
    /// The execution that produced it (empty when written by `UpdateAssociationStatus`).
    pub execution_id: String,
    /// `ExecutionDate`; a write older than the stored one is dropped.
    pub execution_ms: i64,
    /// `Success`, `Failed`, `Pending`, ...
    pub status: String,
    pub detailed_status: String,
    /// Empty when none.
    pub error_code: String,
    pub execution_summary: String,
    /// `AssociationStatus.AdditionalInfo` of `UpdateAssociationStatus`; empty when none.
    pub additional_info: String,
}

/// An association's `AssociationStatus` (name, message, date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusValue {
    pub name: String,
    pub message: String,
    pub date_ms: i64,
}

/// What [`AssociationStatusStore::set_association_status`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    Written,
    /// The association's status was no longer the expected one (a concurrent update).
    Conflict,
    NoSuchAssociation,
}

/// Per-node association state.
pub trait AssociationStatusStore {
    /// End an execution in one transaction: write `e` and `state` as
    /// [`crate::AssociationRunStore::update_association_execution`] does and, when the
    /// association still exists, each of `nodes` and each of `compliance` (upserted by key, as
    /// a partial upload) unless the stored row is newer (`execution_ms`, resp.
    /// `execution_time_ms`, greater than the new one's). The association's `Overview` is then
    /// counted over all its node rows ([`state_after_end`]), with or without `state`.
    fn end_association_execution(
        &self,
        e: &AssociationExecutionRecord,
        state: Option<&AssociationState>,
        nodes: &[NodeAssociationStatus],
        compliance: &[ComplianceItemRecord],
    ) -> Result<()>;

    /// The stored statuses of a node's associations in a region, by association id.
    fn node_association_statuses(
        &self,
        region: &str,
        instance_id: &str,
    ) -> Result<Vec<NodeAssociationStatus>>;

    /// Every (association id, node id) of `region` that has a node row, sorted.
    fn association_nodes_in_region(&self, region: &str) -> Result<Vec<(String, String)>>;

    /// Forget nodes the association no longer targets (untagged, deregistered), in one
    /// transaction: their node rows, their records of having its versions applied (a node that
    /// matches again gets it again), and, when `drop_compliance`, their `Association`
    /// compliance items for it; then its `Overview` is counted over the nodes left
    /// ([`state_after_forget`]). The number of node rows removed; 0 for an association that no
    /// longer exists.
    fn forget_association_nodes(
        &self,
        region: &str,
        association_id: &str,
        instance_ids: &[String],
        drop_compliance: bool,
    ) -> Result<usize>;

    /// Set an association's `AssociationStatus` to `new` and write `node`'s row, when its
    /// status is still `expected`; atomically (of concurrent writers expecting the same
    /// status exactly one succeeds).
    fn set_association_status(
        &self,
        region: &str,
        association_id: &str,
        expected: &StatusValue,
        new: &StatusValue,
        node: &NodeAssociationStatus,
    ) -> Result<StatusChange>;
}

/// Count `s`'s overview over `nodes` (left as it is when there are none).
fn set_overview(s: &mut AssociationState, nodes: &[&NodeAssociationStatus], latest: (&str, &str)) {
    let counted = overview(
        nodes
            .iter()
            .map(|n| (n.status.as_str(), n.detailed_status.as_str())),
        latest,
    );
    if let Some(o) = counted {
        s.overview_status = o.status;
        s.overview_detailed_status = o.detailed_status;
        s.overview_counts_json = serde_json::to_string(&o.counts).unwrap_or_else(|_| "{}".into());
    }
}

/// The state an execution's end writes for `a` (as stored in the ending transaction):
/// `given` (the roll-up's, for the association's latest execution) or else the stored state,
/// with its `Overview` counted over every node's latest row once `nodes` are written over
/// `stored` (newer wins, as the write does). A given state never moves `last_execution_ms`
/// back (a firing may have happened since it was read).
pub fn state_after_end(
    a: &AssociationRecord,
    given: Option<&AssociationState>,
    e: &AssociationExecutionRecord,
    stored: &[NodeAssociationStatus],
    nodes: &[NodeAssociationStatus],
) -> AssociationState {
    let mut s = given.cloned().unwrap_or_else(|| a.state.clone());
    s.last_execution_ms = s.last_execution_ms.max(a.state.last_execution_ms);
    let mut latest: BTreeMap<&str, &NodeAssociationStatus> =
        stored.iter().map(|n| (n.instance_id.as_str(), n)).collect();
    for n in nodes {
        let newer = latest
            .get(n.instance_id.as_str())
            .is_none_or(|old| old.execution_ms <= n.execution_ms);
        if newer {
            latest.insert(n.instance_id.as_str(), n);
        }
    }
    let rows: Vec<&NodeAssociationStatus> = latest.into_values().collect();
    set_overview(&mut s, &rows, (&e.status, &e.detailed_status));
    s
}

/// The state of `a` once the nodes not in `left` (its remaining node rows) are forgotten:
/// the `Overview` counted over `left`, or, with no node left, the same status with no counts.
pub fn state_after_forget(
    a: &AssociationRecord,
    left: &[NodeAssociationStatus],
) -> AssociationState {
    let mut s = a.state.clone();
    let rows: Vec<&NodeAssociationStatus> = left.iter().collect();
    let latest = (
        s.overview_status.clone(),
        s.overview_detailed_status.clone(),
    );
    if rows.is_empty() {
        s.overview_counts_json = "{}".into();
    } else {
        set_overview(&mut s, &rows, (&latest.0, &latest.1));
    }
    s
}
