//! The reboot protocol on the node (`Agent.AllowReboot`): a script step that exits 194 or 3010
//! has the agent reboot the node, and the document resumes after the boot by running that step
//! again; steps that had finished are never run again. The rules are
//! `bosun_core::command::reboot` (AWS's behaviour and its sources are there).
//!
//! Durable, persist before acting:
//! 1. The step's exit is recorded in its folder as `reboot-<n>.json` (the exit, the boot id and
//!    the time), then its `supervisor.json` and `exit.json` are removed: the step is "awaiting a
//!    reboot". The command stays in `state/current` and sends no result; no later step runs.
//! 2. The node's attempt is recorded in `<state-dir>/<node-id>/reboot.json` (boot id, when the
//!    reboot command was started, why it failed), and the command start time is written before
//!    `Agent.RebootCommand` runs (`/bin/sh -c`). From the request on, no command starts a new
//!    step (running steps go on; a real reboot interrupts them, and they end `Failed`).
//! 3. After a restart the boot id decides (`/proc/sys/kernel/random/boot_id`; tests name a
//!    file of their own in `BOSUN_AGENT_BOOT_ID_FILE`, which nothing else should set): a new boot
//!    means the node rebooted, and each awaiting step runs again, appending to its output and
//!    keeping its first start time. The same boot means the reboot has not happened: a command
//!    not run yet (the agent stopped first) is run now, once; one that ran gets
//!    `Agent.RebootTimeoutSeconds` from its start to take the node down.
//! 4. A reboot command that exits non-zero, or a node still in the same boot after the timeout,
//!    fails the steps that asked (an `exit.json` with `reboot_failed`, so the verdict survives
//!    restarts), and their documents go on under the usual flow rules. The command is not
//!    retried: a node that will not reboot would otherwise loop.
//!
//! While the node is rebooting the server shows the invocation `InProgress` (it was sent and
//! not finished); it ends only at the command's `ExpiresAfter`, as for any silent node.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bosun_core::command::reboot::{node_check, step_resume, Attempt, NodeCheck, StepResume};
use bosun_proto::CommandDelivery;
use serde::{Deserialize, Serialize};

use super::spool::Phase;
use super::{now_ms, CommandService, Paused};
use crate::step::{self, StepExit};

/// The environment variable naming a boot id file other than the kernel's. For tests only.
pub const BOOT_ID_ENV: &str = "BOSUN_AGENT_BOOT_ID_FILE";
/// The kernel's boot id: a new random UUID at every boot.
pub const KERNEL_BOOT_ID: &str = "/proc/sys/kernel/random/boot_id";
/// The node's reboot attempt, in the spool root.
pub const NODE_FILE: &str = "reboot.json";
/// Most bytes of the reboot command's error output kept in the failure message.
const ERROR_BYTES: usize = 500;

/// The boot id file: the kernel's, unless a test named another in [`BOOT_ID_ENV`].
pub fn boot_id_file() -> PathBuf {
    std::env::var_os(BOOT_ID_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(KERNEL_BOOT_ID))
}

/// The current boot id.
pub fn read_boot_id(path: &Path) -> io::Result<String> {
    let id = std::fs::read_to_string(path)?.trim().to_string();
    if id.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is empty", path.display()),
        ));
    }
    Ok(id)
}

/// A step's reboot request, `reboot-<n>.json` in its folder (n from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReboot {
    pub boot_id: String,
    pub asked_ms: i64,
    /// The run's `exit.json` as it was.
    pub exit: StepExit,
}

/// The node's reboot attempt (`reboot.json` in the spool root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeReboot {
    /// The boot id when the reboot was asked for.
    pub boot_id: String,
    pub asked_ms: i64,
    /// When the reboot command was started (written before it runs).
    pub commanded_ms: Option<i64>,
    /// Why the attempt failed.
    pub failure: Option<String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{path:?}: {e}"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    bosun_fs::write_atomic(path, &bytes, 0o600)
}

/// A step's reboot requests, oldest first.
pub fn step_reboots(dir: &Path) -> io::Result<Vec<StepReboot>> {
    let mut out = Vec::new();
    for n in 1.. {
        match read_json(&dir.join(format!("reboot-{n}.json")))? {
            Some(r) => out.push(r),
            None => return Ok(out),
        }
    }
    Ok(out)
}

/// Record a step's reboot request (after `known` earlier ones), then clear its run files so it
/// awaits the reboot. Safe to repeat after a crash: an exit already recorded is not recorded
/// twice, and the run files go supervisor first (an `exit.json` without a supervisor record
/// still reads as finished; the reverse would read as lost).
pub fn record_step_reboot(dir: &Path, known: &[StepReboot], ask: StepReboot) -> io::Result<()> {
    if known.last().map(|r| &r.exit) != Some(&ask.exit) {
        write_json(&dir.join(format!("reboot-{}.json", known.len() + 1)), &ask)?;
    }
    for f in [step::SUPERVISOR_FILE, step::EXIT_FILE] {
        match std::fs::remove_file(dir.join(f)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::File::open(dir)?.sync_all()
}

/// A step awaiting a reboot whose reboot failed: its final exit, on disk so that the verdict
/// stays the same after a restart.
pub fn record_step_failure(dir: &Path, ask: &StepReboot, why: String) -> io::Result<StepExit> {
    let code = match ask.exit.outcome {
        step::Outcome::Exited { code } => code,
        _ => -1,
    };
    let exit = StepExit {
        outcome: step::Outcome::RebootFailed { code, error: why },
        start_ms: ask.exit.start_ms,
        end_ms: now_ms().max(0) as u64,
    };
    write_json(&dir.join(step::EXIT_FILE), &exit)?;
    Ok(exit)
}

/// Run `Agent.RebootCommand`: `Ok` once it exited 0 (the node is going down), else why not.
async fn run_reboot_command(command: &str, limit: Duration) -> Result<(), String> {
    let child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the reboot command {command:?} could not start: {e}"))?;
    let out = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("the reboot command {command:?} failed: {e}")),
        Err(_) => {
            return Err(format!(
                "the reboot command {command:?} did not finish within {} seconds",
                limit.as_secs()
            ))
        }
    };
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr[..out.stderr.len().min(ERROR_BYTES)])
        .trim()
        .to_string();
    let said = if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    };
    Err(format!(
        "the reboot command {command:?} failed ({}){said}",
        out.status
    ))
}

/// Whether the node is rebooting, and whether a task drives that.
#[derive(Default)]
pub struct RebootState {
    /// No command starts a new step.
    pub rebooting: bool,
    /// A task runs [`CommandService::drive_reboot`].
    task: bool,
    /// Commands stopped for the reboot, to go on if the node does not go down.
    paused: Vec<Paused>,
}

impl CommandService {
    fn reboot_state(&self) -> std::sync::MutexGuard<'_, RebootState> {
        self.reboot.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn is_rebooting(&self) -> bool {
        self.reboot_state().rebooting
    }

    pub(super) fn boot_id(&self) -> io::Result<String> {
        read_boot_id(&self.settings.boot_id_file)
    }

    fn node_reboot(&self) -> io::Result<Option<NodeReboot>> {
        read_json(&self.spool.root().join(NODE_FILE))
    }

    fn put_node_reboot(&self, r: &NodeReboot) -> io::Result<()> {
        write_json(&self.spool.root().join(NODE_FILE), r)
    }

    /// What becomes of a step awaiting the reboot it asked for.
    pub(super) fn step_resume(&self, ask: &StepReboot) -> io::Result<StepResume> {
        let boot = self.boot_id()?;
        let node = self.node_reboot()?.filter(|n| n.boot_id == boot);
        let attempt = node.as_ref().map(|n| Attempt {
            commanded_ms: n.commanded_ms,
            failure: n.failure.as_deref(),
        });
        Ok(step_resume(&ask.boot_id, ask.asked_ms, &boot, attempt))
    }

    /// At start, before commands resume: settle a reboot recorded by the previous run.
    pub(super) fn recover_reboot(self: &Arc<Self>) -> io::Result<()> {
        let Some(node) = self.node_reboot()? else {
            return Ok(());
        };
        let boot = self.boot_id()?;
        if node.boot_id != boot {
            tracing::info!(
                asked_at_ms = node.asked_ms,
                "the node rebooted as asked; resuming the commands that asked for it"
            );
            std::fs::remove_file(self.spool.root().join(NODE_FILE))?;
        } else if node.failure.is_none() && !self.settings.allow_reboot {
            // Turned off since: the steps that asked fail rather than reboot the node.
            let failure = Some("Agent.AllowReboot was turned off before the node rebooted".into());
            self.put_node_reboot(&NodeReboot { failure, ..node })?;
        } else if node.failure.is_none() {
            tracing::warn!("a reboot was asked for and the node is still in the same boot");
            self.request_reboot();
        }
        Ok(())
    }

    /// Keep a command that stopped for the reboot, or run it again at once if the node is not
    /// rebooting any more (checked under the same lock the resume takes).
    pub(super) fn pause(self: &Arc<Self>, d: CommandDelivery, phase: Phase, from_disk: bool) {
        let again = {
            let mut state = self.reboot_state();
            if state.rebooting {
                state.paused.push(Paused {
                    delivery: d,
                    phase,
                    from_disk,
                });
                None
            } else {
                Some((d, phase, from_disk))
            }
        };
        if let Some((d, phase, from_disk)) = again {
            self.launch(d, phase, from_disk);
        }
    }

    /// A step asked for a reboot: stop starting steps and reboot the node (once, whoever asks).
    pub(super) fn request_reboot(self: &Arc<Self>) {
        {
            let mut state = self.reboot_state();
            state.rebooting = true;
            if std::mem::replace(&mut state.task, true) {
                return;
            }
        }
        let svc = self.clone();
        tokio::spawn(async move {
            svc.drive_reboot().await;
            // Still here: the node did not go down (or a test's boot id changed). Commands go
            // on; steps whose reboot failed fail, the others run.
            let paused = {
                let mut state = svc.reboot_state();
                state.rebooting = false;
                state.task = false;
                std::mem::take(&mut state.paused)
            };
            for p in paused {
                svc.launch(p.delivery, p.phase, p.from_disk);
            }
        });
    }

    /// Record the attempt, run the reboot command, and wait for the node to go down; returns
    /// when it is clear that it did not (the failure recorded), or that it did (a new boot id).
    async fn drive_reboot(&self) {
        let timeout = self.settings.reboot_timeout;
        let timeout_ms = timeout.as_millis() as i64;
        loop {
            let step = async {
                let boot = self.boot_id()?;
                let mut node = match self.node_reboot()? {
                    Some(n) if n.boot_id != boot || n.failure.is_none() => n,
                    _ => {
                        let n = NodeReboot {
                            boot_id: boot.clone(),
                            asked_ms: now_ms(),
                            commanded_ms: None,
                            failure: None,
                        };
                        self.put_node_reboot(&n)?;
                        n
                    }
                };
                let now = now_ms();
                Ok::<_, io::Error>(
                    match node_check(&node.boot_id, &boot, node.commanded_ms, now, timeout_ms) {
                        NodeCheck::Rebooted => {
                            tracing::info!("the boot id changed: the node rebooted");
                            std::fs::remove_file(self.spool.root().join(NODE_FILE))?;
                            true
                        }
                        NodeCheck::RunCommand => {
                            node.commanded_ms = Some(now);
                            self.put_node_reboot(&node)?;
                            let command = &self.settings.reboot_command;
                            tracing::warn!(%command, "rebooting the node: a step asked for it");
                            if let Err(why) = run_reboot_command(command, timeout).await {
                                tracing::error!(error = %why, "the node was not rebooted");
                                node.failure = Some(why);
                                self.put_node_reboot(&node)?;
                                return Ok(true);
                            }
                            false
                        }
                        NodeCheck::WaitUntil(t) => {
                            let pause = (t - now).clamp(1, 1000) as u64;
                            tokio::time::sleep(Duration::from_millis(pause)).await;
                            false
                        }
                        NodeCheck::NoReboot => {
                            let why =
                                bosun_core::command::reboot::no_reboot_message(timeout.as_secs());
                            tracing::error!(error = %why, "the node was not rebooted");
                            node.failure = Some(why);
                            self.put_node_reboot(&node)?;
                            true
                        }
                    },
                )
            };
            match step.await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => {
                    // Nothing is rebooted without its record on disk: try again shortly.
                    tracing::error!(error = %e, "could not record the reboot; retrying in 10 s");
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "reboot_tests.rs"]
mod tests;
