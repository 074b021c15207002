//! Group commit of agent results: results arriving together are written in one transaction
//! (one fsync), and only then acknowledged to their agents — so a fleet answering at once costs
//! a handful of disk syncs, not one per node, and nothing is acknowledged before it is durable.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};

use bosun_proto::ServerMessage;
use bosun_store::{InvocationRecord, PluginRecord};

use crate::state::AppState;

/// Most results written in one transaction.
const MAX_BATCH: usize = 1000;

/// One result waiting to be written.
pub struct PendingResult {
    pub invocation: InvocationRecord,
    pub plugins: Vec<PluginRecord>,
    /// Answer the agent with `ResultAck` once written (false for plain acknowledgements).
    pub result_ack: bool,
}

/// The queue in front of the writer thread.
#[derive(Default)]
pub struct ResultWriter {
    tx: Mutex<Option<Sender<PendingResult>>>,
}

impl ResultWriter {
    /// Start the writer thread (it ends when the server state is dropped).
    pub fn start(state: &Arc<AppState>) {
        let (tx, rx) = channel();
        *state.results.tx.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        let weak = Arc::downgrade(state);
        std::thread::Builder::new()
            .name("result-writer".into())
            .spawn(move || run(weak, rx))
            .expect("spawning the result writer");
    }

    /// Queue a result; gives it back when the writer is not running (the caller writes it).
    pub fn submit(&self, r: PendingResult) -> Option<PendingResult> {
        match self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(tx) => tx.send(r).err().map(|e| e.0),
            None => Some(r),
        }
    }
}

fn run(state: Weak<AppState>, rx: Receiver<PendingResult>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let Some(state) = state.upgrade() else { return };
        let acks: Vec<bool> = batch.iter().map(|r| r.result_ack).collect();
        let rows: Vec<(InvocationRecord, Vec<PluginRecord>)> = batch
            .into_iter()
            .map(|r| (r.invocation, r.plugins))
            .collect();
        match state.store.write_results(&rows) {
            Ok(()) => {
                for ((i, _), ack) in rows.iter().zip(acks) {
                    if ack {
                        state.hub.send(
                            &i.instance_id,
                            ServerMessage::ResultAck {
                                command_id: i.command_id.clone(),
                            },
                        );
                    }
                }
                state.orchestrator.kick();
            }
            // Not acknowledged: the agents keep their results and send them again.
            Err(e) => {
                tracing::error!(error = %e, results = rows.len(), "could not store agent results")
            }
        }
    }
}
