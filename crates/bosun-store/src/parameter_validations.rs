//! Pending `aws:ec2:image` puts: a `PutParameter` whose value AWS validates after answering is
//! kept here, whole, until a replica validates it. Applying it writes the version (with its
//! `Parameter Store Change` event) and removes the row in one transaction; a failed validation
//! removes the row and appends the failure event in one transaction. Rows of one parameter are
//! handed out one at a time, oldest first, so puts apply in the order they were accepted.

use bosun_core::events::envelope::Event;

use crate::parameters::{ParameterVersion, PutLimits, PutOutcome};
use crate::{CallRecords, Result};

/// A put accepted but not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPut {
    /// Assigned by the store, increasing in acceptance order.
    pub id: i64,
    pub region: String,
    /// Store key of the parameter (see `bosun_core::parameters::name::key`).
    pub key: String,
    /// The name as the caller wrote it.
    pub name: String,
    /// The caller (user name): the apply is audited and attributed to them.
    pub principal: String,
    /// The `PutParameter` request body exactly as the caller sent it (JSON).
    pub request_json: String,
    pub accepted_ms: i64,
    /// The replica validating it, while its lease lasts.
    pub lease_owner: Option<String>,
    pub lease_until_ms: i64,
}

/// Pending puts of `aws:ec2:image` parameters.
pub trait ParameterValidationStore {
    /// Keep a pending put (its `id` and lease are ignored) with the records of the call that
    /// made it (audit record, answer for retries) in the same transaction; returns its id.
    fn add_pending_put(&self, p: &PendingPut, records: CallRecords) -> Result<i64>;

    /// Every pending put, oldest first (for operators and tests).
    fn pending_puts(&self) -> Result<Vec<PendingPut>>;

    /// Lease up to `limit` pending puts to `owner` until `now_ms + lease_ms`: for each
    /// parameter only its oldest pending put, and only when no lease on it is live. A
    /// compare-and-set: of replicas claiming together, one gets each row.
    fn claim_pending_puts(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<PendingPut>>;

    /// Apply a validated put held by `owner`: `ParameterStore::put_parameter`'s write and
    /// outcomes, and when `Stored` the pending row is deleted in the same transaction.
    /// `Ok(None)`: the row is gone or leased to another replica; nothing was written.
    #[allow(clippy::too_many_arguments)]
    fn apply_pending_put(
        &self,
        id: i64,
        owner: &str,
        v: &ParameterVersion,
        expected_latest: Option<i64>,
        overwrite: bool,
        tags: &[(String, String)],
        limits: &PutLimits,
    ) -> Result<Option<PutOutcome>>;

    /// End a put held by `owner` that will not be applied: delete its row and append `event`
    /// to the event outbox in one transaction. `false`: the row is gone or leased to another.
    fn fail_pending_put(&self, id: i64, owner: &str, event: &Event, now_ms: i64) -> Result<bool>;
}
