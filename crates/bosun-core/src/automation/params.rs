//! The parameters an execution starts with: the caller's `Parameters` checked against the
//! runbook's declarations by the same rules as Run Command's (`document::resolve_parameters`:
//! unknown names, missing required values, `allowedValues`, `allowedPattern`, min/max), then
//! typed (`document::typed_value`: String → string, StringList → array, Integer → number,
//! Boolean → bool, StringMap → object, MapList → array of objects).
//!
//! `{{ssm:…}}` values and defaults are passed through as text; the server resolves them before
//! calling this (reference §7.4: AWS resolves them when the execution starts).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Runbook, RunbookError};
use crate::document::{self, typed_value};

/// Type the caller's `Parameters` (`map<string, list<string>>`) per the declarations, with
/// defaults filled in; refusals are `InvalidAutomationExecutionParametersException` messages.
pub fn resolve_parameters(
    runbook: &Runbook,
    passed: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Value>, RunbookError> {
    let resolved =
        document::resolve_parameters(&runbook.parameters, passed).map_err(|e| RunbookError(e.0))?;
    Ok(runbook
        .parameters
        .iter()
        .filter_map(|(name, decl)| {
            let values = resolved.get(name)?;
            Some((name.clone(), typed_value(decl, values)))
        })
        .collect())
}
