//! "`ResultAck` never before the bytes are stored": a result is acknowledged only once every
//! byte its steps reported is in the blob store (and, for a command with an
//! `OutputS3BucketName`, written to that bucket). Until then the agent keeps its result and
//! its steps' output; the server remembers what it waits for here, asks for each gap with
//! `FetchOutput` (again every few seconds, so an object store that was down catches up once
//! it is back), and acknowledges when the output is complete and the result stored. A server
//! restart forgets the waits; the agent re-sends its result on reconnecting, which starts
//! them again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bosun_core::document::StepPlan;
use bosun_proto::command::Stream;
use bosun_proto::{CommandResult, ServerMessage};

use super::state_of;
use crate::blobs::command_bucket::CommandBucket;
use crate::blobs::{step_dir_name, BlobError};
use crate::state::{now_ms, AppState};

/// How often waiting invocations are looked at again.
const SWEEP_EVERY: Duration = Duration::from_secs(2);
/// How long after asking for a gap it is asked for again.
const ASK_AGAIN_MS: i64 = 5_000;
/// After this, a wait is dropped (unacknowledged: the agent re-sends its result when it
/// reconnects, which starts over).
const GIVE_UP_MS: i64 = 60 * 60 * 1000;
/// Most invocations one sweep looks at (each may wait for the object store).
const SWEEP_MAX: usize = 100;

/// One stream a result says its step wrote: `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub step: String,
    pub stream: Stream,
    pub size: u64,
}

/// Every stream a result reports.
pub fn expected_output(result: &CommandResult) -> Vec<Expected> {
    let mut out = Vec::new();
    for s in &result.steps {
        for (stream, size) in [
            (Stream::Stdout, s.stdout_bytes),
            (Stream::Stderr, s.stderr_bytes),
        ] {
            out.push(Expected {
                step: s.name.clone(),
                stream,
                size,
            });
        }
    }
    out
}

struct Wait {
    expected: Vec<Expected>,
    since_ms: i64,
    asked_ms: i64,
}

/// A command's output bucket and steps (`None`: it named no bucket).
type BucketOf = Option<(CommandBucket, Vec<StepPlan>)>;

/// Commands' buckets remembered before the map starts over.
const BUCKETS_KEPT: usize = 10_000;

/// Invocations whose result waits for its output, by (command id, node id).
#[derive(Default)]
pub struct OutputWaits {
    waits: Mutex<HashMap<(String, String), Wait>>,
    /// Each command's bucket, read once per command rather than once per result (a command's
    /// request never changes). Only known invocations' results get here (`events::on_result`),
    /// so a command id is looked up in its own region.
    buckets: Mutex<HashMap<String, BucketOf>>,
}

impl OutputWaits {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Wait>> {
        self.waits.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait(&self, command_id: &str, instance_id: &str, expected: Vec<Expected>, asked: bool) {
        let now = now_ms();
        let mut waits = self.lock();
        let w = waits
            .entry((command_id.to_string(), instance_id.to_string()))
            .or_insert(Wait {
                expected: Vec::new(),
                since_ms: now,
                asked_ms: 0,
            });
        w.expected = expected;
        if asked {
            w.asked_ms = now;
        }
    }

    /// The streams an invocation waits for, if it does.
    fn expected(&self, command_id: &str, instance_id: &str) -> Option<Vec<Expected>> {
        self.lock()
            .get(&(command_id.to_string(), instance_id.to_string()))
            .map(|w| w.expected.clone())
    }

    fn forget(&self, command_id: &str, instance_id: &str) {
        self.lock()
            .remove(&(command_id.to_string(), instance_id.to_string()));
    }
}

/// Where one invocation's output stands.
enum Output {
    Complete,
    /// Gaps: (step, stream, first missing offset).
    Missing(Vec<(String, Stream, u64)>),
    /// The blob store did not answer (or a bucket write may succeed later).
    Unknown(BlobError),
}

/// Check that every expected byte is stored; when so, compact the streams and write them to
/// the command's bucket, if it named one.
fn settle(state: &AppState, command_id: &str, instance_id: &str, expected: &[Expected]) -> Output {
    let mut stored = Vec::new();
    let mut missing = Vec::new();
    for e in expected.iter().filter(|e| e.size > 0) {
        match state
            .blobs
            .stored(command_id, instance_id, &step_dir_name(&e.step), e.stream)
        {
            Ok(s) if s.len() >= e.size => stored.push((e, s)),
            Ok(s) => missing.push((e.step.clone(), e.stream, s.len())),
            Err(err) => return Output::Unknown(err),
        }
    }
    if !missing.is_empty() {
        return Output::Missing(missing);
    }
    let bucket = match command_bucket(state, command_id, instance_id) {
        Ok(b) => b,
        Err(e) => return Output::Unknown(BlobError::Remote(e.to_string())),
    };
    for (e, s) in stored {
        if let Err(err) = state.blobs.compact(&s) {
            tracing::warn!(%command_id, %instance_id, error = %err, "could not compact stored output");
        }
        let Some((b, steps)) = &bucket else { continue };
        let Some(key) = b.key(command_id, instance_id, steps, &e.step, e.stream) else {
            continue;
        };
        // Re-read: compaction changed the objects.
        let written = state
            .blobs
            .stored(command_id, instance_id, &step_dir_name(&e.step), e.stream)
            .and_then(|s| state.blobs.export(&s, e.size, &b.bucket, &key));
        match written {
            Ok(()) => {}
            // As on AWS, the command's outcome stands; the output is not in the bucket.
            Err(err) if err.is_permanent() => {
                tracing::warn!(%command_id, %instance_id, bucket = %b.bucket, %key, error = %err,
                    "could not write command output to its OutputS3BucketName; giving up")
            }
            Err(err) => return Output::Unknown(err),
        }
    }
    Output::Complete
}

/// The command's output bucket and steps, when the server writes buckets and it named one.
fn command_bucket(
    state: &AppState,
    command_id: &str,
    instance_id: &str,
) -> anyhow::Result<BucketOf> {
    if !state.blobs.writes_buckets() {
        return Ok(None);
    }
    let lock = || {
        state
            .output_waits
            .buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    };
    if let Some(known) = lock().get(command_id) {
        return Ok(known.clone());
    }
    let Some(found) = read_command_bucket(state, command_id, instance_id)? else {
        return Ok(None);
    };
    let mut buckets = lock();
    if buckets.len() >= BUCKETS_KEPT {
        buckets.clear();
    }
    buckets.insert(command_id.to_string(), found.clone());
    Ok(found)
}

/// Read a command's bucket: `None` when the node or command is not found (not remembered),
/// else what the command's request names.
fn read_command_bucket(
    state: &AppState,
    command_id: &str,
    instance_id: &str,
) -> anyhow::Result<Option<BucketOf>> {
    let Some(node) = state.store.get_instance(instance_id)? else {
        return Ok(None);
    };
    let Some(c) = state.store.get_command(&node.region, command_id)? else {
        return Ok(None);
    };
    let Some(bucket) = CommandBucket::of_request(&c.request_json) else {
        return Ok(Some(None));
    };
    Ok(Some(Some((bucket, serde_json::from_str(&c.steps_json)?))))
}

fn ask(state: &AppState, command_id: &str, instance_id: &str, gaps: Vec<(String, Stream, u64)>) {
    for (step, stream, offset) in gaps {
        state.hub.send(
            instance_id,
            ServerMessage::FetchOutput {
                command_id: command_id.to_string(),
                step,
                stream,
                offset,
            },
        );
    }
}

/// A result arrived: `true` when its output is complete (acknowledge it once stored);
/// otherwise the invocation now waits for its output and the gaps were asked for.
pub fn result_output_complete(
    state: &AppState,
    command_id: &str,
    instance_id: &str,
    expected: Vec<Expected>,
) -> bool {
    match settle(state, command_id, instance_id, &expected) {
        Output::Complete => {
            state.output_waits.forget(command_id, instance_id);
            true
        }
        Output::Missing(gaps) => {
            tracing::info!(%command_id, %instance_id, gaps = gaps.len(), "result waits for output; asking the agent again");
            ask(state, command_id, instance_id, gaps);
            state
                .output_waits
                .wait(command_id, instance_id, expected, true);
            false
        }
        Output::Unknown(e) => {
            tracing::warn!(%command_id, %instance_id, error = %e, "cannot check stored output yet; the result waits");
            state
                .output_waits
                .wait(command_id, instance_id, expected, false);
            false
        }
    }
}

/// Look at one waiting invocation again: acknowledge it when its output is complete and its
/// result stored; with `ask_again`, ask for the gaps that remain (at most every 5 s).
fn recheck(state: &AppState, command_id: &str, instance_id: &str, ask_again: bool) {
    let Some(expected) = state.output_waits.expected(command_id, instance_id) else {
        return;
    };
    match settle(state, command_id, instance_id, &expected) {
        Output::Complete => {
            // The result goes through the result writer; acknowledge once it is stored.
            match state.store.invocation(command_id, instance_id) {
                Ok(Some(i)) if state_of(&i).is_terminal() => {
                    state.output_waits.forget(command_id, instance_id);
                    state.hub.send(
                        instance_id,
                        ServerMessage::ResultAck {
                            command_id: command_id.to_string(),
                        },
                    );
                }
                Ok(None) => state.output_waits.forget(command_id, instance_id),
                Ok(Some(_)) => {}
                Err(e) => {
                    tracing::warn!(%command_id, %instance_id, error = %e, "cannot read the invocation")
                }
            }
        }
        Output::Missing(gaps) if ask_again => {
            ask(state, command_id, instance_id, gaps);
            state
                .output_waits
                .wait(command_id, instance_id, expected, true);
        }
        Output::Missing(_) => {}
        Output::Unknown(e) => {
            tracing::debug!(%command_id, %instance_id, error = %e, "stored output still unknown")
        }
    }
}

/// A chunk was stored: if it ends a stream a result waits for, see whether that completes it.
pub fn after_chunk(
    state: &AppState,
    command_id: &str,
    instance_id: &str,
    step: &str,
    stream: Stream,
    end: u64,
) {
    let Some(expected) = state.output_waits.expected(command_id, instance_id) else {
        return;
    };
    let last = expected
        .iter()
        .any(|e| e.step == step && e.stream == stream && end >= e.size);
    if last {
        recheck(state, command_id, instance_id, false);
    }
}

/// Look at waiting invocations every few seconds until the process ends.
pub async fn run(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let st = state.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || sweep(&st, now_ms())).await {
            tracing::error!(error = %e, "output wait sweep panicked");
        }
    }
}

fn sweep(state: &AppState, now: i64) {
    let mut due: Vec<(String, String, bool)> = Vec::new();
    {
        let mut waits = state.output_waits.lock();
        waits.retain(|(c, i), w| {
            let keep = now - w.since_ms < GIVE_UP_MS;
            if !keep {
                tracing::warn!(command_id = %c, instance_id = %i,
                    "gave up waiting for a result's output; the agent's copy stays unacknowledged");
            }
            keep
        });
        let mut list: Vec<_> = waits.iter().collect();
        list.sort_by_key(|(_, w)| w.asked_ms);
        for ((c, i), w) in list.into_iter().take(SWEEP_MAX) {
            due.push((c.clone(), i.clone(), now - w.asked_ms >= ASK_AGAIN_MS));
        }
    }
    for (c, i, ask_again) in due {
        recheck(state, &c, &i, ask_again);
    }
}
