//! `aws:branch`: which step a branch step goes to.

use serde_json::Value;

use super::InterpolateError;

/// Evaluate an interpolated `aws:branch` step's inputs: the `NextStep` of the first matching
/// choice, else `Default`, else `Ok(None)` (the step fails: no choice matched).
pub fn choose_branch(inputs: &Value) -> Result<Option<String>, InterpolateError> {
    let _ = inputs;
    todo!()
}
