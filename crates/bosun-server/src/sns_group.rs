//! Bursts sent as one message: a subscription with `BosunGroupWindowSeconds` W holds a
//! notification until W seconds after it was published, then sends it together with every
//! other notification of that subscription published by then (and, with `BosunGroupBy`, only
//! those whose events have the same value at that JSONPath) — "failed on 37 of 200 nodes" in one
//! mail instead of 37 mails.
//!
//! The hold is the row's own schedule (`postpone_delivery`, no attempt counted), so a restart
//! loses nothing; the burst is leased as a whole (`claim_subscription_deliveries`), sent once,
//! and then deleted, retried or kept as failed records together. In one process, one burst of
//! a subscription is gathered and sent at a time ([`hold_subscription`]): members that came due
//! together find their rows gone once the first is sent. Two replicas that lease members of
//! one burst at the same moment may each send a part of it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use bosun_core::automation::select;
use bosun_store::{DeliveryRecord, CONFIRMATION};

use crate::delivery_template::DeliveryTemplate;
use crate::state::AppState;

/// Most notifications in one grouped message.
const MAX_GROUP: usize = 500;

/// Per subscription, held while one of its bursts is gathered and sent in this process.
static SENDING: LazyLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = LazyLock::new(Mutex::default);

/// Wait until no other burst of `subscription_id` is being sent here; hold the returned lock
/// while gathering and sending (deliveries run on the blocking pool).
pub fn hold_subscription(subscription_id: &str) -> Arc<Mutex<()>> {
    let mut map = SENDING.lock().unwrap_or_else(|p| p.into_inner());
    map.retain(|_, lock| Arc::strong_count(lock) > 1);
    map.entry(subscription_id.to_string()).or_default().clone()
}

/// What to do with a due delivery of a grouping subscription.
pub enum Grouped {
    /// Its window is still open: hold it until then.
    Hold(i64),
    /// Send these together (oldest first; the due delivery is among them).
    Send(Vec<DeliveryRecord>),
}

/// The window of `template`, if notifications of it are grouped.
pub fn window_ms(template: Option<&DeliveryTemplate>, d: &DeliveryRecord) -> Option<i64> {
    let seconds = template?.group_window_seconds?;
    (d.kind != CONFIRMATION).then_some(i64::from(seconds) * 1000)
}

/// The group key of a notification: the text at `group_by` in its event ("" without one).
fn key(group_by: Option<&str>, d: &DeliveryRecord) -> String {
    let Some(path) = group_by else {
        return String::new();
    };
    let Ok(event) = serde_json::from_str::<serde_json::Value>(&d.message) else {
        return String::new();
    };
    match select(&event, path) {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Hold `d` until its window closes, or gather its burst, leased to `owner` until `until_ms`.
/// Notifications of the subscription that belong to another group go back to their schedule.
pub fn gather(
    state: &AppState,
    template: &DeliveryTemplate,
    window_ms: i64,
    d: &DeliveryRecord,
    now_ms: i64,
    until_ms: i64,
) -> bosun_store::Result<Grouped> {
    let closes = d.created_ms + window_ms;
    if d.attempts == 0 && now_ms < closes {
        return Ok(Grouped::Hold(closes));
    }
    let owner = &state.replica.id;
    let claimed = state.store.claim_subscription_deliveries(
        &d.region,
        &d.subscription_id,
        closes,
        owner,
        now_ms,
        until_ms,
        MAX_GROUP,
    )?;
    let group_by = template.group_by.as_deref();
    let mine = key(group_by, d);
    let (mut group, others): (Vec<_>, Vec<_>) = claimed
        .into_iter()
        .partition(|m| m.delivery_id == d.delivery_id || key(group_by, m) == mine);
    for other in others {
        state
            .store
            .postpone_delivery(&other.delivery_id, owner, other.next_attempt_ms)?;
    }
    if !group.iter().any(|m| m.delivery_id == d.delivery_id) {
        // Taken over by another replica meanwhile: nothing of it is ours to send.
        for m in group {
            state
                .store
                .postpone_delivery(&m.delivery_id, owner, m.next_attempt_ms)?;
        }
        return Ok(Grouped::Send(Vec::new()));
    }
    group.sort_by(|a, b| (a.created_ms, &a.delivery_id).cmp(&(b.created_ms, &b.delivery_id)));
    Ok(Grouped::Send(group))
}
