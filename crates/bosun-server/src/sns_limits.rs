//! A subscription's rate limit and dedupe in the delivery path (`BosunRateLimit*`,
//! `BosunDedupe*`; the rules are [`bosun_core::sns_limits`], the shared counts and keys
//! [`bosun_store::DeliveryLimitStore`]).
//!
//! The order is: filter policy → rate limit → dedupe → send ([`crate::sns_delivery`]). A
//! message (a grouped burst is one) takes a slot of its window before it is sent; a send that
//! then fails has still used its slot (conservative: the limit is never exceeded, at the price
//! of sometimes sending fewer). With the window full, nothing is dropped: the message waits
//! for the next window without counting an attempt. Only then does each notification claim
//! its dedupe key, so a postponed one never claims one; a duplicate's row is finished as sent
//! (logged at info with its delivery id). A key names the delivery that claimed it, so a
//! delivery retried after a failure or a crash is not its own duplicate.

use std::sync::atomic::{AtomicI64, Ordering};

use bosun_core::sns_limits::dedupe_key;
use bosun_store::DeliveryRecord;

use crate::delivery_template::DeliveryTemplate;
use crate::state::AppState;

/// How often expired marks are pruned.
const PRUNE_EVERY_MS: i64 = 60_000;
static LAST_PRUNE_MS: AtomicI64 = AtomicI64::new(0);

/// Apply `template`'s rate limit and dedupe to the message `d` heads (`members`: `d` alone,
/// or its grouped burst): the members to send now. Empty when the message was postponed to
/// the next window or every member was a duplicate (their rows are written accordingly).
pub fn apply(
    state: &AppState,
    template: &DeliveryTemplate,
    d: &DeliveryRecord,
    members: Vec<DeliveryRecord>,
    now_ms: i64,
) -> bosun_store::Result<Vec<DeliveryRecord>> {
    let owner = &state.replica.id;
    if let Some(rate) = template.limits().rate() {
        let next = rate.next_window_ms(now_ms);
        let taken = state.store.take_delivery_slot(
            &d.region,
            &d.subscription_id,
            rate.window_start_ms(now_ms),
            rate.count,
            next,
        )?;
        if !taken {
            tracing::debug!(delivery = %d.delivery_id, next_window_ms = next, "SNS subscription's rate limit reached; delivery postponed");
            for m in &members {
                state.store.postpone_delivery(&m.delivery_id, owner, next)?;
            }
            return Ok(Vec::new());
        }
    }
    let Some(window) = template.dedupe_window_seconds else {
        return Ok(members);
    };
    let until = now_ms + i64::from(window) * 1000;
    let mut kept = Vec::with_capacity(members.len());
    for m in members {
        let Some(key) = dedupe_key(
            template.dedupe_by.as_deref(),
            m.subject.as_deref(),
            &m.message,
        ) else {
            kept.push(m);
            continue;
        };
        let claimed = state.store.claim_delivery_key(
            &m.region,
            &m.subscription_id,
            &key,
            &m.delivery_id,
            now_ms,
            until,
        )?;
        if claimed {
            kept.push(m);
        } else {
            tracing::info!(delivery = %m.delivery_id, subscription = %m.subscription_id, "SNS notification identical to one sent within the dedupe window; not sent again");
            state.store.finish_delivery(&m.delivery_id, owner)?;
        }
    }
    Ok(kept)
}

/// Delete expired marks, at most once a minute per process.
pub fn prune_now_and_then(state: &AppState, now_ms: i64) {
    let last = LAST_PRUNE_MS.load(Ordering::Relaxed);
    if now_ms - last < PRUNE_EVERY_MS
        || LAST_PRUNE_MS
            .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    match state.store.prune_delivery_marks(now_ms) {
        Ok(0) => {}
        Ok(n) => tracing::debug!(pruned = n, "expired SNS rate-limit and dedupe marks pruned"),
        Err(e) => tracing::warn!(error = %e, "could not prune SNS rate-limit and dedupe marks"),
    }
}
