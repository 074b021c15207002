//! Step flow within one run of a document on a node: which step runs next and what each step
//! reports, following the AWS agent. Exit codes 168/169, `onSuccess: exit`,
//! `onFailure: exit | successAndExit`, `finallyStep`, and cancellation.
//!
//! Source: `aws/amazon-ssm-agent`, `agent/framework/runpluginutil/runpluginutil.go`
//! (`RunPlugins` and `getShouldPluginSkipBasedOnControlFlow`):
//! - A step that exits 168 is reported `Success` and every later step is skipped.
//! - A step that exits 169 is reported `Failed` (its exit code is not 0) and every later step is
//!   skipped.
//! - A `Failed` step with `onFailure: exit` skips every later step; with `successAndExit` it is
//!   reported `Success` with response code 168 and skips every later step.
//! - A `Success` step with `onSuccess: exit` skips every later step.
//! - `onFailure` applies to `Failed` steps only: the agent reports a step stopped at its
//!   execution timeout as `TimedOut`, not `Failed`, and the document goes on.
//! - A `finallyStep` runs even after such an exit, when it is the last step (document
//!   validation refuses it anywhere else).
//! - A skipped step is reported with the agent's `Skipped` status, response code 0 and a
//!   message saying why. The service shows `Skipped` as `Success` (see
//!   [`PluginOutcome::status`]), so an early-exit document ends `Success` after 168,
//!   `onSuccess: exit` and `successAndExit`, and `Failed` after 169 and `onFailure: exit`.
//! - After a cancel the agent's plugins find the cancel flag set and mark themselves
//!   `Cancelled` without running, so every later step (a `finallyStep` too) is `Cancelled`.
//!
//! The caller runs the steps; [`DocumentFlow`] decides and labels. Pure: no IO, no clock.

use super::plugin::PluginOutcome;
use crate::document::{OnFailure, StepPlan};

/// Exit code that means "succeeded; skip the remaining steps".
pub const EXIT_SUCCESS_STOP: i32 = 168;
/// Exit code that means "failed; skip the remaining steps".
pub const EXIT_FAILURE_STOP: i32 = 169;

/// A step's flow settings (`inputs.onFailure`, `inputs.onSuccess`, `inputs.finallyStep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepFlow {
    pub on_failure: OnFailure,
    pub exit_on_success: bool,
    pub finally_step: bool,
}

impl StepFlow {
    pub fn of(plan: &StepPlan) -> Self {
        StepFlow {
            on_failure: plan.on_failure,
            exit_on_success: plan.exit_on_success,
            finally_step: plan.finally_step,
        }
    }
}

/// What to do with the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Run it (or decide it some other way: precondition, missing plugin) and [`record`] it.
    ///
    /// [`record`]: DocumentFlow::record
    Run,
    /// An earlier step ended the document: report [`skipped_after_exit`].
    SkipAfterExit,
    /// The command was cancelled: report it `Cancelled` without running it.
    Cancelled,
}

/// What a step reports once the flow rules are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported {
    pub outcome: PluginOutcome,
    pub response_code: i32,
    /// Why the document ends here, for the operator; `None` when it goes on.
    pub note: Option<&'static str>,
}

/// The result of a step skipped because an earlier step ended the document.
pub fn skipped_after_exit() -> Reported {
    Reported {
        outcome: PluginOutcome::Skipped,
        response_code: 0,
        note: None,
    }
}

/// The message a step skipped after an early exit shows as its output.
pub fn skipped_after_exit_message(action: &str, step: &str) -> String {
    format!(
        "Step {step} ({action}) was skipped: an earlier step ended the document \
         (exit code 168 or 169, onSuccess: exit or onFailure)."
    )
}

/// The result of a step not run because the command was cancelled.
pub fn cancelled_before_start() -> Reported {
    Reported {
        outcome: PluginOutcome::Cancelled,
        response_code: -1,
        note: Some("the command was cancelled before this step started"),
    }
}

/// Where a document run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DocumentFlow {
    exited: bool,
    cancelled: bool,
}

impl DocumentFlow {
    pub fn new() -> Self {
        Self::default()
    }

    /// An earlier step ended the document (168, 169, `onSuccess`/`onFailure` exit).
    pub fn exited(&self) -> bool {
        self.exited
    }

    pub fn cancelled(&self) -> bool {
        self.cancelled
    }

    /// What to do with the step `flow` describes; `is_last`: it is the document's last step.
    pub fn next_step(&self, flow: StepFlow, is_last: bool) -> NextStep {
        if self.cancelled {
            NextStep::Cancelled
        } else if self.exited && !(flow.finally_step && is_last) {
            NextStep::SkipAfterExit
        } else {
            NextStep::Run
        }
    }

    /// The command was cancelled: no later step runs.
    pub fn cancel(&mut self) {
        self.cancelled = true;
    }

    /// Record how a step ended (`outcome` as the step itself ended: any non-zero exit is
    /// `Failed`, 168 and 169 included) and return what it reports.
    pub fn record(&mut self, flow: StepFlow, outcome: PluginOutcome, code: i32) -> Reported {
        use PluginOutcome as P;
        let ran = matches!(outcome, P::Success | P::Failed);
        let (outcome, response_code, exit): (_, _, Option<&'static str>) = if outcome
            == P::Cancelled
        {
            self.cancelled = true;
            (outcome, code, None)
        } else if ran && code == EXIT_SUCCESS_STOP {
            (
                P::Success,
                code,
                Some("exit code 168: the step succeeded and the remaining steps are skipped"),
            )
        } else if ran && code == EXIT_FAILURE_STOP {
            (
                P::Failed,
                code,
                Some("exit code 169: the step failed and the remaining steps are skipped"),
            )
        } else if outcome == P::Failed && flow.on_failure == OnFailure::Exit {
            (
                outcome,
                code,
                Some("the step failed with onFailure: exit, so the remaining steps are skipped"),
            )
        } else if outcome == P::Failed && flow.on_failure == OnFailure::SuccessAndExit {
            (
                P::Success,
                EXIT_SUCCESS_STOP,
                Some("the step failed with onFailure: successAndExit, so it counts as succeeded and the remaining steps are skipped"),
            )
        } else if outcome == P::Success && flow.exit_on_success {
            (
                outcome,
                code,
                Some("the step succeeded with onSuccess: exit, so the remaining steps are skipped"),
            )
        } else {
            (outcome, code, None)
        };
        self.exited |= exit.is_some();
        Reported {
            outcome,
            response_code,
            note: exit,
        }
    }
}

#[cfg(test)]
#[path = "flow_tests.rs"]
mod tests;
