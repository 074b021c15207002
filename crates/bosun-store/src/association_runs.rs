//! Executions of State Manager associations: one row per firing of an association, keyed by
//! its slot (the scheduled time it stands for). A slot fires at most once: the row and the
//! Run Command command it starts are written in one transaction, and a second firing of the
//! same (region, association, slot) — another scheduler, a restart — writes nothing.
//!
//! Each node a version of an association was applied to (its command targeted the node) is
//! recorded with the firing, so a node that newly matches the targets gets that version once:
//! [`AssociationRunStore::fire_association_on_new_nodes`] writes nothing when any of its nodes
//! already has it.

use crate::{AssociationState, CommandRecord, InvocationRecord, PluginRecord, Result};

/// One execution of an association (AWS's `AssociationExecution`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationExecutionRecord {
    pub region: String,
    pub association_id: String,
    /// A UUID.
    pub execution_id: String,
    /// The association's version that ran.
    pub association_version: i64,
    /// The scheduled time this execution stands for (unique per association).
    pub slot_ms: i64,
    /// The Run Command command that carries it out (`OutputSource.OutputSourceId`).
    pub command_id: String,
    /// `Pending`, `InProgress`, `Success`, `Failed`, ...
    pub status: String,
    pub detailed_status: String,
    pub created_ms: i64,
    pub last_update_ms: i64,
    /// Targets per status as a JSON object (`{"Success":2}`), `{}` while none ended.
    pub resource_counts_json: String,
}

/// The statuses of an execution that still waits for its command.
pub const OPEN_EXECUTION_STATUSES: [&str; 2] = ["Pending", "InProgress"];

/// A command to create with an execution: the command, its invocations and their plugins.
#[derive(Debug, Clone, Copy)]
pub struct NewCommand<'a> {
    pub command: &'a CommandRecord,
    pub invocations: &'a [InvocationRecord],
    pub plugins: &'a [PluginRecord],
}

/// Executions of associations.
pub trait AssociationRunStore {
    /// Record execution `e` and create its command `c` (as
    /// [`crate::CommandStore::create_command`]; `None` for an execution that could not start a
    /// command, recorded as failed) in one transaction, and set the association's
    /// `last_execution_ms` to `e.created_ms`. The command's nodes are recorded as having
    /// the association's version `e.association_version` (nodes that already had it stay as
    /// they are; records of older versions are dropped).
    ///
    /// `false`, writing nothing, when the association already has an execution for
    /// `e.slot_ms` (atomic: of concurrent firings of one slot exactly one returns `true`), or
    /// when the association does not exist (deleted meanwhile).
    fn fire_association(
        &self,
        e: &AssociationExecutionRecord,
        c: Option<NewCommand<'_>>,
    ) -> Result<bool>;

    /// [`AssociationRunStore::fire_association`] for each of `firings`, in order, all in one
    /// transaction (one commit for a whole slot's worth of associations): whether each fired.
    /// Each firing is decided on its own exactly as alone (`false` for a slot already taken
    /// or an association gone, writing nothing for it); the batch is atomic, so a crash leaves
    /// either all of its firings stored or none.
    fn fire_associations(
        &self,
        firings: &[(AssociationExecutionRecord, Option<NewCommand<'_>>)],
    ) -> Result<Vec<bool>>;

    /// As [`AssociationRunStore::fire_association`] for an execution that applies the
    /// association's version `e.association_version` to nodes that newly match its targets:
    /// `false`, writing nothing, also when that is no longer the association's latest version
    /// or when any of the command's nodes already has that version applied.
    fn fire_association_on_new_nodes(
        &self,
        e: &AssociationExecutionRecord,
        c: NewCommand<'_>,
    ) -> Result<bool>;

    /// The nodes the association's version `version` was applied to (a firing's command
    /// targeted them), sorted.
    fn association_applied_nodes(
        &self,
        region: &str,
        association_id: &str,
        version: i64,
    ) -> Result<Vec<String>>;

    /// Executions of an association, latest slot first, at most `limit`.
    fn association_executions(
        &self,
        region: &str,
        association_id: &str,
        limit: usize,
    ) -> Result<Vec<AssociationExecutionRecord>>;

    /// The latest slot that fired of each association of `region` whose id is between
    /// `from_id` and `to_id` (both included, ids compared bytewise as
    /// [`crate::AssociationStore::list_associations`] pages them), sorted by id; associations
    /// that never fired are left out. What `association_executions(.., 1)` gives for each,
    /// for a page of associations in one read.
    fn latest_association_slots(
        &self,
        region: &str,
        from_id: &str,
        to_id: &str,
    ) -> Result<Vec<(String, i64)>>;

    /// Executions of every region whose status is one of [`OPEN_EXECUTION_STATUSES`], oldest
    /// first.
    fn open_association_executions(&self) -> Result<Vec<AssociationExecutionRecord>>;

    /// Write an execution's status, detailed status, counts and `last_update_ms`, and, when
    /// `state` is given, the association's run state, in one transaction. Nothing happens for
    /// an execution (or association) that no longer exists.
    fn update_association_execution(
        &self,
        e: &AssociationExecutionRecord,
        state: Option<&AssociationState>,
    ) -> Result<()>;
}
