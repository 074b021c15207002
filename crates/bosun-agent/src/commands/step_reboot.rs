//! A step's side of the reboot protocol (see `reboot`): before it starts (is it awaiting a
//! reboot, running again after one, or failed because the reboot did not happen?), after it
//! exits (record a reboot request), and how such a step reports.

use std::path::Path;

use bosun_core::command::reboot::{
    not_allowed_message, reboot_ask, too_many_message, RebootAsk, StepResume, MAX_REBOOTS_PER_STEP,
};
use bosun_core::document::StepPlan;
use bosun_proto::command::StepResult;

use super::reboot::{record_step_failure, record_step_reboot, step_reboots, StepReboot};
use super::{now_ms, CommandService};
use crate::step::{self, StepExit};

/// A step has run files: it was started, or it is over.
fn has_run_files(dir: &Path) -> bool {
    dir.join(step::SUPERVISOR_FILE).exists() || dir.join(step::EXIT_FILE).exists()
}

/// What to do with a step before starting or attaching to it.
pub(super) enum BeforeStart {
    /// Go on: start it (`started_before` false) or attach to / re-read its run.
    Go {
        started_before: bool,
        /// Its reboot requests so far, oldest first.
        reboots: Vec<StepReboot>,
    },
    /// Stop the document here for now: the step awaits its reboot (`reboot`), or the node is
    /// rebooting and no step may start.
    Pause { reboot: bool },
    /// It cannot go on: fail it with this reason.
    Fail(String),
}

/// Decide a step that is about to run; `dir` is its folder if it has one.
pub(super) fn before_start(svc: &CommandService, dir: Option<&Path>) -> BeforeStart {
    let Some(dir) = dir else {
        return if svc.is_rebooting() {
            BeforeStart::Pause { reboot: false }
        } else {
            BeforeStart::Go {
                started_before: false,
                reboots: Vec::new(),
            }
        };
    };
    let reboots = match step_reboots(dir) {
        Ok(r) => r,
        Err(e) => return BeforeStart::Fail(format!("could not read its reboot records: {e}")),
    };
    if has_run_files(dir) {
        return BeforeStart::Go {
            started_before: true,
            reboots,
        };
    }
    if let Some(last) = reboots.last() {
        let why = match svc.step_resume(last) {
            Ok(StepResume::Rerun) => None,
            Ok(StepResume::AwaitReboot) if svc.settings.allow_reboot => {
                return BeforeStart::Pause { reboot: true }
            }
            // Turned off since the request: the step fails rather than reboot the node.
            Ok(StepResume::AwaitReboot) => {
                Some("Agent.AllowReboot was turned off before the node rebooted".to_string())
            }
            Ok(StepResume::Failed(why)) => Some(why),
            Err(e) => {
                return BeforeStart::Fail(format!(
                    "could not tell whether the node rebooted as the step asked: {e}"
                ))
            }
        };
        if let Some(why) = why {
            return match record_step_failure(dir, last, why) {
                Ok(_) => BeforeStart::Go {
                    started_before: true,
                    reboots,
                },
                Err(e) => BeforeStart::Fail(format!("could not record its failed reboot: {e}")),
            };
        }
    }
    if svc.is_rebooting() {
        return BeforeStart::Pause { reboot: false };
    }
    BeforeStart::Go {
        started_before: false,
        reboots,
    }
}

/// After a step's run: `Ok(())` when its exit is a reboot request the agent took (recorded; the
/// document pauses), else `Err` with why a reboot exit was not taken, if it was one.
pub(super) fn after_exit(
    svc: &CommandService,
    plan: &StepPlan,
    dir: &Path,
    reboots: &[StepReboot],
    exit: &StepExit,
) -> Result<(), Option<String>> {
    let step::Outcome::Exited { code } = exit.outcome else {
        return Err(None);
    };
    if !svc.settings.allow_reboot || reboot_ask(&plan.action, code) != RebootAsk::Yes {
        return Err(None);
    }
    let recorded = reboots.last().is_some_and(|r| &r.exit == exit);
    if reboots.len() - usize::from(recorded) >= MAX_REBOOTS_PER_STEP {
        return Err(Some(too_many_message(code)));
    }
    let ask = |boot_id| StepReboot {
        boot_id,
        asked_ms: now_ms(),
        exit: exit.clone(),
    };
    svc.boot_id()
        .and_then(|boot| record_step_reboot(dir, reboots, ask(boot)))
        .map_err(|e| {
            Some(format!(
                "the step asked for a reboot (exit code {code}), but the agent could not record \
                 the request, so it did not reboot: {e}"
            ))
        })?;
    tracing::info!(step = %plan.name, code, "the step asked for a reboot");
    Ok(())
}

/// Why a reboot exit code fails its step (`refused`: the reason [`after_exit`] gave, if any).
pub(super) fn reboot_refusal(
    action: &str,
    code: i32,
    allow_reboot: bool,
    refused: Option<String>,
) -> Option<String> {
    match reboot_ask(action, code) {
        RebootAsk::No => None,
        RebootAsk::NotHere(why) => Some(format!(
            "the step exited {code}, which asks for a reboot, but {why}"
        )),
        RebootAsk::Yes if !allow_reboot => Some(not_allowed_message(code)),
        RebootAsk::Yes => Some(refused.unwrap_or_else(|| too_many_message(code))),
    }
}

/// A step that ran again after reboots keeps its first run's start, as AWS's agent reports it,
/// and says how it got there.
pub(super) fn note_reruns(result: &mut StepResult, reboots: &[StepReboot], last: &StepExit) {
    let Some(first) = reboots.first() else {
        return;
    };
    result.start_ms = Some(first.exit.start_ms as i64);
    // The last request's reboot did not happen when it failed.
    let failed = matches!(last.outcome, step::Outcome::RebootFailed { .. });
    let n = reboots.len() - usize::from(failed);
    if n == 0 {
        return;
    }
    let note = format!(
        "the step asked for a reboot {n} time{s}; the node rebooted and the step ran again{after} \
         (its output is that of every run)",
        s = if n == 1 { "" } else { "s" },
        after = if n == 1 { "" } else { " after each" },
    );
    result.detail = Some(match result.detail.take() {
        Some(d) => format!("{d}; {note}"),
        None => note,
    });
}
