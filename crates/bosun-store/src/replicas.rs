//! Coordination between `bosun server` replicas sharing one database: which replicas are alive
//! (a heartbeat row each), which replica holds each agent's connection (`agent_sessions`), and
//! which replica owns each active command (a lease with an epoch that fences the owner's writes).
//!
//! Times are the callers' milliseconds, like everywhere in the store. Correctness never depends
//! on clocks agreeing: a command's epoch grows with every new owner, and an owner's writes carry
//! the epoch it claimed, so a replica that lost a command (paused, cut off, its lease taken)
//! writes nothing for it. Clocks only decide when a lease counts as expired. On SQLite there is
//! one replica; the same methods work and always find it alone.

use crate::commands::{CommandRecord, InvocationRecord, PluginRecord};
use crate::Result;

/// A running server process as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaRecord {
    /// Random per process start.
    pub replica_id: String,
    pub started_ms: i64,
    /// Last sign of life; a replica is live while this is recent.
    pub heartbeat_ms: i64,
    /// A hash over its KMS keyring's keys that changes with their material (never shows it).
    pub keyring_fingerprint: String,
    /// Where the other replicas reach it (`http(s)://host:port`; `""` while unknown).
    pub url: String,
}

/// An agent's current connection: the replica that holds its websocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSession {
    pub instance_id: String,
    pub replica_id: String,
    /// Grows with every connection of the node, whatever the replica.
    pub session_epoch: i64,
    pub connected_ms: i64,
}

/// A replica's ownership of one active command, valid while the stored epoch is this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLease {
    pub command_id: String,
    pub replica_id: String,
    pub epoch: i64,
}

/// A compare-and-set of an invocation's delivery fields: written only if its stored status and
/// `dispatched_ms` are still `from_*` (so of two replicas sending one invocation, one does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryMark {
    pub command_id: String,
    pub instance_id: String,
    pub from_status: String,
    pub from_dispatched_ms: Option<i64>,
    pub status: String,
    pub status_details: String,
    pub dispatched_ms: i64,
}

/// Replicas, agent sessions and command ownership.
pub trait ReplicaStore {
    /// Record a replica's sign of life: insert it, or update its heartbeat, keyring
    /// fingerprint and URL.
    fn heartbeat_replica(&self, r: &ReplicaRecord) -> Result<()>;

    /// Replicas whose heartbeat is at or after `since_ms`, by id.
    fn live_replicas(&self, since_ms: i64) -> Result<Vec<ReplicaRecord>>;

    /// Forget replicas whose heartbeat is before `before_ms`, with their agent sessions.
    fn forget_replicas_before(&self, before_ms: i64) -> Result<()>;

    /// A replica stops (a drain on shutdown), in one step: its leases on active commands end now
    /// (any replica's next claim takes them, each with a new epoch, so a late write of the
    /// leaver is fenced), its agent sessions are no longer live and its row is gone. Its
    /// background work must have stopped first, or its next heartbeat and claim undo this.
    fn leave_replica(&self, replica_id: &str) -> Result<()>;

    /// A node connected to `replica_id`: its session replaces any other (on any replica).
    /// Returns the new session's epoch, greater than any earlier session's of the node.
    fn open_agent_session(&self, instance_id: &str, replica_id: &str, now_ms: i64) -> Result<i64>;

    /// A connection ended: remove the node's session if it is still this one (`false` when a
    /// newer session replaced it).
    fn close_agent_session(&self, instance_id: &str, replica_id: &str, epoch: i64) -> Result<bool>;

    /// Sessions held by replicas whose heartbeat is at or after `since_ms` (the nodes online
    /// somewhere), by node id.
    fn live_agent_sessions(&self, since_ms: i64) -> Result<Vec<AgentSession>>;

    /// The sessions `replica_id` holds, by node id.
    fn agent_sessions_of_replica(&self, replica_id: &str) -> Result<Vec<AgentSession>>;

    /// Renew `replica_id`'s leases on active commands until `until_ms`, and claim up to `limit`
    /// active commands without a live owner (none, or a lease that ended before `now_ms`), each
    /// with a new epoch one above the command's last. Concurrent claimers never take one
    /// command with one epoch twice. Returns every active command this replica owns.
    fn claim_commands(
        &self,
        replica_id: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> Result<Vec<CommandLease>>;

    /// [`crate::CommandStore::write_results`], only if `lease` still holds (checked and written
    /// as one step); `false` (nothing written) when another replica owns the command now.
    fn write_owned_results(
        &self,
        lease: &CommandLease,
        rows: &[(InvocationRecord, Vec<PluginRecord>)],
    ) -> Result<bool>;

    /// [`crate::CommandStore::update_command_status`], only if `lease` still holds; `false`
    /// (nothing written) otherwise.
    fn update_owned_command_status(
        &self,
        lease: &CommandLease,
        c: &CommandRecord,
        active: bool,
    ) -> Result<bool>;

    /// Apply delivery marks in one transaction; for each, whether it was written.
    fn mark_deliveries(&self, marks: &[DeliveryMark]) -> Result<Vec<bool>>;
}
