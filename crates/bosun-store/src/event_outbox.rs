//! The event outbox: every event Bosun emits (AWS's envelope, built by
//! `bosun_core::events::envelope`), written in the same transaction as the change it reports,
//! so a crash loses neither or keeps both; and the cursors of the consumers that read it.
//!
//! Events are numbered by a sequence (`seq`) that grows with every event. A consumer reads the
//! events after the last `seq` it handled ([`EventOutboxStore::events_after`]) and then moves
//! its cursor with a compare-and-set ([`EventOutboxStore::advance_event_cursor`]), so of two
//! consumers sharing a name one wins. **Ordering promise:** an event is never visible before
//! every event with a lower `seq` is (each engine makes commit order follow `seq` order), so a
//! reader that moves its cursor past what it read never skips an event that commits late.
//!
//! Which changes emit: every change of a Run Command command's or invocation's API `Status`
//! (including `Pending` when it is created), and Parameter Store changes. The engines build
//! the events with the helpers below from the stored state they write.

use std::sync::RwLock;

use bosun_core::events::envelope::{self, CommandFacts, Event, Origin};
use serde_json::Value;

use crate::commands::CommandRecord;
use crate::{CallRecords, Result};

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Its place in the outbox: greater than every event stored before it.
    pub seq: i64,
    pub region: String,
    pub event_id: String,
    pub detail_type: String,
    /// The whole envelope as JSON text.
    pub envelope: String,
    pub created_ms: i64,
}

/// The outbox and its consumers' cursors.
pub trait EventOutboxStore {
    /// The account the engine writes into the events it emits from now on (the server's
    /// `--account-id`; `000000000000` until set).
    fn set_event_account(&self, account_id: &str);

    /// The account events are written with.
    fn event_account(&self) -> String;

    /// Append events in one transaction (events that report no stored change, e.g. a test's
    /// or a future `PutEvents`'); their `seq`s follow every event already stored, in order.
    fn append_events(&self, events: &[Event], now_ms: i64) -> Result<()>;

    /// [`EventOutboxStore::append_events`] with a call's `records` (audit record, answer for
    /// retries) in the same transaction (`PutEvents`): a retry finds the answer exactly when
    /// the events exist. An unexpired answer already stored for the call fails the whole
    /// transaction with `StoreError::AlreadyExists` and appends nothing.
    fn append_events_recorded(
        &self,
        events: &[Event],
        now_ms: i64,
        records: CallRecords<'_>,
    ) -> Result<()>;

    /// Up to `limit` events with `seq > after_seq`, by `seq`. Never returns an event while an
    /// event with a lower `seq` may still become visible (see the module doc).
    fn events_after(&self, after_seq: i64, limit: usize) -> Result<Vec<OutboxEvent>>;

    /// Up to `limit` events of `region` with `seq < before_seq` (every one when `None`),
    /// newest first: the recent past a viewer shows (`BosunEvents.ListEvents`, the console).
    /// A viewer, not a consumer: an event that commits late may be missed here.
    fn region_events_before(
        &self,
        region: &str,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>>;

    /// The last `seq` `consumer` handled; 0 when it never moved.
    fn event_cursor(&self, consumer: &str) -> Result<i64>;

    /// Move `consumer`'s cursor from `from_seq` (0 for a consumer that never moved) to
    /// `to_seq`, only if it is still at `from_seq` (checked and written as one step); `false`
    /// when another writer moved it first.
    fn advance_event_cursor(
        &self,
        consumer: &str,
        from_seq: i64,
        to_seq: i64,
        now_ms: i64,
    ) -> Result<bool>;

    /// Delete events created before `before_ms` (retention); returns how many. Cursors keep
    /// their place (`seq`s are never reused).
    fn prune_events_before(&self, before_ms: i64) -> Result<u64>;
}

/// The account an engine stamps into events, shared by its threads.
#[derive(Debug)]
pub struct EventAccount(RwLock<String>);

impl Default for EventAccount {
    fn default() -> Self {
        Self(RwLock::new("000000000000".to_string()))
    }
}

impl EventAccount {
    pub fn get(&self) -> String {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, account_id: &str) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = account_id.to_string();
    }
}

/// The wall clock in epoch milliseconds: an event's time is when its change is written.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A fresh event id (a random UUID).
pub fn new_event_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// What Run Command events say about a command, as stored.
#[derive(Debug, Clone)]
pub struct CommandHead {
    pub region: String,
    pub command_id: String,
    pub document_name: String,
    pub requested_ms: i64,
    pub expires_ms: i64,
    /// The request's `Parameters` (an object), from the command's `request_json`.
    pub parameters: Value,
}

impl CommandHead {
    /// From the stored command's columns.
    pub fn new(
        region: String,
        command_id: String,
        document_name: String,
        requested_ms: i64,
        expires_ms: i64,
        request_json: &str,
    ) -> Self {
        let parameters = serde_json::from_str::<Value>(request_json)
            .ok()
            .and_then(|v| v.get("Parameters").cloned())
            .unwrap_or(Value::Object(Default::default()));
        Self {
            region,
            command_id,
            document_name,
            requested_ms,
            expires_ms,
            parameters,
        }
    }

    pub fn of(c: &CommandRecord) -> Self {
        Self::new(
            c.region.clone(),
            c.command_id.clone(),
            c.document_name.clone(),
            c.requested_ms,
            c.expires_ms,
            &c.request_json,
        )
    }

    fn facts(&self) -> CommandFacts<'_> {
        CommandFacts {
            command_id: &self.command_id,
            document_name: &self.document_name,
            requested_ms: self.requested_ms,
            expires_ms: self.expires_ms,
            parameters: &self.parameters,
        }
    }

    /// `EC2 Command Status-change Notification` for `status`, naming the command's nodes.
    pub fn command_event(
        &self,
        account: &str,
        now_ms: i64,
        instance_ids: &[&str],
        status: &str,
    ) -> Event {
        let id = new_event_id();
        envelope::command_status_change(
            self.origin(account, &id, now_ms),
            &self.facts(),
            instance_ids,
            status,
        )
    }

    /// `EC2 Command Invocation Status-change Notification` for `instance_id`'s `status`.
    pub fn invocation_event(
        &self,
        account: &str,
        now_ms: i64,
        instance_id: &str,
        status: &str,
    ) -> Event {
        let id = new_event_id();
        envelope::invocation_status_change(
            self.origin(account, &id, now_ms),
            &self.facts(),
            instance_id,
            status,
        )
    }

    fn origin<'a>(&'a self, account: &'a str, id: &'a str, now_ms: i64) -> Origin<'a> {
        Origin {
            account,
            region: &self.region,
            id,
            now_ms,
        }
    }
}

/// `Parameter Store Change` for a parameter of `region`.
pub fn parameter_event(
    account: &str,
    region: &str,
    now_ms: i64,
    operation: envelope::ParameterOperation,
    name: &str,
    parameter_type: &str,
    description: &str,
) -> Event {
    let id = new_event_id();
    envelope::parameter_change(
        Origin {
            account,
            region,
            id: &id,
            now_ms,
        },
        operation,
        name,
        parameter_type,
        description,
    )
}
