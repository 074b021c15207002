//! Group commit of agent results: results arriving together are written in one transaction
//! (one fsync), and only then acknowledged to their agents — so a fleet answering at once costs
//! a handful of disk syncs, not one per node, and nothing is acknowledged before it is durable.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bosun_proto::ServerMessage;
use bosun_store::{InvocationRecord, PluginRecord, StoreError};

use crate::state::AppState;

/// Most results written in one transaction.
const MAX_BATCH: usize = 1000;

/// Waits between attempts at a batch the store refused (about two and a half minutes in all,
/// past PostgreSQL's statement and idle-session timeouts and a database restart).
const RETRY_DELAYS: [Duration; 9] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(90),
];

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
        let acks: Vec<bool> = batch.iter().map(|r| r.result_ack).collect();
        let rows: Vec<(InvocationRecord, Vec<PluginRecord>)> = batch
            .into_iter()
            .map(|r| (r.invocation, r.plugins))
            .collect();
        let Some(state) = write_with_retries(&state, &rows) else {
            continue;
        };
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
}

/// Write one batch; on a failure that may pass (the database restarting, a lock held by a
/// frozen replica until its session is ended) try again after [`RETRY_DELAYS`]. An agent sends
/// an unacknowledged result again only when it reconnects, and a live connection may never drop,
/// so a batch given up on too soon would leave its invocations `InProgress` until they time out.
/// Writing twice is harmless: a result for an invocation already terminal changes nothing.
/// Returns the state when written; `None` when given up on (logged) or the server is gone.
fn write_with_retries(
    state: &Weak<AppState>,
    rows: &[(InvocationRecord, Vec<PluginRecord>)],
) -> Option<Arc<AppState>> {
    let mut delays = RETRY_DELAYS.iter();
    loop {
        let state = state.upgrade()?;
        let error = match state.store.write_results(rows) {
            Ok(()) => return Some(state),
            Err(e) => e,
        };
        match delays.next() {
            Some(delay) if may_pass(&error) => {
                tracing::warn!(error = %error, results = rows.len(), retry_in = ?delay, "could not store agent results; retrying");
                drop(state);
                std::thread::sleep(*delay);
            }
            // Not acknowledged: the agents keep their results and send them again when they
            // reconnect.
            _ => {
                tracing::error!(error = %error, results = rows.len(), "could not store agent results");
                return None;
            }
        }
    }
}

/// Whether a store failure may pass on its own (the engine or its connection), as opposed to
/// an answer that writing again cannot change.
fn may_pass(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Sqlite(_) | StoreError::Database(_) | StoreError::Io(_)
    )
}
