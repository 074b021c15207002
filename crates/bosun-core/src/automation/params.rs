//! The parameters an execution starts with.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Runbook, RunbookError};

/// Type the caller's `Parameters` (`map<string, list<string>>`) per the declarations, with
/// defaults filled in; refusals are `InvalidAutomationExecutionParametersException` messages.
pub fn resolve_parameters(
    runbook: &Runbook,
    passed: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Value>, RunbookError> {
    let _ = (runbook, passed);
    todo!()
}
