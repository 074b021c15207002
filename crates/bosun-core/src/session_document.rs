//! Session documents as `StartSession` uses them: what a session runs (its `sessionType`,
//! command or port, interpolated with the request's parameters) and the Session Manager
//! preferences that govern it (the `inputs` of a Standard_Stream document such as
//! `SSM-SessionManagerRunShell`): time limits, run-as user, shell profile.
//!
//! Pure: content comes in parsed and validated (`document::validate`), nothing is read here.
//! Bosun extensions (documented in the README): `idleSessionTimeoutSeconds` and
//! `maxSessionDurationSeconds` in `inputs` take precedence over the minute inputs, and
//! `idleSessionTimeoutCountsInput` (default `true`) says whether the client's input resets the
//! idle timer (output always does).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::document::{resolve_parameters, typed_value, ParameterDecl};

/// AWS's default idle timeout: 20 minutes.
pub const DEFAULT_IDLE_TIMEOUT_S: i64 = 20 * 60;
/// The document `StartSession` uses when the request names none.
pub const DEFAULT_SESSION_DOCUMENT: &str = "SSM-SessionManagerRunShell";

/// Why a session document or the preferences cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionDocError {
    /// The document itself is unusable (`InvalidDocument`).
    #[error("{0}")]
    InvalidDocument(String),
    /// The request's parameters do not fit the document (`InvalidParameters`).
    #[error("{0}")]
    InvalidParameters(String),
    /// The preferences ask for something Bosun does not do.
    #[error("{0}")]
    Unsupported(String),
}

/// A document's `sessionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionType {
    StandardStream,
    InteractiveCommands,
    NonInteractiveCommands,
    Port,
}

impl SessionType {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "Standard_Stream" => Self::StandardStream,
            "InteractiveCommands" => Self::InteractiveCommands,
            "NonInteractiveCommands" => Self::NonInteractiveCommands,
            "Port" => Self::Port,
            _ => return None,
        })
    }

    /// Whether the session runs on a terminal (the client's keystrokes are echoed by it).
    pub fn has_pty(self) -> bool {
        matches!(self, Self::StandardStream | Self::InteractiveCommands)
    }
}

/// Where a port session connects, with the request's values interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortPlan {
    pub port_number: u16,
    pub host: Option<String>,
    pub forwarding_type: Option<String>,
    pub local_port_number: Option<String>,
}

/// What a session runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPlan {
    pub session_type: SessionType,
    /// The command of a command session, or a Standard_Stream document's
    /// `properties.linux.commands`.
    pub command: Option<String>,
    pub port: Option<PortPlan>,
}

/// The preferences that govern a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub idle_timeout_s: i64,
    /// `None`: no maximum.
    pub max_duration_s: Option<i64>,
    /// Whether client input resets the idle timer (output always does).
    pub idle_counts_input: bool,
    pub run_as_enabled: bool,
    pub run_as_default_user: Option<String>,
    pub shell_profile_linux: Option<String>,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            idle_timeout_s: DEFAULT_IDLE_TIMEOUT_S,
            max_duration_s: None,
            idle_counts_input: true,
            run_as_enabled: false,
            run_as_default_user: None,
            shell_profile_linux: None,
        }
    }
}

/// The `sessionType` of a (validated) Session document.
pub fn session_type(doc: &Value) -> Result<SessionType, SessionDocError> {
    doc.get("sessionType")
        .and_then(Value::as_str)
        .and_then(SessionType::parse)
        .ok_or_else(|| {
            SessionDocError::InvalidDocument("The document has no valid sessionType.".into())
        })
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A whole-number input in `min..=max`; `None` when absent or empty.
fn number(inputs: &Value, key: &str, min: i64, max: i64) -> Result<Option<i64>, SessionDocError> {
    let Some(raw) = text(inputs.get(key)).filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(SessionDocError::InvalidDocument(format!(
            "inputs.{key} is {raw}; it must be a whole number from {min} to {max}."
        ))),
    }
}

fn flag(inputs: &Value, key: &str, default: bool) -> bool {
    match inputs.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => default,
    }
}

/// The preferences in a Standard_Stream document's `inputs`. Logging to S3 or CloudWatch and
/// KMS encryption are refused: Bosun keeps session logs in its own blob store and does not
/// encrypt session data with KMS, and accepting them would pretend otherwise.
pub fn preferences(doc: &Value) -> Result<Preferences, SessionDocError> {
    let empty = Value::Object(Default::default());
    let inputs = doc.get("inputs").unwrap_or(&empty);
    for (key, what) in [
        ("kmsKeyId", "encrypt session data with KMS (kmsKeyId)"),
        ("s3BucketName", "send session logs to S3 (s3BucketName)"),
        (
            "cloudWatchLogGroupName",
            "send session logs to CloudWatch Logs (cloudWatchLogGroupName)",
        ),
    ] {
        if text(inputs.get(key)).is_some_and(|v| !v.trim().is_empty()) {
            return Err(SessionDocError::Unsupported(format!(
                "The Session Manager preferences ask Bosun to {what}, which it does not do; \
                 remove {key} from the preferences document. Bosun keeps session logs itself."
            )));
        }
    }
    let idle_minutes = number(inputs, "idleSessionTimeout", 1, 60)?;
    let idle_seconds = number(inputs, "idleSessionTimeoutSeconds", 1, 3600)?;
    let max_minutes = number(inputs, "maxSessionDuration", 1, 1440)?;
    let max_seconds = number(inputs, "maxSessionDurationSeconds", 1, 86_400)?;
    let run_as_default_user = text(inputs.get("runAsDefaultUser")).filter(|u| !u.is_empty());
    let shell_profile_linux = inputs
        .pointer("/shellProfile/linux")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    Ok(Preferences {
        idle_timeout_s: idle_seconds
            .or(idle_minutes.map(|m| m * 60))
            .unwrap_or(DEFAULT_IDLE_TIMEOUT_S),
        max_duration_s: max_seconds.or(max_minutes.map(|m| m * 60)),
        idle_counts_input: flag(inputs, "idleSessionTimeoutCountsInput", true),
        run_as_enabled: flag(inputs, "runAsEnabled", false),
        run_as_default_user,
        shell_profile_linux,
    })
}

/// Replace every `{{ name }}` in `text` with the parameter's value.
fn interpolate(
    text: &str,
    decls: &[(String, ParameterDecl)],
    values: &BTreeMap<String, Vec<String>>,
) -> Result<String, SessionDocError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        let name = rest[open + 2..close].trim();
        let decl = decls.iter().find(|(n, _)| n == name).map(|(_, d)| d);
        let (Some(decl), Some(v)) = (decl, values.get(name)) else {
            return Err(SessionDocError::InvalidDocument(format!(
                "The document references {{{{ {name} }}}}, which is not one of its parameters."
            )));
        };
        out.push_str(&rest[..open]);
        match typed_value(decl, v) {
            Value::String(s) => out.push_str(&s),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What a validated Session document runs with the request's `parameters`.
/// `parameters` are checked against the document's declarations (`decls`): unknown names,
/// missing required ones and values outside `allowedPattern`/`allowedValues` are refused.
pub fn plan(
    doc: &Value,
    decls: &[(String, ParameterDecl)],
    parameters: &BTreeMap<String, Vec<String>>,
) -> Result<SessionPlan, SessionDocError> {
    let session_type = session_type(doc)?;
    let values = resolve_parameters(decls, parameters)
        .map_err(|e| SessionDocError::InvalidParameters(e.0))?;
    let prop = |path: &str| -> Result<Option<String>, SessionDocError> {
        match text(doc.pointer(path)) {
            Some(t) => Ok(Some(interpolate(&t, decls, &values)?)),
            None => Ok(None),
        }
    };
    let command = match session_type {
        SessionType::Port => None,
        _ => {
            let c = match doc.pointer("/properties/linux/commands") {
                Some(Value::Array(lines)) => Some(
                    lines
                        .iter()
                        .map(|l| text(Some(l)).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                _ => text(doc.pointer("/properties/linux/commands")),
            };
            match c {
                Some(c) => Some(interpolate(&c, decls, &values)?),
                None => None,
            }
        }
    };
    let command = command.filter(|c| !c.trim().is_empty());
    if matches!(
        session_type,
        SessionType::InteractiveCommands | SessionType::NonInteractiveCommands
    ) && command.is_none()
    {
        return Err(SessionDocError::InvalidParameters(
            "The session runs a command, but the command is empty.".into(),
        ));
    }
    let port = if session_type == SessionType::Port {
        let raw = prop("/properties/portNumber")?.ok_or_else(|| {
            SessionDocError::InvalidDocument("A Port document needs properties.portNumber.".into())
        })?;
        let port_number = raw
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                SessionDocError::InvalidParameters(format!(
                    "portNumber {raw} is not a port from 1 to 65535."
                ))
            })?;
        Some(PortPlan {
            port_number,
            host: prop("/properties/host")?.filter(|h| !h.trim().is_empty()),
            forwarding_type: prop("/properties/type")?,
            local_port_number: prop("/properties/localPortNumber")?,
        })
    } else {
        None
    };
    Ok(SessionPlan {
        session_type,
        command,
        port,
    })
}

/// Why a running session must end now, if it must: the maximum duration (counted from
/// `start_ms`) or the idle timeout (counted from `last_activity_ms`). Both to the second.
pub fn time_limit_reached(
    prefs_idle_s: i64,
    max_duration_s: Option<i64>,
    start_ms: i64,
    last_activity_ms: i64,
    now_ms: i64,
) -> Option<TimeLimit> {
    if max_duration_s.is_some_and(|m| now_ms >= start_ms + m * 1000) {
        return Some(TimeLimit::MaxDuration);
    }
    if now_ms >= last_activity_ms + prefs_idle_s * 1000 {
        return Some(TimeLimit::Idle);
    }
    None
}

/// Which limit ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    Idle,
    MaxDuration,
}

impl TimeLimit {
    /// The text `DescribeSessions` shows as `Details` and the client sees in `channel_closed`.
    pub fn message(self, seconds: i64) -> String {
        match self {
            TimeLimit::Idle => format!(
                "The session ended after {} of inactivity (idle session timeout).",
                duration_text(seconds)
            ),
            TimeLimit::MaxDuration => format!(
                "The session reached its maximum duration of {} (maximum session duration).",
                duration_text(seconds)
            ),
        }
    }
}

fn duration_text(seconds: i64) -> String {
    if seconds % 60 == 0 {
        let m = seconds / 60;
        format!("{m} minute{}", if m == 1 { "" } else { "s" })
    } else {
        format!("{seconds} second{}", if seconds == 1 { "" } else { "s" })
    }
}

#[cfg(test)]
#[path = "session_document_tests.rs"]
mod tests;
