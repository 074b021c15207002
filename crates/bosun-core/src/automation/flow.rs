//! What runs after a step: the flow rules of the user guide's "Properties shared by all
//! actions" and "Handling timeouts in runbooks".
//!
//! - Success: `nextStep` if given; else, with `isEnd`, the execution ends; else the following
//!   step; after the last step the execution ends. (`nextStep` beats `isEnd`: an explicit
//!   target is the author's choice.)
//! - A branch: the step `aws:branch` chose (one the runbook does not have fails the execution).
//! - Failed or TimedOut: `onFailure: Abort` ends the execution `Failed` (or `TimedOut` for a
//!   timeout: "By default, if an action times out, the automation execution status will be
//!   Timed Out"); `Continue` goes on as after a success; `step:<name>` goes to that step (it
//!   beats `isEnd`, as `nextStep` does).
//! - isCritical: "If a step with this designation fails, then Automation reports the final
//!   status of the Automation as Failed", and AWS's own example sets `isCritical: false` next
//!   to `onFailure: step:<name>` to keep a handled failure from failing the execution. So a
//!   critical step that fails or times out and is routed on (`Continue` or `step:<name>`)
//!   makes the execution end `Failed` when it reaches its end ([`is_critical_failure`]; the
//!   caller keeps that flag across steps).
//! - Cancelled: `onCancel: step:<name>` goes to that step, else the execution ends
//!   `Cancelled`. The caller ends a cancel flow `Cancelled` too when it finishes.
//! - Inside an `aws:loop`, the loop's inner steps are a runbook of their own ("These function
//!   like a nested runbook"): the step after the last inner step, and `isEnd`, end the
//!   iteration, and [`Next::End`] for an inner step is how the iteration ended — `Success`
//!   (the loop goes on to its next iteration) or the status the loop step ends with. AWS says
//!   the loop "inherits" its inner steps' `onFailure` and that its own `onFailure` "will only
//!   be used if an unexpected error occurs causing the step to fail": a loop ended by an inner
//!   step's `Abort` ends the execution as that `Abort` would ([`inherited_end`]); the loop's
//!   own `onFailure` applies to the loop's own errors.

use super::{ExecStatus, Next, OnCancel, OnFailure, Runbook, Step, StepOutcome};

/// Whether this outcome of `step` makes the execution fail at its end even when the flow goes
/// on: a critical step that failed or timed out.
pub fn is_critical_failure(step: &Step, outcome: &StepOutcome) -> bool {
    step.is_critical && matches!(outcome, StepOutcome::Failed | StepOutcome::TimedOut)
}

/// The flow rules: `nextStep`, `isEnd`, `onFailure`, `onCancel`, `isCritical`, and "the last
/// step ends the execution". `failed_critical` says whether an earlier critical step failed
/// and the flow went on (`onFailure: Continue` or `step:<name>`); the execution then ends
/// `Failed` when it reaches its end. This step's own outcome is counted here too.
pub fn next_after(
    runbook: &Runbook,
    step: usize,
    outcome: &StepOutcome,
    failed_critical: bool,
) -> Next {
    let Some(s) = runbook.steps.get(step) else {
        return Next::End(ExecStatus::Failed);
    };
    let failed_critical = failed_critical || is_critical_failure(s, outcome);
    let goto = |name: &str| match runbook.step_index(name) {
        Some(i) => Next::Step(i),
        None => Next::End(ExecStatus::Failed),
    };
    let end = Next::End(if failed_critical {
        ExecStatus::Failed
    } else {
        ExecStatus::Success
    });
    let onward = || {
        if let Some(n) = &s.next_step {
            goto(n)
        } else if s.is_end || step + 1 >= runbook.scope(step).end {
            end.clone()
        } else {
            Next::Step(step + 1)
        }
    };
    match outcome {
        StepOutcome::Success => onward(),
        StepOutcome::Branched(name) => goto(name),
        StepOutcome::Failed | StepOutcome::TimedOut => match &s.on_failure {
            OnFailure::Abort if *outcome == StepOutcome::TimedOut => {
                Next::End(ExecStatus::TimedOut)
            }
            OnFailure::Abort => Next::End(ExecStatus::Failed),
            OnFailure::Continue => onward(),
            OnFailure::Step(name) => goto(name),
        },
        StepOutcome::Cancelled => match &s.on_cancel {
            OnCancel::Step(name) => goto(name),
            OnCancel::Abort => Next::End(ExecStatus::Cancelled),
        },
    }
}

/// What follows a loop step ended by an inner step's failure under `onFailure: Abort`: the
/// execution ends as that `Abort` ends it (`TimedOut` for a timeout, `Cancelled` for a cancel,
/// else `Failed`), whatever the loop step's own `onFailure`.
pub fn inherited_end(outcome: &StepOutcome) -> Next {
    Next::End(match outcome {
        StepOutcome::TimedOut => ExecStatus::TimedOut,
        StepOutcome::Cancelled => ExecStatus::Cancelled,
        _ => ExecStatus::Failed,
    })
}
