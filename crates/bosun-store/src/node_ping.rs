//! Each node's ping status as last announced by an event (`Managed Node Ping Status-change
//! Notification`): the announcement is a compare-and-set of the stored status with the event
//! appended in the same transaction, so of replicas that notice the same change at once one
//! announces it, and none is announced without being recorded or recorded without its event.

use bosun_core::events::envelope::Event;

use crate::Result;

/// A node's announced ping status and what decides the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedPing {
    pub region: String,
    pub instance_id: String,
    /// The last announced status; empty before the first.
    pub reported: String,
    pub last_ping_ms: i64,
    pub deregistered: bool,
}

pub trait NodePingStore {
    /// Every node not yet announced `Inactive`, ordered by id.
    fn reported_pings(&self) -> Result<Vec<ReportedPing>>;

    /// Record `status` as the node's announced status when it is now `expected` (any status
    /// when `None`) and differs from `status`; when the one it replaces is not empty, append
    /// `event(previous)` in the same transaction (a node's first status is recorded silently,
    /// so upgrading or registering announces nothing). Whether it changed; `false` for an
    /// unknown node.
    fn report_ping(
        &self,
        instance_id: &str,
        expected: Option<&str>,
        status: &str,
        now_ms: i64,
        event: &dyn Fn(&str) -> Event,
    ) -> Result<bool>;
}
