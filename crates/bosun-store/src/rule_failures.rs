//! EventBridge rule targets an event could not be delivered to (issue 17): a body that cannot
//! be made for the target (an `InputTransformer` rendering non-JSON, an `InputPath` matching
//! nothing, a stored definition gone bad) becomes a failure record on that target instead of a
//! silent drop. AWS counts these as `FailedInvocations` and, with a dead-letter queue, keeps
//! the event there; Bosun keeps the event with the target's rule, listable and re-drivable
//! (`BosunEvents.ListFailedInvocations`/`RedriveFailedInvocations`).
//!
//! A failure is written in the transaction that moves the rules dispatcher's cursor past its
//! event (`TopicStore::publish_from_events`), so it is recorded exactly once across crashes and
//! replicas; a redrive that renders the body publishes the message and deletes the record in
//! one transaction, so the event reaches the topic once.

use crate::topics::PublishedMessage;
use crate::Result;

/// One event one rule target could not get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTargetFailure {
    /// The SNS message id the delivery would have had (derived from event, rule and target).
    pub failure_id: String,
    pub region: String,
    pub rule_name: String,
    pub target_id: String,
    pub target_arn: String,
    pub event_id: String,
    /// The event's outbox sequence number.
    pub event_seq: i64,
    /// The whole event (its JSON envelope), to render again on a redrive.
    pub envelope: String,
    /// Why the body could not be made (the last attempt's reason).
    pub error: String,
    /// Redrives that failed again.
    pub attempts: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Rule targets' failed invocations.
pub trait RuleFailureStore {
    /// A region's failures, all or one rule's, oldest first.
    fn list_rule_target_failures(
        &self,
        region: &str,
        rule: Option<&str>,
    ) -> Result<Vec<RuleTargetFailure>>;

    /// A redrive made the body: delete the failure and publish `message` (as
    /// [`crate::TopicStore::publish`]; a topic that no longer exists gets nothing) in one
    /// transaction. `false`, and nothing published, when the failure is gone (another redrive
    /// took it).
    fn redeliver_rule_target_failure(
        &self,
        failure_id: &str,
        message: &PublishedMessage,
    ) -> Result<bool>;

    /// A redrive failed again: count it and keep `error` as the reason; `false` when the
    /// failure is gone.
    fn note_rule_target_failure(&self, failure_id: &str, error: &str, now_ms: i64) -> Result<bool>;
}
