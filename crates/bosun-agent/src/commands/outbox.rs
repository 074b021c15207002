//! Messages to the server while a connection is up. When the agent is disconnected, sends are
//! dropped: everything that matters is on disk (results in `replies/`, output in the step
//! folders) and is sent again after reconnecting or when the server asks.

use std::sync::Mutex;

use bosun_proto::AgentMessage;
use tokio::sync::mpsc;

#[derive(Default)]
pub struct Outbox {
    tx: Mutex<Option<mpsc::Sender<AgentMessage>>>,
}

impl Outbox {
    pub fn connect(&self, tx: mpsc::Sender<AgentMessage>) {
        *self.tx.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    }

    pub fn disconnect(&self) {
        *self.tx.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Queue a message for the current connection (waits when the queue is full, so output
    /// cannot outrun the socket); `false` when there is no connection.
    pub async fn send(&self, msg: AgentMessage) -> bool {
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match tx {
            Some(tx) => tx.send(msg).await.is_ok(),
            None => false,
        }
    }
}
