//! State Manager associations: one row per association (its latest definition, which the
//! list filters read, and its run state: status, overview, last execution times) and one per
//! version of its definition (every update adds one; numbers start at 1 and never repeat).
//!
//! The run-state columns are written at creation and kept by updates; the scheduler that runs
//! associations (later) owns them. Tags of an association are `TagStore` rows of resource type
//! `Association`, written with the creation and removed with the deletion.

use crate::Result;

/// What a version of an association says to do. Fields the API echoes but no query reads
/// (`Parameters`, `Targets`, `MaxConcurrency`, `MaxErrors`, `ComplianceSeverity`,
/// `SyncCompliance`) are kept together as a JSON object in `spec_json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationDefinition {
    /// The document's name.
    pub name: String,
    /// `$LATEST`, `$DEFAULT` or a number; empty when the request named none.
    pub document_version: String,
    /// The legacy `InstanceId` form's node; empty for `Targets` associations.
    pub instance_id: String,
    /// Empty when none.
    pub association_name: String,
    /// Empty when none.
    pub schedule_expression: String,
    pub apply_only_at_cron_interval: bool,
    /// `ScheduleOffset` in days; 0 when none.
    pub schedule_offset: i64,
    /// `Duration` in hours; 0 when none.
    pub duration_hours: i64,
    pub spec_json: String,
}

/// The run state of an association (the scheduler's, once it exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationState {
    /// `AssociationStatus.Name`, `.Message` and `.Date`.
    pub status_name: String,
    pub status_message: String,
    pub status_date_ms: i64,
    /// `Overview.Status`, `.DetailedStatus`, and `.AssociationStatusAggregatedCount` as a JSON
    /// object (`{}` when none).
    pub overview_status: String,
    pub overview_detailed_status: String,
    pub overview_counts_json: String,
    pub last_execution_ms: Option<i64>,
    pub last_successful_execution_ms: Option<i64>,
}

/// An association with its latest definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationRecord {
    pub region: String,
    pub association_id: String,
    /// The latest version's number.
    pub version: i64,
    pub created_ms: i64,
    /// When the latest version was written (`LastUpdateAssociationDate`).
    pub updated_ms: i64,
    pub definition: AssociationDefinition,
    pub state: AssociationState,
}

/// One version of an association's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationVersionRecord {
    pub version: i64,
    pub created_ms: i64,
    pub definition: AssociationDefinition,
}

/// Conditions of [`AssociationStore::list_associations`]; every `Some` must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssociationFilter {
    /// The document's name, exactly.
    pub name: Option<String>,
    pub association_id: Option<String>,
    pub association_name: Option<String>,
    /// The legacy form's node (associations by `Targets` never match).
    pub instance_id: Option<String>,
    /// `Overview.Status`, exactly.
    pub overview_status: Option<String>,
    /// Last executed strictly before / after (never-executed associations never match).
    pub last_executed_before_ms: Option<i64>,
    pub last_executed_after_ms: Option<i64>,
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateAssociation {
    /// The new latest version is stored; the association as it now is.
    Updated(Box<AssociationRecord>),
    NoSuchAssociation,
    /// The caller expected another latest version (its number is given).
    VersionMismatch(i64),
    /// The association has `max_versions` versions.
    LimitExceeded,
}

/// Associations and their versions.
pub trait AssociationStore {
    /// Store a new association as version 1 (`a.version` and `a.updated_ms` are ignored: 1 and
    /// `a.created_ms`) with its tags, atomically.
    ///
    /// Errors: `LimitExceeded` when the region already holds `max_associations`;
    /// `AlreadyExists` when it is a legacy association (`instance_id` set) and the region has
    /// one for the same document and node. Serialised with other creations: concurrent
    /// creations never exceed the limit, and of two for one document and node exactly one
    /// succeeds.
    fn create_association(
        &self,
        a: &AssociationRecord,
        tags: &[(String, String)],
        max_associations: usize,
    ) -> Result<()>;

    /// An association of a region by id.
    fn get_association(
        &self,
        region: &str,
        association_id: &str,
    ) -> Result<Option<AssociationRecord>>;

    /// The legacy association of a document and a node.
    fn association_of_node(
        &self,
        region: &str,
        name: &str,
        instance_id: &str,
    ) -> Result<Option<AssociationRecord>>;

    /// Associations of a region matching `filter`, by id, starting after the id `after`, at
    /// most `limit`.
    fn list_associations(
        &self,
        region: &str,
        filter: &AssociationFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AssociationRecord>>;

    /// One version of an association.
    fn association_version(
        &self,
        region: &str,
        association_id: &str,
        version: i64,
    ) -> Result<Option<AssociationVersionRecord>>;

    /// Versions of an association after the number `after` (0: from the first), oldest first,
    /// at most `limit`.
    fn association_versions(
        &self,
        region: &str,
        association_id: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AssociationVersionRecord>>;

    /// Store `definition` as the next version (latest + 1) at `now_ms`, when the latest
    /// version is `expected_version` (any when `None`) and the association has fewer than
    /// `max_versions` versions. The run state is kept.
    ///
    /// Atomic and serialised per association: of concurrent updates expecting the same
    /// version exactly one succeeds, and concurrent updates get distinct numbers. Errors:
    /// `AlreadyExists` when the new definition is a legacy association whose document and
    /// node another association has.
    fn update_association(
        &self,
        region: &str,
        association_id: &str,
        expected_version: Option<i64>,
        definition: &AssociationDefinition,
        now_ms: i64,
        max_versions: usize,
    ) -> Result<UpdateAssociation>;

    /// Delete an association with its versions, tags, executions, node statuses and the
    /// `Association` compliance items naming it, atomically; `false` when it did not exist.
    fn delete_association(&self, region: &str, association_id: &str) -> Result<bool>;
}
