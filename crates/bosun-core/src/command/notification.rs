//! Run Command's Amazon SNS notifications (`SendCommand`'s `NotificationConfig`), pure: what a
//! command asked to hear about, whether a status change is one of those, and the message AWS
//! sends for it.
//!
//! From AWS's user guide ("Monitoring Systems Manager status changes using Amazon SNS
//! notifications" and "Example Amazon SNS notifications for AWS Systems Manager"):
//! - Notifications go out for the statuses In Progress, Success, Failed, Timed Out and
//!   Cancelled; "Pending and Canceling … aren't captured by Amazon SNS notifications". `All`
//!   is every one of those five. `Delayed` is in no list, so it notifies nothing either.
//! - `Command` sends the command's (summary) status changes, with `commandId`, `documentName`,
//!   `instanceIds` (only the node ids the request named; `[]` for tag targeting),
//!   `requestedDateTime`, `expiresAfter`, `outputS3BucketName`, `outputS3KeyPrefix`, `status`,
//!   `eventTime`.
//! - `Invocation` sends each node's status changes, with `commandId`, `documentName`,
//!   `instanceId`, `requestedDateTime`, `status`, `eventTime`.
//! - Times are ISO-8601 in UTC; the examples show milliseconds with trailing zeros dropped
//!   (`2019-04-25T17:57:09.17Z`) and the field table whole seconds (`2016-04-26T13:15:30Z`),
//!   which [`notification_time`] reproduces.
//!
//! The docs do not say which SNS `Subject` AWS sets on these messages; Bosun sets none (see
//! [`SUBJECT`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// `NotificationEvents` values (AWS's enum).
pub const EVENTS: [&str; 6] = [
    "All",
    "InProgress",
    "Success",
    "TimedOut",
    "Cancelled",
    "Failed",
];
/// `NotificationType` values (AWS's enum).
pub const TYPES: [&str; 2] = ["Command", "Invocation"];
/// The SNS subject of a notification: AWS documents none, so none is set.
pub const SUBJECT: Option<&str> = None;

/// A command's stored notification settings: the request's `NotificationConfig` and its
/// `ServiceRoleArn` (kept and returned; Bosun has no IAM roles to assume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommandNotification {
    pub notification_arn: String,
    pub notification_events: Vec<String>,
    pub notification_type: String,
    #[serde(default)]
    pub service_role_arn: String,
}

/// What a status change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The command's aggregate status.
    Command,
    /// One node's invocation.
    Invocation,
}

/// Why a `NotificationConfig` cannot be honoured as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("NotificationConfig.NotificationEvents and NotificationType ask for notifications; give the NotificationArn of the SNS topic to send them to.")]
    MissingArn,
    #[error("NotificationConfig.NotificationEvents is empty: name at least one of All, InProgress, Success, TimedOut, Cancelled, Failed.")]
    NoEvents,
    #[error("NotificationConfig.NotificationType is missing: give Command or Invocation.")]
    NoType,
    #[error("NotificationConfig.NotificationEvents: {0} is not one of All, InProgress, Success, TimedOut, Cancelled, Failed.")]
    UnknownEvent(String),
    #[error("NotificationConfig.NotificationType: {0} is not Command or Invocation.")]
    UnknownType(String),
}

impl CommandNotification {
    /// The settings a request gives (`arn`, `events`, `kind` as sent, `service_role` the
    /// top-level `ServiceRoleArn`): `None` when it asks for no notifications at all (no ARN,
    /// no events, no type: AWS does nothing with such a config either).
    pub fn from_request(
        arn: Option<&str>,
        events: Option<&[String]>,
        kind: Option<&str>,
        service_role: Option<&str>,
    ) -> Result<Option<Self>, ConfigError> {
        let arn = arn.unwrap_or_default();
        let events = events.unwrap_or_default();
        let kind = kind.unwrap_or_default();
        if arn.is_empty() {
            return if events.is_empty() && kind.is_empty() {
                Ok(None)
            } else {
                Err(ConfigError::MissingArn)
            };
        }
        if let Some(e) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(ConfigError::UnknownEvent(e.clone()));
        }
        if events.is_empty() {
            return Err(ConfigError::NoEvents);
        }
        if kind.is_empty() {
            return Err(ConfigError::NoType);
        }
        if !TYPES.contains(&kind) {
            return Err(ConfigError::UnknownType(kind.to_string()));
        }
        Ok(Some(Self {
            notification_arn: arn.to_string(),
            notification_events: events.to_vec(),
            notification_type: kind.to_string(),
            service_role_arn: service_role.unwrap_or_default().to_string(),
        }))
    }

    /// The scope the config's type notifies about.
    pub fn scope(&self) -> Scope {
        if self.notification_type == "Invocation" {
            Scope::Invocation
        } else {
            Scope::Command
        }
    }

    /// Whether a change of `scope` to `status` (an API `Status`) is notified.
    pub fn wants(&self, scope: Scope, status: &str) -> bool {
        scope == self.scope()
            && NOTIFIED.contains(&status)
            && self
                .notification_events
                .iter()
                .any(|e| e == "All" || e == status)
    }
}

/// The statuses SNS notifications report at all.
const NOTIFIED: [&str; 5] = ["InProgress", "Success", "TimedOut", "Cancelled", "Failed"];

/// What a notification says about its command.
#[derive(Debug, Clone)]
pub struct NotifiedCommand<'a> {
    pub command_id: &'a str,
    pub document_name: &'a str,
    pub requested_ms: i64,
    pub expires_ms: i64,
    /// The node ids the request named (`InstanceIds`); empty for `Targets`.
    pub instance_ids: &'a [String],
    pub output_s3_bucket_name: &'a str,
    pub output_s3_key_prefix: &'a str,
}

/// The message of a `Command` notification: the command now has `status`, at `event_ms`.
pub fn command_message(c: &NotifiedCommand<'_>, status: &str, event_ms: i64) -> Value {
    json!({
        "commandId": c.command_id,
        "documentName": c.document_name,
        "instanceIds": c.instance_ids,
        "requestedDateTime": notification_time(c.requested_ms),
        "expiresAfter": notification_time(c.expires_ms),
        "outputS3BucketName": c.output_s3_bucket_name,
        "outputS3KeyPrefix": c.output_s3_key_prefix,
        "status": status,
        "eventTime": notification_time(event_ms),
    })
}

/// The message of an `Invocation` notification: `instance_id`'s invocation now has `status`.
pub fn invocation_message(
    c: &NotifiedCommand<'_>,
    instance_id: &str,
    status: &str,
    event_ms: i64,
) -> Value {
    json!({
        "commandId": c.command_id,
        "documentName": c.document_name,
        "instanceId": instance_id,
        "requestedDateTime": notification_time(c.requested_ms),
        "status": status,
        "eventTime": notification_time(event_ms),
    })
}

/// ISO-8601 in UTC with milliseconds, trailing zeros dropped (`…:09.17Z`, `…:30Z`), as AWS's
/// examples show.
pub fn notification_time(ms: i64) -> String {
    let t = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    let seconds = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let millis = ms.rem_euclid(1000);
    if millis == 0 {
        return format!("{seconds}Z");
    }
    let fraction = format!("{millis:03}");
    format!("{seconds}.{}Z", fraction.trim_end_matches('0'))
}

#[cfg(test)]
#[path = "notification_tests.rs"]
mod tests;
