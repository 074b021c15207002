//! Connected agents: who is online right now, and a way to reach each of them.

mod channel;
pub mod node_auth;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bosun_proto::ServerMessage;
use tokio::sync::mpsc;

pub use channel::agent_channel;

/// Something the hub asks a connection task to do. Messages are boxed: a channel allocates
/// room for a block of 32 of these up front, per connection, so they stay pointer-sized.
#[derive(Debug)]
pub enum Outbound {
    Send(Box<ServerMessage>),
    /// Send this message, then close the connection.
    SendAndClose(Box<ServerMessage>),
}

struct Connection {
    id: u64,
    /// The node's session epoch in the store (`agent_sessions`) for this connection.
    session_epoch: i64,
    tx: mpsc::UnboundedSender<Outbound>,
    last_heard_ms: i64,
}

/// The live agent connections of this server.
#[derive(Default)]
pub struct AgentHub {
    next_id: AtomicU64,
    connections: Mutex<HashMap<String, Connection>>,
}

impl AgentHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Connection>> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register a fresh connection for a node, replacing (and closing) an older one.
    pub fn attach(
        &self,
        instance_id: &str,
        tx: mpsc::UnboundedSender<Outbound>,
        now_ms: i64,
        session_epoch: i64,
    ) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let old = self.lock().insert(
            instance_id.to_string(),
            Connection {
                id,
                session_epoch,
                tx,
                last_heard_ms: now_ms,
            },
        );
        if let Some(old) = old {
            replaced(&old);
        }
        id
    }

    /// Every connection: (node, connection id, session epoch).
    pub fn sessions(&self) -> Vec<(String, u64, i64)> {
        self.lock()
            .iter()
            .map(|(node, c)| (node.clone(), c.id, c.session_epoch))
            .collect()
    }

    /// Close a connection whose node connected again through another replica (only if it is
    /// still the node's current one here).
    pub fn close_replaced(&self, instance_id: &str, connection_id: u64) {
        let mut map = self.lock();
        if map.get(instance_id).is_some_and(|c| c.id == connection_id) {
            if let Some(old) = map.remove(instance_id) {
                replaced(&old);
            }
        }
    }

    /// Forget a connection (only if it is still the node's current one).
    pub fn detach(&self, instance_id: &str, connection_id: u64) {
        let mut map = self.lock();
        if map.get(instance_id).is_some_and(|c| c.id == connection_id) {
            map.remove(instance_id);
        }
    }

    /// Note that a node was heard from.
    pub fn heard(&self, instance_id: &str, now_ms: i64) {
        if let Some(c) = self.lock().get_mut(instance_id) {
            c.last_heard_ms = now_ms;
        }
    }

    /// When a connected node was last heard from; `None` when it is not connected.
    pub fn last_heard(&self, instance_id: &str) -> Option<i64> {
        self.lock().get(instance_id).map(|c| c.last_heard_ms)
    }

    /// Tell a node it was deregistered and drop its connection.
    pub fn deregistered(&self, instance_id: &str) {
        if let Some(c) = self.lock().remove(instance_id) {
            let _ = c.tx.send(Outbound::SendAndClose(Box::new(
                ServerMessage::Deregistered {
                    message: format!("managed node {instance_id} was deregistered by an operator"),
                },
            )));
        }
    }

    /// Queue a message for a connected node; `false` when it is not connected.
    pub fn send(&self, instance_id: &str, msg: ServerMessage) -> bool {
        self.lock()
            .get(instance_id)
            .is_some_and(|c| c.tx.send(Outbound::Send(Box::new(msg))).is_ok())
    }

    pub fn is_connected(&self, instance_id: &str) -> bool {
        self.lock().contains_key(instance_id)
    }

    pub fn connected_count(&self) -> usize {
        self.lock().len()
    }
}

/// Tell an older connection of a node that a newer one replaced it, and close it.
fn replaced(old: &Connection) {
    let _ = old
        .tx
        .send(Outbound::SendAndClose(Box::new(ServerMessage::Rejected {
            code: bosun_proto::RejectCode::ProtocolError,
            message: "replaced by a newer connection of the same node".into(),
        })));
}
