//! Run Command state: commands, their per-node invocations and per-step plugin results.
//!
//! A command and all its invocations are written in one transaction before `SendCommand`
//! returns; every later state change is its own transaction. A terminal invocation status
//! (`Success`, `Failed`, `TimedOut`, `Cancelled`) is never overwritten: every update is
//! conditional on the stored status still being live, so concurrent writers cannot undo a result.
//!
//! Every change of a command's or invocation's `Status` written here (creation included) writes
//! its AWS event into the outbox in the same transaction ([`crate::EventOutboxStore`]); a write
//! that leaves the status as it was emits nothing.

use bosun_core::command::notification::CommandNotification;

use crate::{CallRecords, Result};

/// A command as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    pub region: String,
    pub command_id: String,
    pub document_name: String,
    pub document_version: String,
    pub document_hash: String,
    pub comment: String,
    /// The accepted request's echo fields (Parameters, InstanceIds, Targets, output and
    /// notification settings) as JSON, returned verbatim in `Command`.
    pub request_json: String,
    /// The resolved steps (JSON list of `StepPlan`).
    pub steps_json: String,
    pub requested_ms: i64,
    pub expires_ms: i64,
    pub timeout_seconds: i64,
    pub max_concurrency: String,
    pub max_errors: String,
    pub status: String,
    pub status_details: String,
    pub target_count: i64,
    pub completed_count: i64,
    pub error_count: i64,
    pub delivery_timed_out_count: i64,
    pub cancel_requested: bool,
    /// The request's `NotificationConfig` with its `ServiceRoleArn`, when it asked for SNS
    /// notifications (stored in the `notification` column as JSON, `''` for none).
    pub notification: Option<CommandNotification>,
}

/// The `notification` column's text for `n` (`''` for none).
pub fn notification_column(n: &Option<CommandNotification>) -> String {
    n.as_ref()
        .and_then(|n| serde_json::to_string(n).ok())
        .unwrap_or_default()
}

/// The settings a `notification` column holds.
pub fn notification_from_column(
    text: &str,
) -> std::result::Result<Option<CommandNotification>, serde_json::Error> {
    if text.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text).map(Some)
}

/// One node's share of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationRecord {
    pub command_id: String,
    pub instance_id: String,
    /// Dispatch order (targets are started in this order).
    pub seq: i64,
    pub instance_name: String,
    pub status: String,
    pub status_details: String,
    /// When it was last sent to the agent; `None` = never sent.
    pub dispatched_ms: Option<i64>,
    /// The agent persisted it.
    pub acked: bool,
    pub response_code: i64,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

/// The statuses an invocation may still leave; every other status is terminal.
pub const LIVE_INVOCATION_STATUSES: [&str; 4] = ["Pending", "InProgress", "Delayed", "Cancelling"];

/// A command's invocations as an orchestrator pass needs them
/// ([`CommandStore::live_invocations`]): the live ones whole, the ended ones counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationDigest {
    /// The invocations whose status is live ([`LIVE_INVOCATION_STATUSES`]), in dispatch order.
    pub live: Vec<InvocationRecord>,
    /// How many invocations ended with each (status, status details), ordered by status, then
    /// details (byte order).
    pub ended: Vec<EndedInvocations>,
}

/// How many of a command's invocations ended with one (status, status details).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedInvocations {
    pub status: String,
    pub status_details: String,
    pub count: i64,
}

impl InvocationDigest {
    /// The digest of a command's invocations (in dispatch order).
    pub fn of(invocations: Vec<InvocationRecord>) -> InvocationDigest {
        let mut ended = std::collections::BTreeMap::<(String, String), i64>::new();
        let mut live = Vec::new();
        for i in invocations {
            if LIVE_INVOCATION_STATUSES.contains(&i.status.as_str()) {
                live.push(i);
            } else {
                *ended.entry((i.status, i.status_details)).or_default() += 1;
            }
        }
        InvocationDigest {
            live,
            ended: ended
                .into_iter()
                .map(|((status, status_details), count)| EndedInvocations {
                    status,
                    status_details,
                    count,
                })
                .collect(),
        }
    }
}

/// One step's result on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRecord {
    pub command_id: String,
    pub instance_id: String,
    pub seq: i64,
    pub name: String,
    pub status: String,
    pub status_details: String,
    pub response_code: i64,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: i64,
    pub stderr_bytes: i64,
    pub detail: String,
}

/// Commands, invocations and plugin results.
pub trait CommandStore {
    /// Persist a new command with all its invocations and their (pending) plugins; atomic:
    /// all of them or none (an id already taken fails the whole call).
    fn create_command(
        &self,
        c: &CommandRecord,
        invocations: &[InvocationRecord],
        plugins: &[PluginRecord],
    ) -> Result<()> {
        self.create_command_audited(c, invocations, plugins, CallRecords::default())
    }

    /// [`CommandStore::create_command`], writing the records of the call that created it (its
    /// audit record, its answer for retries) in the same transaction: one commit, and the
    /// records exist exactly when the command does. The audit record is chained as by
    /// [`crate::AuditStore::append_audit`], serialised with every other append.
    fn create_command_audited(
        &self,
        c: &CommandRecord,
        invocations: &[InvocationRecord],
        plugins: &[PluginRecord],
        records: CallRecords,
    ) -> Result<()>;

    /// A command of a region.
    fn get_command(&self, region: &str, command_id: &str) -> Result<Option<CommandRecord>>;

    /// Commands of a region, newest first (then by id).
    fn list_commands(&self, region: &str) -> Result<Vec<CommandRecord>>;

    /// Commands that still have work to do (the orchestrator's worklist), oldest first.
    fn active_commands(&self) -> Result<Vec<CommandRecord>>;

    /// Record a command's aggregate status and counts; `active = false` retires it. Never
    /// changes `cancel_requested` (only [`CommandStore::request_cancel`] sets it), and a cancel
    /// requested after `c` was read (stored true, `c.cancel_requested` false) keeps the command
    /// active whatever `active` says: checked and written as one step, so no cancel is lost.
    fn update_command_status(&self, c: &CommandRecord, active: bool) -> Result<()>;

    /// Mark a command for cancellation and make it active again so the orchestrator acts.
    fn request_cancel(&self, command_id: &str) -> Result<()>;

    /// A command's invocations in dispatch order.
    fn invocations(&self, command_id: &str) -> Result<Vec<InvocationRecord>>;

    /// A command's live invocations in dispatch order and its ended ones counted by (status,
    /// status details), read together (one snapshot: every invocation is in exactly one of
    /// the two). What an orchestrator pass reads, so a pass over a command that is mostly done
    /// does not read every invocation whole.
    fn live_invocations(&self, command_id: &str) -> Result<InvocationDigest> {
        Ok(InvocationDigest::of(self.invocations(command_id)?))
    }

    /// One node's invocation of a command.
    fn invocation(&self, command_id: &str, instance_id: &str) -> Result<Option<InvocationRecord>>;

    /// The invocations of these (command, node) pairs that exist, in no given order, each
    /// once: one read for a batch of agent reports instead of one per report.
    fn invocations_of_pairs(&self, pairs: &[(String, String)]) -> Result<Vec<InvocationRecord>> {
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        for (command_id, instance_id) in pairs.iter().filter(|p| seen.insert(*p)) {
            found.extend(self.invocation(command_id, instance_id)?);
        }
        Ok(found)
    }

    /// The plugin results of these (command, node) pairs, each pair's in step order, each
    /// pair once (as [`CommandStore::invocations_of_pairs`]).
    fn plugins_of_pairs(&self, pairs: &[(String, String)]) -> Result<Vec<PluginRecord>> {
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        for (command_id, instance_id) in pairs.iter().filter(|p| seen.insert(*p)) {
            found.extend(self.plugins(command_id, instance_id)?);
        }
        Ok(found)
    }

    /// Invocations of one node (by command id), for `ListCommandInvocations` by node.
    fn invocations_of_instance(&self, instance_id: &str) -> Result<Vec<InvocationRecord>>;

    /// Write an invocation's mutable fields (as [`CommandStore::write_results`]).
    fn update_invocation(&self, i: &InvocationRecord) -> Result<()> {
        self.update_invocations(std::slice::from_ref(i))
    }

    /// Write many invocations' mutable fields in one transaction (as
    /// [`CommandStore::write_results`]).
    fn update_invocations(&self, list: &[InvocationRecord]) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        let rows: Vec<(InvocationRecord, Vec<PluginRecord>)> =
            list.iter().map(|i| (i.clone(), Vec::new())).collect();
        self.write_results(&rows)
    }

    /// Write many invocations with their plugin results, atomically.
    ///
    /// Each invocation is written only if its stored status is still live (`Pending`,
    /// `InProgress`, `Delayed`, `Cancelling`), checked and written as one step, so concurrent
    /// writers never overwrite a terminal status; its plugins are written only with it (a result
    /// for an invocation that is already terminal changes nothing). Plugins replace any stored
    /// with the same (command, node, seq).
    fn write_results(&self, rows: &[(InvocationRecord, Vec<PluginRecord>)]) -> Result<()>;

    /// Write an invocation together with its plugin results (as [`CommandStore::write_results`]).
    fn update_invocation_with_plugins(
        &self,
        i: &InvocationRecord,
        plugins: &[PluginRecord],
    ) -> Result<()> {
        self.write_results(&[(i.clone(), plugins.to_vec())])
    }

    /// One node's plugin results for a command, by step order.
    fn plugins(&self, command_id: &str, instance_id: &str) -> Result<Vec<PluginRecord>>;

    /// Ids of active commands that have an invocation on this node.
    fn open_commands_of_instance(&self, instance_id: &str) -> Result<Vec<String>>;
}
