//! What runs after a step, and the execution's outputs when it ends.

use super::{Next, Runbook, StepOutcome};

/// The flow rules: `nextStep`, `isEnd`, `onFailure`, `onCancel`, `isCritical`, and "the last
/// step ends the execution". `failed_critical` says whether an earlier critical step failed
/// with `onFailure: Continue` (the execution then ends `Failed` when it reaches its end).
pub fn next_after(
    runbook: &Runbook,
    step: usize,
    outcome: &StepOutcome,
    failed_critical: bool,
) -> Next {
    let _ = (runbook, step, outcome, failed_critical);
    todo!()
}
