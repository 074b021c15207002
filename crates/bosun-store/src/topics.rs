//! SNS-compatible topics: topics, their subscriptions, and the delivery queue that carries
//! subscription confirmations and published messages to http/https endpoints.
//!
//! A topic's tags live in the tags area (resource type [`TOPIC_TAG_TYPE`], id = the topic's
//! name), written and removed with the topic. A delivery row is written in the same
//! transaction as what caused it (a subscription's confirmation request, a publish), so a
//! caller that got an answer knows the delivery exists; the delivery task claims rows with a
//! lease (one sender per attempt, also across replicas) and deletes a row once sent. A row
//! whose retries are used up stays, marked failed (a dead-letter record), never silently lost.

use crate::Result;

/// The resource type under which a topic's tags are kept in the tags area.
pub const TOPIC_TAG_TYPE: &str = "SnsTopic";

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRecord {
    pub region: String,
    pub name: String,
    pub display_name: String,
    /// The access policy JSON as set; empty = the default policy.
    pub policy: String,
    /// The `DeliveryPolicy` JSON as set; empty = none.
    pub delivery_policy: String,
    pub created_ms: i64,
}

/// A topic attribute that can be changed after creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicAttribute {
    DisplayName,
    Policy,
    DeliveryPolicy,
}

/// One subscription of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    pub region: String,
    /// The UUID ending the subscription's ARN.
    pub subscription_id: String,
    pub topic_name: String,
    /// `http` or `https`.
    pub protocol: String,
    pub endpoint: String,
    /// The endpoint confirmed it (`ConfirmSubscription` with its token).
    pub confirmed: bool,
    /// The confirmation token sent to the endpoint.
    pub token: String,
    pub raw_message_delivery: bool,
    /// A subscription's template (Bosun's `BosunTemplate*` attributes) as JSON text; empty:
    /// AWS's mail and http bodies.
    pub delivery_template: String,
    /// Bosun's URL as the subscription's creator reached it: the base of the SubscribeURL
    /// and UnsubscribeURL sent to the endpoint.
    pub base_url: String,
    pub created_ms: i64,
}

/// What a delivery carries.
pub const CONFIRMATION: &str = "SubscriptionConfirmation";
pub const NOTIFICATION: &str = "Notification";

/// One message on its way to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// `<message id>:<subscription id>`, unique.
    pub delivery_id: String,
    pub region: String,
    pub subscription_id: String,
    pub topic_name: String,
    /// [`CONFIRMATION`] or [`NOTIFICATION`].
    pub kind: String,
    pub message_id: String,
    pub subject: Option<String>,
    pub message: String,
    /// The message attributes as a JSON object (`{"name": {"Type":…, "Value":…}}`).
    pub message_attributes: String,
    pub created_ms: i64,
    /// Failed attempts so far.
    pub attempts: i64,
    pub next_attempt_ms: i64,
    /// Retries used up: kept as a dead-letter record, never claimed again.
    pub failed: bool,
    /// Why the last attempt failed (empty before any failure), credentials in URLs masked.
    pub last_error: String,
}

/// A published message, fanned out by [`TopicStore::publish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedMessage {
    pub region: String,
    pub topic_name: String,
    pub message_id: String,
    pub subject: Option<String>,
    pub message: String,
    pub message_attributes: String,
    pub published_ms: i64,
}

/// Topics, subscriptions and deliveries.
pub trait TopicStore {
    /// Create a topic with its tags in one transaction; `StoreError::AlreadyExists` when the
    /// region has a topic of that name (also when two creations race: one wins).
    fn create_topic(&self, topic: &TopicRecord, tags: &[(String, String)]) -> Result<()>;

    /// One topic.
    fn get_topic(&self, region: &str, name: &str) -> Result<Option<TopicRecord>>;

    /// Every topic of a region, by name (byte order).
    fn list_topics(&self, region: &str) -> Result<Vec<TopicRecord>>;

    /// Change one attribute; `false` when the topic does not exist.
    fn set_topic_attribute(
        &self,
        region: &str,
        name: &str,
        attribute: TopicAttribute,
        value: &str,
    ) -> Result<bool>;

    /// Delete a topic with its tags, subscriptions and pending deliveries in one transaction;
    /// `false` when it did not exist.
    fn delete_topic(&self, region: &str, name: &str) -> Result<bool>;

    /// Add a subscription and, for a pending one, its confirmation delivery, in one
    /// transaction; `StoreError::NotFound` when the topic does not exist (also when it is
    /// deleted concurrently), `StoreError::AlreadyExists` when the topic has a subscription of
    /// that protocol and endpoint (also when two subscriptions race: one wins).
    fn add_subscription(
        &self,
        subscription: &SubscriptionRecord,
        confirmation: Option<&DeliveryRecord>,
    ) -> Result<()>;

    /// Queue one more delivery for an existing subscription (a pending subscription's
    /// confirmation sent again); `false` when the subscription does not exist.
    fn queue_delivery(&self, delivery: &DeliveryRecord) -> Result<bool>;

    /// One subscription.
    fn get_subscription(&self, region: &str, id: &str) -> Result<Option<SubscriptionRecord>>;

    /// A region's subscriptions, or one topic's, by (topic name, creation time, id).
    fn list_subscriptions(
        &self,
        region: &str,
        topic: Option<&str>,
    ) -> Result<Vec<SubscriptionRecord>>;

    /// Confirm the subscription of `topic` whose token is `token`; the subscription after the
    /// change (already confirmed ones are returned as they are), or `None` when no
    /// subscription of that topic has that token.
    fn confirm_subscription(
        &self,
        region: &str,
        topic: &str,
        token: &str,
    ) -> Result<Option<SubscriptionRecord>>;

    /// Set `RawMessageDelivery`; `false` when the subscription does not exist.
    fn set_raw_message_delivery(&self, region: &str, id: &str, raw: bool) -> Result<bool>;

    /// Set a subscription's template (JSON text, empty for none); `false` when
    /// the subscription does not exist.
    fn set_delivery_template(&self, region: &str, id: &str, template: &str) -> Result<bool>;

    /// Delete a subscription and its pending deliveries; `false` when it did not exist.
    fn delete_subscription(&self, region: &str, id: &str) -> Result<bool>;

    /// Write one delivery per *confirmed* subscription of the message's topic, in one
    /// transaction that sees a consistent set of subscriptions; the number written, or `None`
    /// when the topic does not exist.
    fn publish(&self, message: &PublishedMessage) -> Result<Option<usize>>;

    /// The event dispatcher's step: move `consumer`'s event cursor from `from_seq` to `to_seq`
    /// (as [`crate::EventOutboxStore::advance_event_cursor`] does), publish `messages` (as
    /// [`TopicStore::publish`]; a topic that no longer exists gets nothing) and record
    /// `failures` (rule targets whose body could not be made; one per `failure_id`) in ONE
    /// transaction, so an event's messages and failures are written exactly once whatever
    /// crashes. `false`, and nothing written, when another writer moved the cursor first.
    fn publish_from_events(
        &self,
        consumer: &str,
        from_seq: i64,
        to_seq: i64,
        now_ms: i64,
        messages: &[PublishedMessage],
        failures: &[crate::RuleTargetFailure],
    ) -> Result<bool>;

    /// Lease up to `limit` deliveries that are due (`next_attempt_ms <= now_ms`), not failed,
    /// and not leased by anyone else (or whose lease expired) to `owner` until `until_ms`,
    /// oldest first. Concurrent claimers never get the same row.
    fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>>;

    /// Put off a delivery `owner` holds until `next_attempt_ms` without counting an attempt,
    /// releasing the lease (a grouped subscription's window is not over yet, or the delivery
    /// goes with its group's next try); `false` unless `owner` held it.
    fn postpone_delivery(
        &self,
        delivery_id: &str,
        owner: &str,
        next_attempt_ms: i64,
    ) -> Result<bool>;

    /// Lease to `owner` until `until_ms` every notification (not confirmation) of one
    /// subscription created at or before `created_to_ms` that is not failed and not leased by
    /// another owner (an expired lease is none; `owner`'s own leases are kept), oldest first,
    /// at most `limit`: a grouped subscription's burst, sent as one message.
    #[allow(clippy::too_many_arguments)]
    fn claim_subscription_deliveries(
        &self,
        region: &str,
        subscription_id: &str,
        created_to_ms: i64,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>>;

    /// A delivery was sent: delete it, if `owner` still holds its lease.
    fn finish_delivery(&self, delivery_id: &str, owner: &str) -> Result<bool>;

    /// An attempt failed for `error`: count it, keep the reason and release the lease; due
    /// again at `next_attempt_ms`, or marked failed (dead letter) when `None`. Only while
    /// `owner` holds the lease.
    fn retry_delivery(
        &self,
        delivery_id: &str,
        owner: &str,
        next_attempt_ms: Option<i64>,
        error: &str,
    ) -> Result<bool>;

    /// Make a region's failed deliveries (dead letters) — all, or one topic's — due again now
    /// with their attempts counted from zero; how many.
    fn redrive_deliveries(&self, region: &str, topic: Option<&str>, now_ms: i64) -> Result<usize>;

    /// Every delivery of a region still stored (pending or failed), oldest first.
    fn list_deliveries(&self, region: &str) -> Result<Vec<DeliveryRecord>>;
}
