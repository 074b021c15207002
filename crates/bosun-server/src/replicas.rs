//! This server process as one replica among those serving one database: its id (random per
//! start), a heartbeat row every [`HEARTBEAT_EVERY`] with its KMS keyring's fingerprint, the
//! live replicas it sees, and the agent connections another replica took over (closed here).
//!
//! A replica is live while its heartbeat is younger than [`LIVE_FOR_MS`]. Live replicas must
//! hold the same keyring (`--kms-key-file`, distributed as a secret): when a live replica
//! publishes another fingerprint, this one refuses SecureString encryption and decryption with
//! a clear error instead of sealing values the others cannot open (and says so in its log).

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bosun_store::prelude::*;
use bosun_store::ReplicaRecord;
use sha2::{Digest, Sha256};

use crate::kms::Keyring;
use crate::state::{now_ms, random_bytes, AppState};

/// How often a replica records that it is alive (and checks the others).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// A replica whose heartbeat is older than this is gone: its agent sessions and command leases
/// no longer count.
pub const LIVE_FOR_MS: i64 = 15_000;
/// Replicas silent this long are removed from the table.
const FORGET_AFTER_MS: i64 = 3_600_000;

/// What this replica last saw of the others.
#[derive(Default)]
struct View {
    /// Other live replicas' ids.
    others: Vec<String>,
    /// Why SecureString keys must not be used now (another live replica's keyring differs).
    keyring_conflict: Option<String>,
}

/// This process as a replica.
pub struct Replica {
    pub id: String,
    started_ms: i64,
    /// Where the other replicas reach this one (`""` until the server listens).
    url: RwLock<String>,
    view: RwLock<View>,
    /// Set once this replica has left the database ([`Replica::leave`]); held while a heartbeat
    /// or a claim is written, so none lands after the leave.
    left: Mutex<bool>,
}

/// A hash over the keyring's keys, hex: each key's id and its [`MasterKey::commitment`] (never
/// its material), so replicas agree only when they hold the same ids *with the same material*.
///
/// [`MasterKey::commitment`]: crate::kms::MasterKey::commitment
pub fn fingerprint(kms: &Keyring) -> String {
    let mut keys = kms.keys();
    keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    let mut h = Sha256::new();
    for key in keys {
        h.update(key.key_id.as_bytes());
        h.update(b"\n");
        h.update(key.commitment());
    }
    hex::encode(&h.finalize()[..12])
}

/// The earliest heartbeat of a live replica at `now_ms`.
pub fn live_since(now_ms: i64) -> i64 {
    now_ms - LIVE_FOR_MS
}

impl Replica {
    pub fn new(now_ms: i64) -> Self {
        Self {
            id: hex::encode(random_bytes::<8>()),
            started_ms: now_ms,
            url: RwLock::default(),
            view: RwLock::default(),
            left: Mutex::new(false),
        }
    }

    /// Run `write` (a heartbeat, a claim of commands) unless this replica has left; `None` if
    /// it has. Blocks (the writes are store calls).
    pub fn while_present<T>(
        &self,
        write: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<Option<T>> {
        let left = self.left.lock().unwrap_or_else(|p| p.into_inner());
        if *left {
            return Ok(None);
        }
        write().map(Some)
    }

    /// Leave the database on shutdown (a drain): hand this replica's commands over at once
    /// instead of after their lease, and stop vouching for its nodes, which reconnect to
    /// another replica. Blocks.
    pub fn leave(&self, store: &dyn Store) -> anyhow::Result<()> {
        let mut left = self.left.lock().unwrap_or_else(|p| p.into_inner());
        if !*left {
            store.leave_replica(&self.id)?;
            *left = true;
        }
        Ok(())
    }

    /// Publish where the other replicas reach this one, from the next heartbeat on.
    pub fn set_url(&self, url: String) {
        *self.url.write().unwrap_or_else(|p| p.into_inner()) = url;
    }

    /// When this process started serving (milliseconds since the epoch).
    pub fn started_ms(&self) -> i64 {
        self.started_ms
    }

    /// Other replicas alive at the last heartbeat.
    pub fn other_live_replicas(&self) -> Vec<String> {
        self.view
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .others
            .clone()
    }

    /// `Err` (why) when SecureString keys must not be used: a live replica holds another keyring.
    pub fn keyring_check(&self) -> Result<(), String> {
        match &self
            .view
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keyring_conflict
        {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }

    /// Record a heartbeat and look at the other live replicas. Blocks (store calls).
    pub fn beat(&self, store: &dyn Store, kms: &Keyring, now_ms: i64) -> anyhow::Result<()> {
        let mine = fingerprint(kms);
        store.heartbeat_replica(&ReplicaRecord {
            replica_id: self.id.clone(),
            started_ms: self.started_ms,
            heartbeat_ms: now_ms,
            keyring_fingerprint: mine.clone(),
            url: self.url.read().unwrap_or_else(|p| p.into_inner()).clone(),
        })?;
        let live = store.live_replicas(live_since(now_ms))?;
        let differing: Vec<&ReplicaRecord> = live
            .iter()
            .filter(|r| r.replica_id != self.id && r.keyring_fingerprint != mine)
            .collect();
        let conflict = (!differing.is_empty()).then(|| {
            format!(
                "SecureString keys are disabled on this server: its KMS keyring (fingerprint \
                 {mine}) differs from that of live replica(s) {} serving the same database; give \
                 every replica the same keyring file (--kms-key-file)",
                differing
                    .iter()
                    .map(|r| format!("{} ({})", r.replica_id, r.keyring_fingerprint))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
        match (&view.keyring_conflict, &conflict) {
            (None, Some(why)) => tracing::error!("{why}"),
            (Some(_), None) => {
                tracing::info!(
                    "every live replica holds this keyring again; SecureString keys are enabled"
                )
            }
            _ => {}
        }
        view.keyring_conflict = conflict;
        view.others = live
            .into_iter()
            .filter(|r| r.replica_id != self.id)
            .map(|r| r.replica_id)
            .collect();
        Ok(())
    }
}

/// Where a live replica other than this one is reached (`None`: not live, or no URL yet).
/// Blocks (a store read).
pub fn url_of(state: &AppState, replica_id: &str) -> anyhow::Result<Option<String>> {
    if replica_id == state.replica.id {
        return Ok(None);
    }
    Ok(state
        .store
        .live_replicas(live_since(now_ms()))?
        .into_iter()
        .find(|r| r.replica_id == replica_id && !r.url.is_empty())
        .map(|r| r.url))
}

/// Close the connections of this replica whose node connected again elsewhere (a newer session
/// in the store), as a newer connection to this replica would. Blocks.
fn close_replaced(state: &AppState) -> anyhow::Result<()> {
    // The hub first: a connection attached after the store read would look replaced.
    let connections = state.hub.sessions();
    if connections.is_empty() {
        return Ok(());
    }
    let held: std::collections::HashMap<String, i64> = state
        .store
        .agent_sessions_of_replica(&state.replica.id)?
        .into_iter()
        .map(|s| (s.instance_id, s.session_epoch))
        .collect();
    for (instance_id, connection_id, epoch) in connections {
        if held.get(&instance_id) != Some(&epoch) {
            tracing::info!(%instance_id, "the node connected to another replica; closing its connection here");
            state.hub.close_replaced(&instance_id, connection_id);
        }
    }
    Ok(())
}

/// Heartbeats until the process ends.
pub async fn run(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beats: u64 = 0;
    loop {
        tick.tick().await;
        beats += 1;
        let st = state.clone();
        let work = tokio::task::spawn_blocking(move || {
            let now = now_ms();
            if st
                .replica
                .while_present(|| st.replica.beat(&*st.store, &st.kms, now))?
                .is_none()
            {
                return Ok(());
            }
            close_replaced(&st)?;
            if beats.is_multiple_of(300) {
                st.store.forget_replicas_before(now - FORGET_AFTER_MS)?;
            }
            anyhow::Ok(())
        });
        match work.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "replica heartbeat failed"),
            Err(e) => tracing::error!(error = %e, "replica heartbeat panicked"),
        }
    }
}

/// The nodes connected to a live replica (any, this one included), each with the last time
/// that replica was heard from: it closes connections silent past the heartbeat timeout, so
/// its heartbeat vouches for the node.
#[derive(Debug, Default)]
pub struct Presence {
    /// Node → (replica holding its connection, when that replica was last heard).
    heard: std::collections::HashMap<String, (String, i64)>,
}

impl Presence {
    /// Read from the store. Blocks.
    pub fn load(store: &dyn Store, now_ms: i64) -> anyhow::Result<Presence> {
        let since = live_since(now_ms);
        let replicas: std::collections::HashMap<String, i64> = store
            .live_replicas(since)?
            .into_iter()
            .map(|r| (r.replica_id, r.heartbeat_ms))
            .collect();
        let heard = store
            .live_agent_sessions(since)?
            .into_iter()
            .filter_map(|s| {
                let heard = *replicas.get(&s.replica_id)?;
                Some((s.instance_id, (s.replica_id, heard)))
            })
            .collect();
        Ok(Presence { heard })
    }

    /// When the replica holding the node's connection was last heard; `None`: not connected.
    pub fn heard(&self, instance_id: &str) -> Option<i64> {
        self.heard.get(instance_id).map(|(_, at)| *at)
    }

    /// The replica other than `own` holding the node's connection, if one does.
    pub fn holder_elsewhere(&self, instance_id: &str, own: &str) -> Option<&str> {
        self.heard
            .get(instance_id)
            .map(|(replica, _)| replica.as_str())
            .filter(|replica| *replica != own)
    }

    /// As [`Presence::heard`], for a node held by a replica other than `own`. A replica's own
    /// hub is the truth for its own connections: its session row is written a moment before the
    /// channel is attached, and a node must not look Online here before it can take work here.
    pub fn heard_elsewhere(&self, instance_id: &str, own: &str) -> Option<i64> {
        self.heard
            .get(instance_id)
            .filter(|(replica, _)| replica != own)
            .map(|(_, at)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_tells_keyrings_apart_by_material_not_only_by_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = Keyring::default_path(dir.path());
        let ring = Keyring::open(&path, 1).unwrap();
        let original = std::fs::read_to_string(&path).unwrap();
        let same = Keyring::open(&path, 2).unwrap();
        assert_eq!(fingerprint(&ring), fingerprint(&same));
        // The same key ids with other material: a copy that would fail to decrypt.
        let material = ring.keys()[0].material.clone();
        let other = "ab".repeat(32);
        assert_ne!(material, other);
        let dir2 = tempfile::tempdir().unwrap();
        let path2 = Keyring::default_path(dir2.path());
        std::fs::create_dir_all(path2.parent().unwrap()).unwrap();
        std::fs::write(&path2, original.replace(&material, &other)).unwrap();
        let forged = Keyring::open(&path2, 3).unwrap();
        assert_eq!(forged.keys()[0].key_id, ring.keys()[0].key_id);
        assert_ne!(fingerprint(&ring), fingerprint(&forged));
        assert!(!fingerprint(&ring).contains(&material[..24]));
    }
}
