//! The events Bosun emits, in AWS's EventBridge envelope (`version`, `id`, `detail-type`,
//! `source`, `account`, `time`, `region`, `resources`, `detail`) with SSM's `detail-type`s and
//! detail fields as AWS sends them (kebab-case keys, times as ISO-8601 strings).
//!
//! Pure: the event id (a UUID) and the time are given by the caller.

use jiff::Timestamp;
use serde_json::{json, Map, Value};

/// Every SSM event's `source`.
pub const SOURCE: &str = "aws.ssm";
/// A Run Command command's aggregate status changed.
pub const COMMAND_STATUS_CHANGE: &str = "EC2 Command Status-change Notification";
/// One node's invocation of a command changed status.
pub const INVOCATION_STATUS_CHANGE: &str = "EC2 Command Invocation Status-change Notification";
/// A parameter was created, updated, deleted or labelled.
pub const PARAMETER_STORE_CHANGE: &str = "Parameter Store Change";

/// An event ready to store: its id, `detail-type` and region (kept beside the envelope for
/// routing) and the whole envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub detail_type: String,
    pub region: String,
    pub envelope: Value,
}

/// Where and when an event happens: the account and region it belongs to, its id (a UUID,
/// drawn by the caller) and the time of the change in epoch milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub id: &'a str,
    pub now_ms: i64,
}

/// The envelope's `time`: ISO-8601 in UTC to the second (`2016-07-10T21:51:32Z`).
pub fn envelope_time(ms: i64) -> String {
    timestamp(ms).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A time inside `detail`: ISO-8601 in UTC with milliseconds (`2016-07-10T21:51:30.049Z`).
pub fn detail_time(ms: i64) -> String {
    timestamp(ms).strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Build the envelope around `detail`.
pub fn envelope(
    origin: Origin<'_>,
    detail_type: &str,
    resources: Vec<String>,
    detail: Value,
) -> Event {
    let envelope = json!({
        "version": "0",
        "id": origin.id,
        "detail-type": detail_type,
        "source": SOURCE,
        "account": origin.account,
        "time": envelope_time(origin.now_ms),
        "region": origin.region,
        "resources": resources,
        "detail": detail,
    });
    Event {
        id: origin.id.to_string(),
        detail_type: detail_type.to_string(),
        region: origin.region.to_string(),
        envelope,
    }
}

/// A managed node's ARN as Run Command events name it: EC2 instances (`i-…`) as
/// `arn:aws:ec2:<region>:<account>:instance/<id>`, hybrid nodes (`mi-…`) as
/// `arn:aws:ssm:<region>:<account>:managed-instance/<id>`.
pub fn node_arn(region: &str, account: &str, instance_id: &str) -> String {
    if instance_id.starts_with("mi-") {
        format!("arn:aws:ssm:{region}:{account}:managed-instance/{instance_id}")
    } else {
        format!("arn:aws:ec2:{region}:{account}:instance/{instance_id}")
    }
}

/// What a Run Command event says about its command.
#[derive(Debug, Clone, Copy)]
pub struct CommandFacts<'a> {
    pub command_id: &'a str,
    pub document_name: &'a str,
    pub requested_ms: i64,
    pub expires_ms: i64,
    /// The command's `Parameters` as the request gave them (name → list of strings).
    pub parameters: &'a Value,
}

/// `EC2 Command Status-change Notification`: the command now has `status`; `resources` are
/// the ARNs of its nodes.
pub fn command_status_change(
    origin: Origin<'_>,
    command: &CommandFacts<'_>,
    instance_ids: &[&str],
    status: &str,
) -> Event {
    let parameters = match command.parameters {
        Value::Object(map) => Value::Object(map.clone()),
        _ => Value::Object(Map::new()),
    };
    let detail = json!({
        "command-id": command.command_id,
        "document-name": command.document_name,
        "expire-after": detail_time(command.expires_ms),
        "parameters": parameters,
        "requested-date-time": detail_time(command.requested_ms),
        "status": status,
    });
    let resources = instance_ids
        .iter()
        .map(|id| node_arn(origin.region, origin.account, id))
        .collect();
    envelope(origin, COMMAND_STATUS_CHANGE, resources, detail)
}

/// `EC2 Command Invocation Status-change Notification`: the command's invocation on
/// `instance_id` now has `status`.
pub fn invocation_status_change(
    origin: Origin<'_>,
    command: &CommandFacts<'_>,
    instance_id: &str,
    status: &str,
) -> Event {
    let detail = json!({
        "command-id": command.command_id,
        "document-name": command.document_name,
        "instance-id": instance_id,
        "requested-date-time": detail_time(command.requested_ms),
        "status": status,
    });
    let resources = vec![node_arn(origin.region, origin.account, instance_id)];
    envelope(origin, INVOCATION_STATUS_CHANGE, resources, detail)
}

/// A Run Command status moved from `old` (`None`: the command or invocation is new) to `new`:
/// one event per change of the API's `Status`, none when only details, counts or delivery
/// marks changed.
pub fn is_status_transition(old: Option<&str>, new: &str) -> bool {
    old != Some(new)
}

/// `detail.operation` of a `Parameter Store Change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterOperation {
    Create,
    Update,
    Delete,
    LabelParameterVersion,
}

impl ParameterOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
            Self::Delete => "Delete",
            Self::LabelParameterVersion => "LabelParameterVersion",
        }
    }
}

/// `Parameter Store Change`: `name` as first written (hierarchical names keep their leading
/// slash), its `type`, and its description when it has one. The value is never included.
pub fn parameter_change(
    origin: Origin<'_>,
    operation: ParameterOperation,
    name: &str,
    parameter_type: &str,
    description: &str,
) -> Event {
    let mut detail = Map::new();
    detail.insert("operation".into(), json!(operation.as_str()));
    detail.insert("name".into(), json!(name));
    detail.insert("type".into(), json!(parameter_type));
    if !description.is_empty() {
        detail.insert("description".into(), json!(description));
    }
    let resources = vec![format!(
        "arn:aws:ssm:{}:{}:{}",
        origin.region,
        origin.account,
        crate::parameters::name::arn_resource(name)
    )];
    envelope(
        origin,
        PARAMETER_STORE_CHANGE,
        resources,
        Value::Object(detail),
    )
}

/// The `Parameter Store Change` AWS sends when the asynchronous validation of an
/// `aws:ec2:image` value fails (`crate::parameters::image_data_type`): the parameter was not
/// created or updated; `operation` is the one the put would have been, and the detail adds
/// `dataType` and `exception`, as in AWS's documented example.
pub fn parameter_validation_failed(
    origin: Origin<'_>,
    operation: ParameterOperation,
    name: &str,
    parameter_type: &str,
    data_type: &str,
    exception: &str,
) -> Event {
    let mut event = parameter_change(origin, operation, name, parameter_type, "");
    if let Some(detail) = event.envelope["detail"].as_object_mut() {
        detail.insert("dataType".into(), json!(data_type));
        detail.insert("exception".into(), json!(exception));
    }
    event
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
