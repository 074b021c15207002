//! Automation's events in AWS's envelope: `EC2 Automation Execution Status-change
//! Notification` (an execution ended) and `EC2 Automation Step Status-change Notification` (one
//! of its steps ended), as the SSM user guide's event examples show them (api-surface.md §5.6).
//!
//! AWS's quirks are kept: detail keys are PascalCase, `StartTime`/`EndTime` are Java-style
//! dates in UTC (`Nov 29, 2016 7:43:25 PM`), `DefinitionVersion` is a JSON number (`1.0`),
//! `Time` is the duration in milliseconds as a float, and `resources` name the execution
//! (`automation-execution/<id>`) and the runbook version (`automation-definition/<name>:<v>`).
//! Only the execution event carries `ExecutedBy`; only the step event `StepName` and `Action`.
//!
//! **Which changes emit** ([`emits_status_change`]): entering a final status (`Success`,
//! `Failed`, `TimedOut`, `Cancelled`, and `Rejected` for approvals), once. Source: the SSM user
//! guide's "Reference: Amazon EventBridge event patterns and types for Systems Manager"
//! (reference-eventbridge-events, "Event type: Automation") describes both events as "the
//! status … changes" and lets a rule pick from a list of statuses, and the guide's examples
//! ("Amazon EventBridge event examples for Systems Manager") are of ended executions and steps:
//! every detail has an `EndTime` and a duration `Time`, which a running one does not have. So
//! Bosun emits no event for `Pending`, `InProgress`, `Waiting` or `Cancelling`: an event with an
//! end time that has not happened would be made up.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::envelope::{envelope, Event, Origin};
use crate::automation::ExecStatus;

/// An automation execution reached a final status.
pub const AUTOMATION_EXECUTION_STATUS_CHANGE: &str =
    "EC2 Automation Execution Status-change Notification";
/// One step of an automation execution reached a final status.
pub const AUTOMATION_STEP_STATUS_CHANGE: &str = "EC2 Automation Step Status-change Notification";

/// Whether a change of an execution's or step's status from `old` (`None`: new) to `new`
/// emits its event: `new` is final and was not the status before (see the module doc).
pub fn emits_status_change(old: Option<&str>, new: &str) -> bool {
    old != Some(new) && ExecStatus::parse(new).is_some_and(ExecStatus::is_terminal)
}

/// What both events say about the execution.
#[derive(Debug, Clone, Copy)]
pub struct AutomationFacts<'a> {
    pub execution_id: &'a str,
    /// The runbook's name (`Definition`).
    pub document_name: &'a str,
    /// The runbook version that ran (`"1"`, …).
    pub document_version: &'a str,
}

/// The execution's ARN: `arn:aws:ssm:<region>:<account>:automation-execution/<id>`.
pub fn execution_arn(region: &str, account: &str, execution_id: &str) -> String {
    format!("arn:aws:ssm:{region}:{account}:automation-execution/{execution_id}")
}

/// The runbook version's ARN:
/// `arn:aws:ssm:<region>:<account>:automation-definition/<name>:<version>`.
pub fn definition_arn(region: &str, account: &str, name: &str, version: &str) -> String {
    format!("arn:aws:ssm:{region}:{account}:automation-definition/{name}:{version}")
}

/// A time as Automation's events write it: `MMM d, yyyy h:mm:ss a` in UTC
/// (`Nov 29, 2016 7:43:25 PM`).
pub fn automation_time(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(TimeZone::UTC)
        .strftime("%b %-d, %Y %-I:%M:%S %p")
        .to_string()
}

/// `DefinitionVersion`: the version as a JSON number (`1.0`); a version that is not a number
/// is kept as its text rather than made up.
fn definition_version(version: &str) -> Value {
    match version.parse::<f64>() {
        Ok(v) if v.is_finite() => json!(v),
        _ => json!(version),
    }
}

/// The detail both events share, and their `resources`.
fn common(
    origin: &Origin<'_>,
    facts: &AutomationFacts<'_>,
    status: &str,
    start_ms: i64,
    end_ms: i64,
) -> (Map<String, Value>, Vec<String>) {
    let mut detail = Map::new();
    detail.insert("ExecutionId".into(), json!(facts.execution_id));
    detail.insert("Definition".into(), json!(facts.document_name));
    detail.insert(
        "DefinitionVersion".into(),
        definition_version(facts.document_version),
    );
    detail.insert("Status".into(), json!(status));
    detail.insert("StartTime".into(), json!(automation_time(start_ms)));
    detail.insert("EndTime".into(), json!(automation_time(end_ms)));
    detail.insert("Time".into(), json!((end_ms - start_ms).max(0) as f64));
    let resources = vec![
        execution_arn(origin.region, origin.account, facts.execution_id),
        definition_arn(
            origin.region,
            origin.account,
            facts.document_name,
            facts.document_version,
        ),
    ];
    (detail, resources)
}

/// `EC2 Automation Execution Status-change Notification`: the execution started at
/// `start_ms` by `executed_by` ended at `end_ms` with `status`.
pub fn execution_status_change(
    origin: Origin<'_>,
    facts: &AutomationFacts<'_>,
    executed_by: &str,
    status: &str,
    start_ms: i64,
    end_ms: i64,
) -> Event {
    let (mut detail, resources) = common(&origin, facts, status, start_ms, end_ms);
    detail.insert("ExecutedBy".into(), json!(executed_by));
    envelope(
        origin,
        AUTOMATION_EXECUTION_STATUS_CHANGE,
        resources,
        Value::Object(detail),
    )
}

/// One step's end, for `EC2 Automation Step Status-change Notification`.
#[derive(Debug, Clone, Copy)]
pub struct StepEnd<'a> {
    pub step_name: &'a str,
    /// `aws:runCommand`, …
    pub action: &'a str,
    pub status: &'a str,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// `EC2 Automation Step Status-change Notification`: step `step.step_name` of the execution
/// ended with `step.status`.
pub fn step_status_change(
    origin: Origin<'_>,
    facts: &AutomationFacts<'_>,
    step: &StepEnd<'_>,
) -> Event {
    let (mut detail, resources) = common(&origin, facts, step.status, step.start_ms, step.end_ms);
    detail.insert("StepName".into(), json!(step.step_name));
    detail.insert("Action".into(), json!(step.action));
    envelope(
        origin,
        AUTOMATION_STEP_STATUS_CHANGE,
        resources,
        Value::Object(detail),
    )
}

#[cfg(test)]
#[path = "envelope_automation_tests.rs"]
mod tests;
