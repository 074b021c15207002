//! Group commit of agent reports: acknowledgements and results arriving together are read in
//! two queries, applied (`reports.rs`) and written in one transaction (one fsync), and results
//! are only then acknowledged to their agents — so a fleet answering at once costs a handful of
//! round trips and disk syncs, not several per node, and nothing is acknowledged before it is
//! durable.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bosun_proto::ServerMessage;
use bosun_store::StoreError;

use super::reports::{apply_reports, Report, ResultAcks};
use crate::state::AppState;

/// Most reports applied in one transaction.
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

/// The queue in front of the writer thread.
#[derive(Default)]
pub struct ResultWriter {
    tx: Mutex<Option<Sender<Report>>>,
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

    /// Queue a report; gives it back when the writer is not running (the caller applies it).
    pub fn submit(&self, r: Report) -> Option<Report> {
        match self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(tx) => tx.send(r).err().map(|e| e.0),
            None => Some(r),
        }
    }
}

fn run(state: Weak<AppState>, rx: Receiver<Report>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let Some((state, acks)) = settle_with_retries(&state, &batch) else {
            continue;
        };
        send_acks(&state, &acks);
        state.orchestrator.kick();
    }
}

/// Read what `batch` is about, apply it and write the changes in one transaction; the
/// (node, command) results to acknowledge now that they are stored.
pub(super) fn settle(state: &AppState, batch: &[Report]) -> Result<ResultAcks, StoreError> {
    let pairs: Vec<(String, String)> = batch.iter().map(Report::pair).collect();
    let invocations = state.store.invocations_of_pairs(&pairs)?;
    let results: Vec<(String, String)> = batch
        .iter()
        .filter(|r| matches!(r, Report::Result { .. }))
        .map(Report::pair)
        .collect();
    let plugins = if results.is_empty() {
        Vec::new()
    } else {
        state.store.plugins_of_pairs(&results)?
    };
    let applied = apply_reports(batch, invocations, plugins);
    state.store.write_results(&applied.rows)?;
    Ok(applied.acks)
}

/// Tell each agent its result is stored, so it drops its copy.
pub(super) fn send_acks(state: &AppState, acks: &[(String, String)]) {
    for (instance_id, command_id) in acks {
        state.hub.send(
            instance_id,
            ServerMessage::ResultAck {
                command_id: command_id.clone(),
            },
        );
    }
}

/// Settle one batch; on a failure that may pass (the database restarting, a lock held by a
/// frozen replica until its session is ended) try again after [`RETRY_DELAYS`]. An agent sends
/// an unacknowledged result again only when it reconnects, and a live connection may never drop,
/// so a batch given up on too soon would leave its invocations `InProgress` until they time out.
/// Applying twice is harmless: a report for an invocation already past it changes nothing.
/// Returns the state and the acknowledgements when written; `None` when given up on (logged)
/// or the server is gone.
fn settle_with_retries(
    state: &Weak<AppState>,
    batch: &[Report],
) -> Option<(Arc<AppState>, ResultAcks)> {
    let mut delays = RETRY_DELAYS.iter();
    loop {
        let state = state.upgrade()?;
        let error = match settle(&state, batch) {
            Ok(acks) => return Some((state, acks)),
            Err(e) => e,
        };
        match delays.next() {
            Some(delay) if may_pass(&error) => {
                tracing::warn!(error = %error, reports = batch.len(), retry_in = ?delay, "could not store agent reports; retrying");
                drop(state);
                std::thread::sleep(*delay);
            }
            // Not acknowledged: the agents keep their results and send them again when they
            // reconnect.
            _ => {
                tracing::error!(error = %error, reports = batch.len(), "could not store agent reports");
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
