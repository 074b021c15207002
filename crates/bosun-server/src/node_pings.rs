//! Announcing managed-node connection changes (`Managed Node Ping Status-change Notification`,
//! `bosun_core::events::envelope_nodes`): `Online` as soon as an agent connects (the channel
//! calls [`announce`]), `Inactive` on deregistration, and `ConnectionLost` from a background
//! sweep once a node has been seen without a connection for a whole heartbeat timeout, so a node
//! that reconnects within it (a replica restarting, a network blip) announces nothing. The sweep
//! also repairs what a crash between a change and its announcement left behind. Each
//! announcement is a compare-and-set in the store with its event, so replicas that notice the
//! same change at once announce it once.

use std::collections::HashMap;
use std::sync::Arc;

use bosun_core::events::envelope::Origin;
use bosun_core::events::envelope_nodes::{node_ping_status_change, NodeFacts};
use bosun_store::{new_event_id, ReportedPing};

use crate::replicas::Presence;
use crate::state::{now_ms, AppState};

/// Announce `status` for a node whose announced status is now `expected` (any when `None`).
/// Blocking (it writes the store).
pub fn announce(
    state: &AppState,
    instance_id: &str,
    expected: Option<&str>,
    status: &str,
    now: i64,
) -> anyhow::Result<bool> {
    let Some(node) = state.store.get_instance(instance_id)? else {
        return Ok(false);
    };
    let account = state.config.account_id.clone();
    let event = |previous: &str| {
        let id = new_event_id();
        node_ping_status_change(
            Origin {
                account: &account,
                region: &node.region,
                id: &id,
                now_ms: now,
            },
            &NodeFacts {
                instance_id: &node.instance_id,
                computer_name: &node.info.computer_name,
                ip_address: &node.info.ip_address,
                platform_name: &node.info.platform_name,
                agent_version: &node.info.agent_version,
                last_ping_ms: node.last_ping_ms,
            },
            previous,
            status,
        )
    };
    Ok(state
        .store
        .report_ping(instance_id, expected, status, now, &event)?)
}

/// What the sweep should announce for one node, if anything. `disconnected_since` is when this
/// replica first saw it without a connection (kept across sweeps, cleared on connection).
fn due_status(
    p: &ReportedPing,
    connected: bool,
    disconnected_since: i64,
    now: i64,
    grace_ms: i64,
) -> Option<&'static str> {
    let status = if p.deregistered {
        "Inactive"
    } else if connected {
        "Online"
    } else if now - disconnected_since >= grace_ms && now - p.last_ping_ms >= grace_ms {
        "ConnectionLost"
    } else {
        return None;
    };
    (status != p.reported).then_some(status)
}

/// One sweep over every node not yet announced `Inactive`.
fn sweep(
    state: &AppState,
    seen_disconnected: &mut HashMap<String, i64>,
    now: i64,
) -> anyhow::Result<()> {
    let presence = Presence::load(&*state.store, now)?;
    let grace_ms = state.config.heartbeat_timeout().as_millis() as i64;
    let pings = state.store.reported_pings()?;
    seen_disconnected.retain(|id, _| pings.iter().any(|p| p.instance_id == *id));
    for p in &pings {
        let connected = state.hub.last_heard(&p.instance_id).is_some()
            || presence.heard(&p.instance_id).is_some();
        let since = if connected {
            seen_disconnected.remove(&p.instance_id);
            now
        } else {
            *seen_disconnected
                .entry(p.instance_id.clone())
                .or_insert(now)
        };
        if let Some(status) = due_status(p, connected, since, now, grace_ms) {
            if announce(state, &p.instance_id, Some(&p.reported), status, now)? {
                tracing::info!(instance_id = %p.instance_id, from = %p.reported, to = status, "node ping status announced");
            }
        }
    }
    Ok(())
}

/// The sweep, every heartbeat interval (a node's status changes on that scale).
pub async fn run(state: Arc<AppState>) {
    let mut seen_disconnected = HashMap::new();
    loop {
        tokio::time::sleep(state.config.heartbeat_interval).await;
        let st = state.clone();
        let mut seen = std::mem::take(&mut seen_disconnected);
        match tokio::task::spawn_blocking(move || {
            let r = sweep(&st, &mut seen, now_ms());
            (r, seen)
        })
        .await
        {
            Ok((result, seen)) => {
                seen_disconnected = seen;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "node ping status sweep failed; retrying");
                }
            }
            Err(e) => tracing::error!(error = %e, "node ping status sweep task failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ping(reported: &str, last_ping_ms: i64, deregistered: bool) -> ReportedPing {
        ReportedPing {
            region: "us-east-1".into(),
            instance_id: "mi-1".into(),
            reported: reported.into(),
            last_ping_ms,
            deregistered,
        }
    }

    #[test]
    fn connection_lost_waits_for_a_whole_timeout_of_silence() {
        let online = ping("Online", 1_000, false);
        // Just disconnected: nothing yet, however old the last ping.
        assert_eq!(due_status(&online, false, 10_000, 10_000, 3_000), None);
        assert_eq!(due_status(&online, false, 10_000, 12_999, 3_000), None);
        assert_eq!(
            due_status(&online, false, 10_000, 13_000, 3_000),
            Some("ConnectionLost")
        );
        // A recent ping holds it back too.
        let recent = ping("Online", 12_000, false);
        assert_eq!(due_status(&recent, false, 10_000, 13_000, 3_000), None);
        // Connected again: Online is announced only if something else was.
        assert_eq!(due_status(&online, true, 13_000, 13_000, 3_000), None);
        let lost = ping("ConnectionLost", 1_000, false);
        assert_eq!(
            due_status(&lost, true, 13_000, 13_000, 3_000),
            Some("Online")
        );
        assert_eq!(
            due_status(&ping("Online", 1_000, true), true, 0, 0, 3_000),
            Some("Inactive")
        );
    }
}
