//! `aws:runDocument`: runs another Command document inside this step — a Bosun document the
//! server planned and attached when the command was sent, or a JSON/YAML file on the node
//! (relative paths under the command's download folder, so an earlier `aws:downloadContent`
//! can fetch it) planned here with the step's `documentParameters`. Its steps run one after
//! the other as in a command: preconditions, `onFailure`, `onSuccess`, `finallyStep`, exit codes
//! 168/169 (which stop the nested document only), each with its own timeout. Their output is
//! this step's output; the step fails with the first failing nested step's exit code.
//! Documents nest at most [`MAX_DOCUMENT_NESTING`] deep.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use bosun_core::command::flow::EXIT_FAILURE_STOP;
use bosun_core::command::{DocumentFlow, NextStep, PluginOutcome, StepFlow};
use bosun_core::document::{
    confined_path, plan_nested, plan_references, run_document_spec, Attachment, CommandDocument,
    DocumentFormat, NestedSource, PlatformType, StepPlan, MAX_DOCUMENT_NESTING,
};
use bosun_core::ids::step_dir_name;

use super::job::{self, Job};
use super::{plugin_for, skip_reason, unavailable, working_directory, Launch, Plugin, StepContext};

pub struct RunDocument;

impl Plugin for RunDocument {
    fn action(&self) -> &'static str {
        "aws:runDocument"
    }

    fn check(&self, plan: &StepPlan) -> Result<(), String> {
        run_document_spec(&plan.inputs).map(drop)
    }

    fn prepare(&self, plan: &StepPlan, ctx: &StepContext) -> Result<Launch, String> {
        self.check(plan)?;
        job::launch(plan, ctx)
    }
}

/// The document file a `documentPath` names: the file itself, or the only file in a folder
/// (where `aws:downloadContent` saved it under its source name).
fn document_file(path: &Path) -> Result<std::path::PathBuf, String> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let files: Vec<_> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .flatten()
        .filter(|e| e.path().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    match files.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "{} is a folder with {} files; name the document file",
            path.display(),
            files.len()
        )),
    }
}

/// A document file on the node, JSON or YAML.
fn local_document(path: &Path) -> Result<CommandDocument, String> {
    let path = &document_file(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the document {}: {e}", path.display()))?;
    let format = if text.trim_start().starts_with('{') {
        DocumentFormat::Json
    } else {
        DocumentFormat::Yaml
    };
    CommandDocument::parse(&text, format).map_err(|e| format!("{}: {e}", path.display()))
}

/// Carry out the step (in `bosun-agent run-plugin`).
pub fn run(job: &Job) -> Result<i32, String> {
    let spec = run_document_spec(&job.plan.inputs)?;
    let depth = job.ctx.depth + 1;
    if depth > MAX_DOCUMENT_NESTING {
        return Err(format!(
            "aws:runDocument may nest documents at most {MAX_DOCUMENT_NESTING} levels deep"
        ));
    }
    let steps = match (&spec.source, &job.plan.attachment) {
        (NestedSource::Document(_), Some(Attachment::Steps { steps, .. })) => steps.clone(),
        (NestedSource::Document(r), _) => {
            return Err(format!(
                "the server sent no steps for document {}; it is resolved when the command is sent",
                r.name
            ))
        }
        (NestedSource::LocalPath(p), _) => {
            let path = confined_path(&job.ctx.downloads, p)?;
            let doc = local_document(&path)?;
            let steps = plan_nested(&doc, &spec.parameters, Some(PlatformType::Linux))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if let Some(r) = plan_references(&steps).first() {
                return Err(format!(
                    "{}: {} — Parameter Store references are resolved by the server, so a document run from a file cannot use them",
                    path.display(),
                    r.token
                ));
            }
            steps
        }
    };
    Ok(run_steps(&steps, &job.ctx, depth))
}

/// Run a document's steps; the exit code is 0 or the first failing step's. Which steps run
/// follows the same rules as a command's (`bosun_core::command::flow`).
fn run_steps(steps: &[StepPlan], outer: &StepContext, depth: u32) -> i32 {
    let mut doc = DocumentFlow::new();
    let mut failure: Option<i32> = None;
    let last = steps.len().saturating_sub(1);
    for (index, plan) in steps.iter().enumerate() {
        let flow = StepFlow::of(plan);
        if doc.next_step(flow, index == last) != NextStep::Run {
            continue;
        }
        if let Some(why) = skip_reason(plan) {
            println!("{why}");
            continue;
        }
        let ctx = StepContext {
            dir: outer.dir.join("@steps").join(step_dir_name(&plan.name)),
            depth,
            ..outer.clone()
        };
        let code = match run_one(plan, &ctx) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("step {}: {e}", plan.name);
                1
            }
        };
        let outcome = if code == 0 {
            PluginOutcome::Success
        } else {
            PluginOutcome::Failed
        };
        let reported = doc.record(flow, outcome, code);
        if reported.outcome != PluginOutcome::Success && failure.is_none() {
            failure = Some(if code == EXIT_FAILURE_STOP { 1 } else { code });
        }
    }
    failure.unwrap_or(0)
}

/// Run one nested step in its own folder and wait for it, stopping it at its timeout.
fn run_one(plan: &StepPlan, ctx: &StepContext) -> Result<i32, String> {
    if let Some(why) = unavailable(plan) {
        return Err(why);
    }
    let plugin = plugin_for(&plan.action).ok_or("no plugin")?;
    bosun_fs::create_private_dir_all(&ctx.dir).map_err(|e| e.to_string())?;
    let launch = plugin.prepare(plan, ctx)?;
    for (name, text) in &launch.files {
        bosun_fs::write_atomic(&ctx.dir.join(name), text.as_bytes(), 0o600)
            .map_err(|e| e.to_string())?;
    }
    let script = ctx.dir.join(crate::step::SCRIPT_FILE);
    bosun_fs::write_atomic(&script, launch.script.as_bytes(), 0o700).map_err(|e| e.to_string())?;
    // The child stays in this step's process group, so cancelling the step stops it too.
    let mut child = Command::new("/bin/sh")
        .arg(&script)
        .current_dir(working_directory(plan, &ctx.downloads))
        .envs(plan.env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .map_err(|e| format!("could not start: {e}"))?;
    let pid = child.id();
    let (done, wait) = mpsc::channel::<()>();
    let timeout = Duration::from_secs(plan.timeout_seconds);
    let watchdog = std::thread::spawn(move || {
        let expired = matches!(
            wait.recv_timeout(timeout),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        if expired {
            kill_tree(pid);
        }
        expired
    });
    let status = child.wait().map_err(|e| e.to_string());
    let _ = done.send(());
    if watchdog.join().unwrap_or(false) {
        return Err(format!(
            "ran past its execution timeout of {} seconds and was stopped",
            plan.timeout_seconds
        ));
    }
    let status = status?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// SIGKILL a process and everything it started (found through `/proc`; the group is shared
/// with the enclosing step, so it cannot be signalled as a group).
fn kill_tree(root: u32) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let parents: Vec<(u32, u32)> = crate::step::all_processes()
        .unwrap_or_default()
        .iter()
        .map(|p| (p.pid as u32, p.ppid as u32))
        .collect();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    for pid in tree {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
}

#[cfg(test)]
#[path = "nested_tests.rs"]
mod tests;
