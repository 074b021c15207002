//! Marks that SNS deliveries leave for their subscription's rate limit and dedupe
//! (`BosunRateLimit*`, `BosunDedupe*`; rules in [`bosun_core::sns_limits`]): one row per
//! (region, subscription, mark), shared by every replica, deleted with the subscription.
//!
//! - A rate-limit window's row counts the messages sent in it: [`DeliveryLimitStore::take_delivery_slot`]
//!   is one atomic insert-or-increment-below-the-limit, so concurrent takers (threads or
//!   replicas) never exceed the limit.
//! - A dedupe key's row names the delivery that claimed it (its holder) until it expires:
//!   [`DeliveryLimitStore::claim_delivery_key`] claims an absent or expired key, and a key the
//!   same delivery already holds (a delivery retried after a crash is not its own duplicate).
//!
//! Rows past their expiry are pruned by the delivery task ([`DeliveryLimitStore::prune_delivery_marks`]).

use crate::Result;

pub trait DeliveryLimitStore {
    /// Take one of `limit` slots of the subscription's rate-limit window starting at
    /// `window_start_ms` (the window's row expires at `expires_ms`); `false` when all are
    /// taken. Fails for a subscription that does not exist (or no longer does).
    fn take_delivery_slot(
        &self,
        region: &str,
        subscription_id: &str,
        window_start_ms: i64,
        limit: u32,
        expires_ms: i64,
    ) -> Result<bool>;

    /// Claim the dedupe `key` of the subscription for `holder` (a delivery id) until
    /// `expires_ms`: `true` when the key was absent, expired at `now_ms`, or already held by
    /// `holder`; `false` when another holder has it.
    fn claim_delivery_key(
        &self,
        region: &str,
        subscription_id: &str,
        key: &str,
        holder: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<bool>;

    /// Delete every mark expired at `now_ms`; how many went.
    fn prune_delivery_marks(&self, now_ms: i64) -> Result<usize>;
}

/// The mark of a rate-limit window.
pub fn slot_mark(window_start_ms: i64) -> String {
    format!("rate:{window_start_ms}")
}

/// The mark of a dedupe key.
pub fn key_mark(key: &str) -> String {
    format!("key:{key}")
}
