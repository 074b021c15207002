//! Compliance items of resources (`PutComplianceItems`): per (region, resource, compliance
//! type) the latest upload's items, and the content hash it was sent with.

use crate::Result;

/// One stored compliance item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceItemRecord {
    pub region: String,
    pub resource_type: String,
    pub resource_id: String,
    pub compliance_type: String,
    /// The item's id within its type (may be empty: AWS makes it optional).
    pub id: String,
    pub title: String,
    /// `COMPLIANT` or `NON_COMPLIANT`.
    pub status: String,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFORMATIONAL` or `UNSPECIFIED`.
    pub severity: String,
    /// `Details` as a JSON object text.
    pub details: String,
    pub execution_id: String,
    pub execution_type: String,
    pub execution_time_ms: i64,
}

/// How an upload changes a resource's items of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMode {
    /// The upload is the whole list: every other item of the type goes.
    Complete,
    /// The upload replaces only the items with the same ids.
    Partial,
}

/// What [`ComplianceStore::put_compliance_items`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplianceOutcome {
    Stored,
    /// The content hash equals the stored one: nothing was written.
    Unchanged,
    /// The resource would hold more than the allowed number of compliance types.
    TooManyTypes,
}

/// Compliance items.
pub trait ComplianceStore {
    /// Store one upload of `items` (all of `resource`'s `compliance_type`, in one region) as
    /// `mode` says, with `content_hash`; atomically. When `content_hash` is given and equals
    /// the hash stored by the previous upload of this type, nothing changes (`Unchanged`).
    /// When a `Custom:` type would make the resource hold more than `max_types` custom types,
    /// nothing changes (`TooManyTypes`); concurrent uploads never exceed it. Other types
    /// (`Association`, `Patch`) are not counted. An upload with no items
    /// in `Complete` mode removes the type's items.
    #[allow(clippy::too_many_arguments)]
    fn put_compliance_items(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        compliance_type: &str,
        items: &[ComplianceItemRecord],
        mode: UploadMode,
        content_hash: Option<&str>,
        max_types: usize,
    ) -> Result<ComplianceOutcome>;

    /// Every compliance item of a region, ordered by resource type, resource id, compliance
    /// type, then item id.
    fn compliance_items(&self, region: &str) -> Result<Vec<ComplianceItemRecord>>;
}
