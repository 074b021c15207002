//! Run Command on the agent: accept deliveries durably (persist, remember, then acknowledge),
//! run them with at most `CommandWorkersLimit` at a time, spool results until the server
//! acknowledges them, honour cancels, and pick up where it left off after a restart or the
//! reboot a step asked for (`reboot`).

pub mod outbox;
pub mod reboot;
mod resend;
mod run;
pub mod spool;
mod step_reboot;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bosun_proto::command::NotRunReason;
use bosun_proto::{AgentMessage, CommandDelivery, CommandResult, ServerMessage};
use tokio::sync::Semaphore;

pub use outbox::Outbox;
use spool::{Phase, Spool};

use crate::cleanup::{self, CleanupPolicy, FinalOutcome};
use crate::config::AgentConfig;
use crate::step::StepHandle;

/// How often the orchestration tree and the spool are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// The settings command execution needs (from the agent config).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The `bosun-agent` binary, re-run as `bosun-agent supervise …` for each step.
    pub agent_exe: PathBuf,
    pub workers: usize,
    pub stop_timeout: Duration,
    pub allow_reboot: bool,
    /// `Agent.RebootCommand`.
    pub reboot_command: String,
    /// `Agent.RebootTimeoutSeconds`.
    pub reboot_timeout: Duration,
    /// Where the boot id is read (the kernel's, see [`reboot::boot_id_file`]).
    pub boot_id_file: PathBuf,
    pub cleanup: CleanupPolicy,
    pub replies_retention: Duration,
    /// `Agent.MaxDownloadMegabytes`, in bytes.
    pub max_download_bytes: u64,
    /// `Agent.UpdateHealthTimeoutSeconds`.
    pub update_health_timeout: Duration,
}

impl Settings {
    /// Settings from the agent config file.
    pub fn from_config(config: &AgentConfig, agent_exe: PathBuf) -> Self {
        Self {
            agent_exe,
            workers: config.command_workers_limit(),
            stop_timeout: config.stop_timeout(),
            allow_reboot: config.allow_reboot(),
            reboot_command: config.reboot_command().to_string(),
            reboot_timeout: config.reboot_timeout(),
            boot_id_file: reboot::boot_id_file(),
            cleanup: config.cleanup_policy(),
            replies_retention: config.replies_retention(),
            max_download_bytes: config.max_download_bytes(),
            update_health_timeout: config.update_health_timeout(),
        }
    }
}

/// One command known to be running or queued here (or paused for a reboot).
#[derive(Default)]
struct Running {
    cancelled: bool,
    step: Option<StepHandle>,
}

/// A command stopped because the node is rebooting (still in `running`, so its folder is not
/// swept): it goes on after the boot, or here if the node does not go down.
pub struct Paused {
    delivery: CommandDelivery,
    phase: Phase,
    from_disk: bool,
}

pub struct CommandService {
    pub instance_id: String,
    /// The agent's state directory.
    pub state_dir: std::path::PathBuf,
    pub spool: Spool,
    pub settings: Settings,
    pub outbox: Outbox,
    workers: Arc<Semaphore>,
    running: Mutex<HashMap<String, Running>>,
    /// Held while making room for a command's folder and creating it, so that two commands
    /// starting at once cannot both see room for one.
    room: Mutex<()>,
    /// The node's reboot, if one was asked for.
    reboot: Mutex<reboot::RebootState>,
    /// Held (shared) while a delivery is accepted, a step is started or a result is recorded;
    /// an agent update takes it exclusively ([`CommandService::drain`]) before swapping binaries.
    pub(crate) gate: Arc<tokio::sync::RwLock<()>>,
}

/// How a command ended, for `Ssm.OrchestrationDirectoryCleanup`.
fn final_outcome(r: &CommandResult) -> FinalOutcome {
    use bosun_proto::command::StepStatus;
    if r.not_run.is_some() {
        FinalOutcome::Other
    } else if r
        .steps
        .iter()
        .all(|s| matches!(s.status, StepStatus::Success | StepStatus::Skipped))
    {
        FinalOutcome::Success
    } else if r
        .steps
        .iter()
        .any(|s| matches!(s.status, StepStatus::TimedOut | StepStatus::Cancelled))
    {
        FinalOutcome::Other
    } else {
        FinalOutcome::Failed
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl CommandService {
    pub fn new(
        state_dir: &std::path::Path,
        instance_id: &str,
        settings: Settings,
    ) -> std::io::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            instance_id: instance_id.to_string(),
            state_dir: state_dir.to_path_buf(),
            spool: Spool::open(state_dir, instance_id)?,
            workers: Arc::new(Semaphore::new(settings.workers.max(1))),
            settings,
            outbox: Outbox::default(),
            running: Mutex::new(HashMap::new()),
            room: Mutex::new(()),
            reboot: Mutex::default(),
            gate: Arc::new(tokio::sync::RwLock::new(())),
        }))
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_cancelled(&self, command_id: &str) -> bool {
        self.running().get(command_id).is_some_and(|r| r.cancelled)
    }

    fn set_running(&self, command_id: &str, step: Option<StepHandle>) {
        if let Some(r) = self.running().get_mut(command_id) {
            r.step = step;
        }
    }

    /// After a (re)start: resume commands that were running or accepted but not started.
    pub fn recover(self: &Arc<Self>) -> std::io::Result<()> {
        if let Err(e) = self.recover_reboot() {
            // Steps awaiting a reboot then fail saying why; the rest goes on.
            tracing::error!(error = %e, "could not settle the recorded reboot");
        }
        for d in self.spool.list(Phase::Current)? {
            tracing::info!(command_id = %d.command_id, "resuming a command that was running when the agent stopped");
            self.launch(d, Phase::Current, true);
        }
        for d in self.spool.list(Phase::Pending)? {
            self.launch(d, Phase::Pending, true);
        }
        Ok(())
    }

    /// Keep the disk bounded: sweep now and every ten minutes (AWS only cleans when a command
    /// finishes, so an idle node never cleans; Bosun does).
    pub fn spawn_sweeper(self: &Arc<Self>) {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                let s = svc.clone();
                let _ = tokio::task::spawn_blocking(move || s.sweep()).await;
            }
        });
    }

    /// One cleanup pass over the orchestration tree and the spool.
    pub fn sweep(&self) {
        self.sweep_tree(&self.settings.cleanup);
        if let Err(e) = self.spool.expire(now_ms(), self.settings.replies_retention) {
            tracing::error!(error = %e, "spool cleanup failed");
        }
        self.bound_records();
    }

    /// Bring the orchestration tree within `policy`, leaving running commands alone.
    fn sweep_tree(&self, policy: &CleanupPolicy) {
        let in_use: std::collections::HashSet<String> = self.running().keys().cloned().collect();
        let root = self.spool.orchestration_root();
        match cleanup::sweep(&root, policy, std::time::SystemTime::now(), &in_use) {
            Ok(report) if !report.removed.is_empty() => {
                tracing::info!(
                    removed = report.removed.len(),
                    bytes = report.bytes_freed,
                    "cleaned orchestration folders"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "orchestration cleanup failed"),
        }
    }

    /// Keep the idempotency markers and completed state files within the entry cap and the
    /// retention of the orchestration folders.
    fn bound_records(&self) {
        let p = &self.settings.cleanup;
        if let Err(e) =
            self.spool
                .bound_records(p.max_entries, p.retention, std::time::SystemTime::now())
        {
            tracing::error!(error = %e, "could not bound the command records");
        }
    }

    /// Before a command runs: delete old folders so that, with its own folder (created here),
    /// the tree stays within `OrchestrationDirectoryMaxEntries`.
    fn make_room(&self, command_id: &str) {
        let _room = self.room.lock().unwrap_or_else(|p| p.into_inner());
        let root = self.spool.orchestration_root();
        if !root.join(command_id).exists() {
            let mut policy = self.settings.cleanup.clone();
            policy.max_entries = policy.max_entries.saturating_sub(1);
            self.sweep_tree(&policy);
        }
        if let Err(e) = self.spool.create_command_dir(command_id) {
            tracing::warn!(%command_id, error = %e, "could not create the command's folder");
        }
    }

    /// A connection to the server is up: re-send every unacknowledged result.
    pub async fn on_connected(&self) {
        match self.spool.replies() {
            Ok(replies) => {
                for r in replies {
                    self.outbox.send(AgentMessage::Result(r)).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "could not read spooled results"),
        }
    }

    /// Handle one command-related message from the server.
    pub async fn handle(self: &Arc<Self>, msg: ServerMessage) {
        match msg {
            ServerMessage::RunCommand(d) => self.deliver(d).await,
            ServerMessage::CancelCommand { command_id } => self.cancel(&command_id).await,
            ServerMessage::ResultAck { command_id } => {
                if let Err(e) = self.spool.drop_reply(&command_id) {
                    tracing::error!(%command_id, error = %e, "could not drop an acknowledged result");
                }
                // Its records may go now: keep them within the cap.
                let svc = self.clone();
                let _ = tokio::task::spawn_blocking(move || svc.bound_records()).await;
            }
            ServerMessage::FetchOutput {
                command_id,
                step,
                stream,
                offset,
            } => run::resend_output(self, &command_id, &step, stream, offset).await,
            other => tracing::warn!(kind = other.kind(), "not a command message"),
        }
    }

    /// Stop accepting deliveries, starting steps and recording results, once those under way
    /// are done: for an agent update, which then replaces the process. Running steps go on
    /// under their supervisors; deliveries not acknowledged are sent again by the server.
    pub async fn drain(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.gate.clone().write_owned().await
    }

    async fn deliver(self: &Arc<Self>, d: CommandDelivery) {
        let gate = self.gate.clone().read_owned().await;
        let id = d.command_id.clone();
        if self.spool.seen(&id) {
            drop(gate);
            // A re-delivery: never run twice; acknowledge again, and repeat the result if any.
            self.outbox
                .send(AgentMessage::CommandAck {
                    command_id: id.clone(),
                })
                .await;
            if let Some(r) = self.spool.reply(&id) {
                self.outbox.send(AgentMessage::Result(r)).await;
            }
            return;
        }
        if let Err(e) = self.spool.accept(&d) {
            // Not persisted, so not acknowledged: the server will send it again.
            tracing::error!(command_id = %id, error = %e, "could not persist a command");
            return;
        }
        self.launch(d, Phase::Pending, false);
        drop(gate);
        self.outbox
            .send(AgentMessage::CommandAck { command_id: id })
            .await;
    }

    /// Run a command in a worker slot. `from_disk`: recovered after a restart, so secret values
    /// (never written to disk) are missing.
    fn launch(self: &Arc<Self>, d: CommandDelivery, phase: Phase, from_disk: bool) {
        self.running().entry(d.command_id.clone()).or_default();
        let svc = self.clone();
        tokio::spawn(async move {
            let Ok(_permit) = svc.workers.clone().acquire_owned().await else {
                return;
            };
            let result = if phase == Phase::Pending && now_ms() > d.deliver_by_ms {
                CommandResult {
                    command_id: d.command_id.clone(),
                    not_run: Some(NotRunReason::DeliveryTimedOut),
                    steps: vec![],
                }
            } else if phase == Phase::Pending && svc.is_cancelled(&d.command_id) {
                CommandResult {
                    command_id: d.command_id.clone(),
                    not_run: Some(NotRunReason::Cancelled),
                    steps: vec![],
                }
            } else if svc.is_rebooting() {
                // Not started while the node is going down; it starts after the boot.
                svc.pause(d, phase, from_disk);
                return;
            } else {
                if phase == Phase::Pending {
                    if let Err(e) = svc
                        .spool
                        .advance(&d.command_id, Phase::Pending, Phase::Current)
                    {
                        tracing::error!(command_id = %d.command_id, error = %e, "could not mark a command current");
                    }
                }
                let (s, id) = (svc.clone(), d.command_id.clone());
                let _ = tokio::task::spawn_blocking(move || s.make_room(&id)).await;
                match run::run_command(svc.clone(), &d, from_disk).await {
                    run::RunEnd::Finished(result) => result,
                    run::RunEnd::Paused { reboot } => {
                        drop(_permit);
                        if reboot {
                            svc.request_reboot();
                        }
                        svc.pause(d, Phase::Current, from_disk);
                        return;
                    }
                }
            };
            svc.finish(&d, phase, result).await;
        });
    }

    async fn finish(self: &Arc<Self>, d: &CommandDelivery, phase: Phase, result: CommandResult) {
        let gate = self.gate.clone().read_owned().await;
        let id = &d.command_id;
        if let Err(e) = self.spool.put_reply(&result) {
            tracing::error!(command_id = %id, error = %e, "could not spool a result");
        }
        let from = if result.not_run.is_some() && phase == Phase::Pending {
            Phase::Pending
        } else {
            Phase::Current
        };
        if let Err(e) = self.spool.advance(id, from, Phase::Completed) {
            tracing::error!(command_id = %id, error = %e, "could not mark a command completed");
        }
        drop(gate);
        self.running().remove(id);
        tracing::info!(command_id = %id, "command finished");
        let outcome = final_outcome(&result);
        let root = self.spool.orchestration_root();
        if let Err(e) = cleanup::after_command(&root, id, outcome, &self.settings.cleanup) {
            tracing::warn!(command_id = %id, error = %e, "could not clean the command's folder");
        }
        self.outbox.send(AgentMessage::Result(result)).await;
        // The caps hold whenever a command completes, not only at the periodic sweep (its
        // output may have pushed the tree over the size cap).
        let svc = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            svc.sweep_tree(&svc.settings.cleanup);
            svc.bound_records();
        })
        .await;
    }

    async fn cancel(&self, command_id: &str) {
        let step = {
            let mut running = self.running();
            match running.get_mut(command_id) {
                Some(r) => {
                    r.cancelled = true;
                    r.step.clone()
                }
                None => None,
            }
        };
        if let Some(step) = step {
            if let Err(e) = step.cancel() {
                tracing::warn!(%command_id, error = %e, "could not signal the step's supervisor");
            }
        } else if let Some(r) = self.spool.reply(command_id) {
            // Already finished: the result answers the cancel.
            self.outbox.send(AgentMessage::Result(r)).await;
        }
    }
}
