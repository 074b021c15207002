//! What an ended execution leaves on each of its nodes: the node's association status
//! (`DescribeInstanceAssociationsStatus`) and, with `SyncCompliance` `AUTO` (the default), its
//! `Association` compliance item as the agent reports it on AWS: Id = the association, no
//! title, `COMPLIANT` exactly when the node's run succeeded, the association's
//! `ComplianceSeverity` (default `UNSPECIFIED`), Details = the document's name and version.

use std::collections::{BTreeMap, HashSet};

use bosun_store::{
    AssociationExecutionRecord, AssociationRecord, CommandRecord, ComplianceItemRecord,
    NodeAssociationStatus, PluginRecord,
};
use serde_json::{Map, Value};

use crate::documents::{self, Selector};
use crate::state::AppState;

/// The compliance type State Manager writes.
pub const ASSOCIATION_COMPLIANCE: &str = "Association";

/// A node's association status for its invocation's status.
fn node_status(invocation_status: &str) -> &'static str {
    match invocation_status {
        "Success" => "Success",
        "ExecutionTimedOut" | "DeliveryTimedOut" => "TimedOut",
        "Cancelled" => "Cancelled",
        _ => "Failed",
    }
}

/// The agent's one-line account of a node's plugins, e.g. `1 out of 1 plugin processed, 1
/// success, 0 failed, 0 timedout, 0 skipped. `
fn summary(plugins: &[PluginRecord]) -> String {
    let count = |f: &dyn Fn(&str) -> bool| plugins.iter().filter(|p| f(&p.status)).count();
    let success = count(&|s| s == "Success");
    let timed_out = count(&|s| s.contains("TimedOut"));
    let skipped = count(&|s| s == "Skipped");
    let failed =
        count(&|s| !matches!(s, "Success" | "Skipped" | "Pending" | "InProgress")) - timed_out;
    let processed = success + failed + timed_out + skipped;
    let total = plugins.len();
    let noun = if total == 1 { "plugin" } else { "plugins" };
    format!(
        "{processed} out of {total} {noun} processed, {success} success, {failed} failed, \
         {timed_out} timedout, {skipped} skipped. "
    )
}

/// The document version `command` ran: its recorded number, or (when the command names none,
/// as for built-in documents) the number the association's version selector resolves to.
fn ran_version(state: &AppState, a: &AssociationRecord, command: &CommandRecord) -> String {
    if !command.document_version.is_empty() {
        return command.document_version.clone();
    }
    let wanted = Some(a.definition.document_version.as_str()).filter(|v| !v.is_empty());
    documents::resolve(
        state.store.as_ref(),
        &a.region,
        &command.document_name,
        Selector::from_request(wanted, None),
    )
    .map(|r| r.version.to_string())
    .unwrap_or_default()
}

/// The node statuses of execution `e` of `a`, run as `command`, and (unless `a` is `MANUAL`)
/// the nodes' `Association` compliance items; only for the nodes in `targeted` when given
/// (the nodes `a` targets now: a node untagged or deregistered while the command ran is no
/// longer the association's, see `forget.rs`).
pub fn of_execution(
    state: &AppState,
    a: &AssociationRecord,
    e: &AssociationExecutionRecord,
    command: &CommandRecord,
    targeted: Option<&HashSet<String>>,
) -> anyhow::Result<(Vec<NodeAssociationStatus>, Vec<ComplianceItemRecord>)> {
    let spec: Map<String, Value> =
        serde_json::from_str(&a.definition.spec_json).unwrap_or_default();
    let text = |key: &str, default: &str| {
        spec.get(key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let automatic = text("SyncCompliance", "AUTO") == "AUTO";
    let severity = text("ComplianceSeverity", "UNSPECIFIED");
    let document_version = ran_version(state, a, command);
    let details = serde_json::to_string(&BTreeMap::from([
        ("DocumentName", command.document_name.as_str()),
        ("DocumentVersion", document_version.as_str()),
    ]))?;
    let mut nodes = Vec::new();
    let mut items = Vec::new();
    for i in state.store.invocations(&command.command_id)? {
        if targeted.is_some_and(|t| !t.contains(&i.instance_id)) {
            continue;
        }
        let plugins = state.store.plugins(&command.command_id, &i.instance_id)?;
        nodes.push(NodeAssociationStatus {
            region: e.region.clone(),
            association_id: e.association_id.clone(),
            instance_id: i.instance_id.clone(),
            association_version: e.association_version,
            document_version: document_version.clone(),
            execution_id: e.execution_id.clone(),
            execution_ms: e.created_ms,
            status: node_status(&i.status).into(),
            detailed_status: i.status.clone(),
            error_code: String::new(),
            execution_summary: summary(&plugins),
            additional_info: String::new(),
        });
        if automatic {
            items.push(ComplianceItemRecord {
                region: e.region.clone(),
                resource_type: bosun_core::compliance::RESOURCE_TYPE.into(),
                resource_id: i.instance_id.clone(),
                compliance_type: ASSOCIATION_COMPLIANCE.into(),
                id: e.association_id.clone(),
                title: String::new(),
                status: if i.status == "Success" {
                    "COMPLIANT"
                } else {
                    "NON_COMPLIANT"
                }
                .into(),
                severity: severity.clone(),
                details: details.clone(),
                execution_id: e.execution_id.clone(),
                execution_type: "Command".into(),
                execution_time_ms: e.created_ms,
            });
        }
    }
    Ok((nodes, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(status: &str) -> PluginRecord {
        PluginRecord {
            command_id: "c".into(),
            instance_id: "mi-00000000000000001".into(),
            seq: 0,
            name: "aws:runShellScript".into(),
            status: status.into(),
            status_details: status.into(),
            response_code: 0,
            start_ms: None,
            end_ms: None,
            stdout: String::new(),
            stderr: String::new(),
            stdout_bytes: 0,
            stderr_bytes: 0,
            detail: String::new(),
        }
    }

    #[test]
    fn the_summary_counts_plugins_by_outcome() {
        assert_eq!(
            summary(&[plugin("Success")]),
            "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. "
        );
        assert_eq!(
            summary(&[
                plugin("Failed"),
                plugin("ExecutionTimedOut"),
                plugin("Skipped")
            ]),
            "3 out of 3 plugins processed, 0 success, 1 failed, 1 timedout, 1 skipped. "
        );
    }

    #[test]
    fn timeouts_and_cancels_keep_their_kind() {
        assert_eq!(node_status("Success"), "Success");
        assert_eq!(node_status("DeliveryTimedOut"), "TimedOut");
        assert_eq!(node_status("Cancelled"), "Cancelled");
        assert_eq!(node_status("Undeliverable"), "Failed");
    }
}
