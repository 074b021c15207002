//! Running one command on this node: each step under its own supervisor process, output
//! streamed from the step's files to the server while it runs, and a result built from what
//! the supervisor recorded on disk.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_core::command::flow::{cancelled_before_start, skipped_after_exit_message};
use bosun_core::command::{DocumentFlow, NextStep, PluginOutcome, Reported, StepFlow};
use bosun_core::document::StepPlan;
use bosun_proto::command::{
    StepResult, StepStatus, Stream, MAX_CHUNK_BYTES, STDERR_PREFIX_CHARS, STDOUT_PREFIX_CHARS,
};
use bosun_proto::{AgentMessage, CommandDelivery, CommandResult, OutputChunk};

use super::step_reboot::{self, BeforeStart};
use super::CommandService;
use crate::plugins::{self, StepContext};
use crate::step::{self, read_prefix, Attach, Outcome, OutputTail, StepExit, StepHandle, StepSpec};

const OUTPUT_POLL: Duration = Duration::from_millis(100);

fn stream_path(dir: &Path, stream: Stream) -> PathBuf {
    dir.join(stream.file_name())
}

/// Send whatever one stream gained since the last call.
async fn forward_stream(
    svc: &CommandService,
    command_id: &str,
    step: &str,
    stream: Stream,
    tail: &mut OutputTail,
) {
    loop {
        let offset = tail.offset();
        let Ok(data) = tail.read_new(MAX_CHUNK_BYTES) else {
            break;
        };
        if data.is_empty() {
            break;
        }
        let chunk = OutputChunk {
            command_id: command_id.into(),
            step: step.into(),
            stream,
            offset,
            data: B64.encode(&data),
        };
        svc.outbox.send(AgentMessage::Output(chunk)).await;
    }
}

async fn forward_output(
    svc: &CommandService,
    command_id: &str,
    step: &str,
    tails: &mut [(Stream, OutputTail); 2],
) {
    for (stream, tail) in tails.iter_mut() {
        forward_stream(svc, command_id, step, *stream, tail).await;
    }
}

/// Send a finished step's output again from `offset` (the server asked: its copy has a gap).
pub async fn resend_output(
    svc: &CommandService,
    command_id: &str,
    step: &str,
    stream: Stream,
    offset: u64,
) {
    let Some(dir) = svc.spool.existing_step_dir(command_id, step) else {
        tracing::warn!(%command_id, %step, "output was asked for again but is no longer on this node");
        return;
    };
    let mut tail = OutputTail::with_offset(stream_path(&dir, stream), offset);
    forward_stream(svc, command_id, step, stream, &mut tail).await;
}

/// Start a step, or re-attach to it if a supervisor already owns it (after an agent restart).
fn start_or_attach(
    svc: &CommandService,
    d: &CommandDelivery,
    plan: &StepPlan,
    dir: &Path,
) -> std::io::Result<Result<StepHandle, StepExit>> {
    if dir.join(step::SUPERVISOR_FILE).exists() || dir.join(step::EXIT_FILE).exists() {
        return Ok(match step::attach(dir)? {
            Attach::Running(h) => Ok(h),
            Attach::Finished(exit) => Err(exit),
            Attach::Lost => Err(made_up(Outcome::Lost)),
        });
    }
    let plugin = plugins::plugin_for(&plan.action).ok_or_else(|| {
        std::io::Error::other(format!(
            "the {} plugin is not supported by this agent yet",
            plan.action
        ))
    })?;
    let downloads = svc.spool.downloads_dir(&d.command_id)?;
    let ctx = StepContext {
        dir: dir.to_path_buf(),
        downloads: downloads.clone(),
        agent_exe: svc.settings.agent_exe.clone(),
        depth: 0,
        max_download_bytes: svc.settings.max_download_bytes,
        state_dir: svc.state_dir.clone(),
        update_health_timeout_secs: svc.settings.update_health_timeout.as_secs(),
    };
    let launch = plugin.prepare(plan, &ctx).map_err(std::io::Error::other)?;
    for (name, text) in &launch.files {
        bosun_fs::write_atomic(&dir.join(name), text.as_bytes(), 0o600)?;
    }
    let mut spec = StepSpec::new(dir, launch.script);
    spec.timeout = Duration::from_secs(plan.timeout_seconds);
    spec.stop_timeout = svc.settings.stop_timeout;
    spec.working_dir = Some(plugins::working_directory(plan, &downloads));
    spec.env = vec![
        ("AWS_SSM_INSTANCE_ID".into(), svc.instance_id.clone()),
        ("AWS_SSM_REGION_NAME".into(), d.region.clone()),
        ("BOSUN_COMMAND_ID".into(), d.command_id.clone()),
    ];
    // ENV_VAR parameters arrive as SSM_<name> variables, never spliced into the script.
    spec.env.extend(plan.env.iter().cloned());
    step::start(
        &spec,
        &svc.settings.agent_exe,
        &[OsString::from("supervise")],
    )
    .map(Ok)
}

/// An exit the agent decides on (no supervisor record): no times.
fn made_up(outcome: Outcome) -> StepExit {
    let now = jiff::Timestamp::now().as_millisecond().max(0) as u64;
    StepExit {
        outcome,
        start_ms: now,
        end_ms: now,
    }
}

/// How a finished step ended, before the document's flow rules (`DocumentFlow::record`) apply:
/// every non-zero exit is `Failed` here, 168 and 169 included; so is a reboot request the agent
/// did not take (`refused`: why, from `step_reboot::after_exit`).
fn judge(
    exit: &StepExit,
    plan: &StepPlan,
    allow_reboot: bool,
    refused: Option<String>,
) -> (PluginOutcome, i32, Option<String>) {
    match &exit.outcome {
        Outcome::Exited { code: 0 } => (PluginOutcome::Success, 0, None),
        Outcome::Exited { code } => (
            PluginOutcome::Failed,
            *code,
            step_reboot::reboot_refusal(&plan.action, *code, allow_reboot, refused),
        ),
        Outcome::RebootFailed { code, error } => (
            PluginOutcome::Failed,
            *code,
            Some(format!("the step asked for a reboot (exit code {code}), and it failed: {error}")),
        ),
        Outcome::Signaled { signal } => (PluginOutcome::Failed, 128 + signal, Some(format!("the script was killed by signal {signal}"))),
        Outcome::TimedOut => (PluginOutcome::TimedOut, -1, Some("the step ran past its execution timeout and was stopped".into())),
        Outcome::Cancelled => (PluginOutcome::Cancelled, -1, Some("cancelled".into())),
        Outcome::Failed { error } => (PluginOutcome::Failed, -1, Some(format!("the step could not start: {error}"))),
        Outcome::Lost => (PluginOutcome::Failed, -1, Some("interrupted: the agent restarted and the step's supervisor was gone; the step was not run again".into())),
    }
}

/// The agent's own explanation and the flow's, together.
fn explain(detail: Option<String>, r: &Reported) -> Option<String> {
    match (detail, r.note) {
        (Some(d), Some(n)) => Some(format!("{d}; {n}")),
        (d, n) => d.or(n.map(String::from)),
    }
}

fn status_of(o: PluginOutcome) -> StepStatus {
    StepStatus::of_outcome(o).unwrap_or(StepStatus::Failed)
}

fn result_of(
    plan: &StepPlan,
    dir: &Path,
    status: StepStatus,
    code: i32,
    detail: Option<String>,
    exit: Option<&StepExit>,
) -> StepResult {
    let prefix = |s: Stream, n: usize| {
        read_prefix(&stream_path(dir, s), n)
            .map(|(t, _)| t)
            .unwrap_or_default()
    };
    let size = |s: Stream| {
        std::fs::metadata(stream_path(dir, s))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    StepResult {
        name: plan.name.clone(),
        status,
        response_code: code,
        start_ms: exit.map(|e| e.start_ms as i64),
        end_ms: exit.map(|e| e.end_ms as i64),
        stdout: prefix(Stream::Stdout, STDOUT_PREFIX_CHARS),
        stderr: prefix(Stream::Stderr, STDERR_PREFIX_CHARS),
        stdout_bytes: size(Stream::Stdout),
        stderr_bytes: size(Stream::Stderr),
        detail,
    }
}

/// A step that did not run and says why in its output (precondition, early exit). Like the
/// AWS agent: `Skipped`, response code 0.
fn skipped(plan: &StepPlan, why: &str) -> StepResult {
    StepResult {
        status: StepStatus::Skipped,
        response_code: 0,
        stdout: format!("{why}\n"),
        ..not_run(plan, StepStatus::Skipped, why)
    }
}

/// A step the agent decided without running it.
fn not_run(plan: &StepPlan, status: StepStatus, why: &str) -> StepResult {
    StepResult {
        name: plan.name.clone(),
        status,
        response_code: -1,
        start_ms: None,
        end_ms: None,
        stdout: String::new(),
        stderr: String::new(),
        stdout_bytes: 0,
        stderr_bytes: 0,
        detail: Some(why.into()),
    }
}

/// A step that failed before it could start (`why` goes to its stderr), under the flow rules.
fn failed_to_start(doc: &mut DocumentFlow, plan: &StepPlan, why: &str) -> StepResult {
    let r = doc.record(StepFlow::of(plan), PluginOutcome::Failed, -1);
    StepResult {
        response_code: r.response_code,
        stderr: format!("{why}\n"),
        detail: explain(Some(why.to_string()), &r),
        ..not_run(plan, status_of(r.outcome), why)
    }
}

/// How running a command ended.
pub enum RunEnd {
    /// Every step has its final status.
    Finished(CommandResult),
    /// Stopped before a step for a reboot, to resume after it: one of its steps asked for the
    /// reboot (`reboot`), or the node is rebooting and no step may start.
    Paused { reboot: bool },
}

/// Run (or resume) every step of a command and return its result. Which steps run, and what
/// each reports, follows `bosun_core::command::flow` (exit codes 168/169, `onSuccess`,
/// `onFailure`, `finallyStep`, cancel): every step ends with a final status, none is left
/// not started. A step that asks for a reboot pauses the command (`commands::reboot`); run
/// again after the boot, finished steps are re-read from disk and that step runs again.
pub async fn run_command(svc: Arc<CommandService>, d: &CommandDelivery, from_disk: bool) -> RunEnd {
    let mut steps = Vec::with_capacity(d.steps.len());
    let mut doc = DocumentFlow::new();
    let last = d.steps.len().saturating_sub(1);
    for (index, plan) in d.steps.iter().enumerate() {
        let flow = StepFlow::of(plan);
        if svc.is_cancelled(&d.command_id) {
            doc.cancel();
        }
        match doc.next_step(flow, index == last) {
            NextStep::Run => {}
            NextStep::SkipAfterExit => {
                let why = skipped_after_exit_message(&plan.action, &plan.name);
                steps.push(skipped(plan, &why));
                continue;
            }
            NextStep::Cancelled => {
                let r = cancelled_before_start();
                let why = r.note.unwrap_or("cancelled");
                steps.push(not_run(plan, status_of(r.outcome), why));
                continue;
            }
        }
        if let Some(why) = plugins::skip_reason(plan) {
            doc.record(flow, PluginOutcome::Skipped, 0);
            steps.push(skipped(plan, &why));
            continue;
        }
        let existing = svc.spool.existing_step_dir(&d.command_id, &plan.name);
        let (started_before, reboots) = match step_reboot::before_start(&svc, existing.as_deref()) {
            BeforeStart::Go {
                started_before,
                reboots,
            } => (started_before, reboots),
            BeforeStart::Pause { reboot } => return RunEnd::Paused { reboot },
            BeforeStart::Fail(why) => {
                steps.push(failed_to_start(&mut doc, plan, &why));
                continue;
            }
        };
        if from_disk && !plan.secret_env.is_empty() && !started_before {
            let why = if reboots.is_empty() {
                "the agent restarted before this step started; its SecureString values are never \
                 stored on the node, so it was not run (send the command again)"
            } else {
                "the node rebooted as this step asked, but its SecureString values are never \
                 stored on the node, so it was not run again (send the command again)"
            };
            steps.push(failed_to_start(&mut doc, plan, why));
            continue;
        }
        if let Some(why) = plugins::unavailable(plan) {
            steps.push(failed_to_start(&mut doc, plan, &why));
            continue;
        }
        let dir = match svc.spool.step_dir(&d.command_id, &plan.name) {
            Ok(dir) => dir,
            Err(e) => {
                let why = format!("could not create the step folder: {e}");
                steps.push(failed_to_start(&mut doc, plan, &why));
                continue;
            }
        };
        let (svc2, d2, plan2, dir2) = (svc.clone(), d.clone(), plan.clone(), dir.clone());
        // Under the gate: an agent update never swaps binaries while a step is half started.
        let gate = svc.gate.clone().read_owned().await;
        let started =
            tokio::task::spawn_blocking(move || start_or_attach(&svc2, &d2, &plan2, &dir2)).await;
        drop(gate);
        let exit = match started {
            Ok(Ok(Ok(handle))) => {
                svc.set_running(&d.command_id, Some(handle.clone()));
                let mut tails = [
                    (
                        Stream::Stdout,
                        OutputTail::new(stream_path(&dir, Stream::Stdout)),
                    ),
                    (
                        Stream::Stderr,
                        OutputTail::new(stream_path(&dir, Stream::Stderr)),
                    ),
                ];
                let mut ticker = tokio::time::interval(OUTPUT_POLL);
                // One wait across the loop: its polling starts brisk and slows down.
                let wait = handle.wait();
                tokio::pin!(wait);
                let exit = loop {
                    tokio::select! {
                        exit = &mut wait => break exit,
                        _ = ticker.tick() => forward_output(&svc, &d.command_id, &plan.name, &mut tails).await,
                    }
                };
                forward_output(&svc, &d.command_id, &plan.name, &mut tails).await;
                svc.set_running(&d.command_id, None);
                exit.unwrap_or(made_up(Outcome::Lost))
            }
            Ok(Ok(Err(finished))) => finished,
            Ok(Err(e)) => made_up(Outcome::Failed {
                error: e.to_string(),
            }),
            Err(e) => made_up(Outcome::Failed {
                error: e.to_string(),
            }),
        };
        let refused = match step_reboot::after_exit(&svc, plan, &dir, &reboots, &exit) {
            Ok(()) => return RunEnd::Paused { reboot: true },
            Err(refused) => refused,
        };
        let (outcome, code, detail) = judge(&exit, plan, svc.settings.allow_reboot, refused);
        let r = doc.record(flow, outcome, code);
        let detail = explain(detail, &r);
        let mut result = result_of(
            plan,
            &dir,
            status_of(r.outcome),
            r.response_code,
            detail,
            Some(&exit),
        );
        step_reboot::note_reruns(&mut result, &reboots, &exit);
        steps.push(result);
    }
    RunEnd::Finished(CommandResult {
        command_id: d.command_id.clone(),
        not_run: None,
        steps,
    })
}
