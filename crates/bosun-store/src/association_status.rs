//! Per-node state of associations: each (association, node)'s latest outcome
//! (`DescribeInstanceAssociationsStatus`), written with the execution that produced it and the
//! node's `Association` compliance item, and the legacy `UpdateAssociationStatus` write.

use crate::{AssociationExecutionRecord, AssociationState, ComplianceItemRecord, Result};

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
    /// `execution_time_ms`, greater than the new one's).
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
