//! The agent's JSON config file, spelled like the AWS agent's `amazon-ssm-agent.json` where a key
//! means the same thing, and read over the defaults like AWS does (a missing file, section or key
//! keeps its default).
//!
//! ```json
//! {
//!   "Mds":   { "CommandWorkersLimit": 5, "StopTimeoutMillis": 20000 },
//!   "Ssm":   { "OrchestrationDirectoryCleanup": "",
//!              "RunCommandLogsRetentionDurationHours": 72,
//!              "OrchestrationDirectoryMaxMegabytes": 512,
//!              "OrchestrationDirectoryMaxEntries": 5000,
//!              "RepliesRetentionHours": 72 },
//!   "Agent": { "AllowReboot": false, "RebootCommand": "systemctl reboot",
//!              "RebootTimeoutSeconds": 300, "MaxDownloadMegabytes": 256,
//!              "UpdateHealthTimeoutSeconds": 120 },
//!   "Mgs":   { "SessionWorkersLimit": 1000 }
//! }
//! ```
//!
//! | Key | Default | Range | Meaning |
//! |---|---|---|---|
//! | `Mds.CommandWorkersLimit` | 5 | 1..=1000 | Commands run at once. |
//! | `Mds.StopTimeoutMillis` | 20000 | 1000..=1000000 | Grace between SIGTERM and SIGKILL when a step is stopped (cancel or timeout), and between SIGHUP and SIGKILL when a session ends. |
//! | `Ssm.OrchestrationDirectoryCleanup` | `""` | `""`, `"default"`, `"clean-success"`, `"clean-success-failed"` | Delete a command's folder when it ends (see [`crate::cleanup`]). |
//! | `Ssm.RunCommandLogsRetentionDurationHours` | 72 | 1..=8760 | Age after which a command folder is swept. |
//! | `Ssm.OrchestrationDirectoryMaxMegabytes` | 512 | 1..=1048576 | Cap on the tree's disk usage, MiB (Bosun only). |
//! | `Ssm.OrchestrationDirectoryMaxEntries` | 5000 | 1..=1000000 | Cap on command folders, i.e. inodes (Bosun only). |
//! | `Ssm.RepliesRetentionHours` | 72 | 24..=720 | How long unacknowledged results are kept (Bosun only). |
//! | `Agent.AllowReboot` | false | bool | Whether a step exiting 194 or 3010 reboots the node and runs again after the boot (see [`crate::commands::reboot`]); when false such a step fails saying why (Bosun only). |
//! | `Agent.RebootCommand` | `"systemctl reboot"` | non-empty string | How the agent reboots the node: run as `/bin/sh -c <command>`; a non-zero exit fails the steps that asked (Bosun only). |
//! | `Agent.RebootTimeoutSeconds` | 300 | 10..=3600 | How long after the reboot command the node has to go down; still in the same boot after that, the steps that asked fail (Bosun only). |
//! | `Agent.MaxDownloadMegabytes` | 256 | 1..=1048576 | Largest file `aws:downloadContent` saves, MiB (Bosun only). |
//! | `Agent.UpdateHealthTimeoutSeconds` | 120 | 5..=3600 | How long a new agent installed by `aws:updateSsmAgent` has to connect and report healthy before the previous binary is restored and restarted (Bosun only). |
//! | `Mgs.SessionWorkersLimit` | 1000 | 1..=1000 | Session Manager sessions at once; more are refused (`Failed`). |
//!
//! Why these defaults: `StopTimeoutMillis` keeps AWS's number, so a value copied from an AWS
//! file behaves the same; its floor is 1 s rather than AWS's 10 s because here it is only a kill
//! grace, not an HTTP long-poll timeout. Retention is 72 h instead of AWS's 336 h: long enough
//! to look at a failure after a weekend, and a node running a command every minute holds about
//! 4300 folders, under the 5000-entry cap; AWS's 14 days of that is the inode exhaustion of
//! agent-protocol.md §2.3. 512 MiB is about 6% of the usual 8 GiB root volume. Replies are kept
//! 72 h so results survive a server outage over a weekend. Downloads are capped at 256 MiB, half
//! the orchestration cap, because they land in the command's folder by default. Reboots go through
//! `systemctl reboot` (a clean shutdown that starts at once; AWS's agent runs
//! `shutdown -r +1`, a minute later), and 300 s is ample for a node to go down after it.
//!
//! Strictness differs from AWS on purpose, because falling back silently hides mistakes:
//! invalid JSON, an unknown section or key (AWS-only keys included, and keys that differ only in
//! case, which Go's decoder would accept), a value of the wrong JSON type, an integer out of its
//! range (the error gives the range; AWS instead substitutes the default, which turns
//! `RunCommandLogsRetentionDurationHours: 1` into 336, the opposite of what was asked), an
//! unknown `OrchestrationDirectoryCleanup` value, and an empty `Agent.RebootCommand` are errors
//! naming the key. A file named on the command line must exist;
//! only the default `<state-dir>/agent.json` may be absent. `bosun-agent config check FILE` and
//! `bosun-agent run --config FILE` read a file the same way, so check accepts exactly what run
//! accepts.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::cleanup::{CleanupMode, CleanupPolicy};

/// Why the config file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    #[error("{}: {error}", path.display())]
    File {
        path: PathBuf,
        error: Box<ConfigError>,
    },
    #[error("not valid JSON: {0}")]
    Syntax(serde_json::Error),
    #[error("{what} must be a JSON object, not {found}")]
    NotAnObject { what: String, found: &'static str },
    #[error("unknown section {section:?}: {hint}")]
    UnknownSection { section: String, hint: String },
    #[error("unknown key {key:?}: {hint}")]
    UnknownKey { key: String, hint: String },
    #[error("{key} must be {expected}, not {found}")]
    Type {
        key: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{key} cannot be {value:?}; use one of {allowed}")]
    Value {
        key: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error("{key} = {given} is out of range; allowed: {min} to {max}")]
    Range {
        key: &'static str,
        given: String,
        min: u64,
        max: u64,
    },
    #[error("{key} must not be empty")]
    Empty { key: &'static str },
}

/// The agent's settings. Build with [`AgentConfig::default`], [`AgentConfig::load`],
/// [`AgentConfig::load_default`] or [`AgentConfig::from_json`]; read with the accessors, which
/// are always within range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AgentConfig {
    mds: Mds,
    ssm: Ssm,
    agent: Agent,
    mgs: Mgs,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Mds {
    command_workers_limit: u64,
    stop_timeout_millis: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Ssm {
    #[serde(serialize_with = "mode_name")]
    orchestration_directory_cleanup: CleanupMode,
    run_command_logs_retention_duration_hours: u64,
    orchestration_directory_max_megabytes: u64,
    orchestration_directory_max_entries: u64,
    replies_retention_hours: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Agent {
    allow_reboot: bool,
    reboot_command: String,
    reboot_timeout_seconds: u64,
    max_download_megabytes: u64,
    update_health_timeout_seconds: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Mgs {
    session_workers_limit: u64,
}

/// An integer key and its inclusive range.
struct Bounds {
    key: &'static str,
    min: u64,
    max: u64,
}

const fn bounds(key: &'static str, min: u64, max: u64) -> Bounds {
    Bounds { key, min, max }
}

const WORKERS: Bounds = bounds("Mds.CommandWorkersLimit", 1, 1000);
const STOP_TIMEOUT: Bounds = bounds("Mds.StopTimeoutMillis", 1000, 1_000_000);
const RETENTION: Bounds = bounds("Ssm.RunCommandLogsRetentionDurationHours", 1, 24 * 365);
const MAX_MEGABYTES: Bounds = bounds("Ssm.OrchestrationDirectoryMaxMegabytes", 1, 1 << 20);
const MAX_ENTRIES: Bounds = bounds("Ssm.OrchestrationDirectoryMaxEntries", 1, 1_000_000);
const REPLIES_RETENTION: Bounds = bounds("Ssm.RepliesRetentionHours", 24, 24 * 30);
const CLEANUP: &str = "Ssm.OrchestrationDirectoryCleanup";
const ALLOW_REBOOT: &str = "Agent.AllowReboot";
const REBOOT_COMMAND: &str = "Agent.RebootCommand";
const REBOOT_TIMEOUT: Bounds = bounds("Agent.RebootTimeoutSeconds", 10, 3600);
const MAX_DOWNLOAD: Bounds = bounds("Agent.MaxDownloadMegabytes", 1, 1 << 20);
const UPDATE_HEALTH: Bounds = bounds("Agent.UpdateHealthTimeoutSeconds", 5, 3600);
const SESSION_WORKERS: Bounds = bounds("Mgs.SessionWorkersLimit", 1, 1000);

/// Every key this file accepts, `Section.Key`.
const KEYS: [&str; 13] = [
    WORKERS.key,
    STOP_TIMEOUT.key,
    CLEANUP,
    RETENTION.key,
    MAX_MEGABYTES.key,
    MAX_ENTRIES.key,
    REPLIES_RETENTION.key,
    ALLOW_REBOOT,
    REBOOT_COMMAND,
    REBOOT_TIMEOUT.key,
    MAX_DOWNLOAD.key,
    UPDATE_HEALTH.key,
    SESSION_WORKERS.key,
];
const SECTIONS: [&str; 4] = ["Mds", "Ssm", "Agent", "Mgs"];

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            mds: Mds {
                command_workers_limit: 5,
                stop_timeout_millis: 20_000,
            },
            ssm: Ssm {
                orchestration_directory_cleanup: CleanupMode::Keep,
                run_command_logs_retention_duration_hours: 72,
                orchestration_directory_max_megabytes: 512,
                orchestration_directory_max_entries: 5000,
                replies_retention_hours: 72,
            },
            agent: Agent {
                allow_reboot: false,
                reboot_command: "systemctl reboot".into(),
                reboot_timeout_seconds: 300,
                max_download_megabytes: 256,
                update_health_timeout_seconds: 120,
            },
            mgs: Mgs {
                session_workers_limit: 1000,
            },
        }
    }
}

impl AgentConfig {
    /// Read a config file named by the operator: it must exist (`run --config FILE` and
    /// `config check FILE`).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::from_json(&text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            error: Box::new(e),
        })
    }

    /// Read the default config file (`<state-dir>/agent.json`), which may be absent: then every
    /// setting has its default.
    pub fn load_default(path: &Path) -> Result<Self, ConfigError> {
        if !path.exists() {
            tracing::debug!(path = %path.display(), "no config file; using the defaults");
            return Ok(Self::default());
        }
        Self::load(path)
    }

    /// Parse config text over the defaults.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let root: Value = serde_json::from_str(text).map_err(ConfigError::Syntax)?;
        let mut config = Self::default();
        for (section, body) in object(&root, "the config file")? {
            if !SECTIONS.contains(&section.as_str()) {
                return Err(ConfigError::UnknownSection {
                    hint: hint(section, &SECTIONS),
                    section: section.clone(),
                });
            }
            for (key, value) in object(body, &format!("section {section}"))? {
                let full = format!("{section}.{key}");
                let Some(&key) = KEYS.iter().find(|k| **k == full) else {
                    return Err(ConfigError::UnknownKey {
                        hint: hint(&full, &KEYS),
                        key: full,
                    });
                };
                let int = |b: &Bounds| integer(b, value);
                let (mds, ssm) = (&mut config.mds, &mut config.ssm);
                match key {
                    k if k == WORKERS.key => mds.command_workers_limit = int(&WORKERS)?,
                    k if k == STOP_TIMEOUT.key => mds.stop_timeout_millis = int(&STOP_TIMEOUT)?,
                    k if k == RETENTION.key => {
                        ssm.run_command_logs_retention_duration_hours = int(&RETENTION)?
                    }
                    k if k == MAX_MEGABYTES.key => {
                        ssm.orchestration_directory_max_megabytes = int(&MAX_MEGABYTES)?
                    }
                    k if k == MAX_ENTRIES.key => {
                        ssm.orchestration_directory_max_entries = int(&MAX_ENTRIES)?
                    }
                    k if k == REPLIES_RETENTION.key => {
                        ssm.replies_retention_hours = int(&REPLIES_RETENTION)?
                    }
                    k if k == MAX_DOWNLOAD.key => {
                        config.agent.max_download_megabytes = int(&MAX_DOWNLOAD)?
                    }
                    k if k == UPDATE_HEALTH.key => {
                        config.agent.update_health_timeout_seconds = int(&UPDATE_HEALTH)?
                    }
                    k if k == REBOOT_TIMEOUT.key => {
                        config.agent.reboot_timeout_seconds = int(&REBOOT_TIMEOUT)?
                    }
                    k if k == SESSION_WORKERS.key => {
                        config.mgs.session_workers_limit = int(&SESSION_WORKERS)?
                    }
                    CLEANUP => ssm.orchestration_directory_cleanup = cleanup_mode(value)?,
                    ALLOW_REBOOT => {
                        config.agent.allow_reboot = value.as_bool().ok_or(ConfigError::Type {
                            key: ALLOW_REBOOT,
                            expected: "true or false",
                            found: kind(value),
                        })?
                    }
                    REBOOT_COMMAND => config.agent.reboot_command = reboot_command(value)?,
                    _ => unreachable!("KEYS lists only the keys handled here"),
                }
            }
        }
        Ok(config)
    }

    /// Every key with its default, pretty JSON (`bosun-agent config defaults`).
    pub fn defaults_json() -> String {
        Self::default().to_json()
    }

    /// Every key with its effective value, pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain structs always serialize")
    }

    /// `Mds.CommandWorkersLimit`: how many commands may run at once.
    pub fn command_workers_limit(&self) -> usize {
        to_usize(self.mds.command_workers_limit)
    }

    /// `Mgs.SessionWorkersLimit`: how many sessions may run at once.
    pub fn session_workers_limit(&self) -> usize {
        to_usize(self.mgs.session_workers_limit)
    }

    /// `Mds.StopTimeoutMillis`: grace between SIGTERM and SIGKILL when a step is stopped (and
    /// between SIGHUP and SIGKILL when a session ends).
    pub fn stop_timeout(&self) -> Duration {
        Duration::from_millis(self.mds.stop_timeout_millis)
    }

    /// `Ssm.OrchestrationDirectoryCleanup`.
    pub fn cleanup_mode(&self) -> CleanupMode {
        self.ssm.orchestration_directory_cleanup
    }

    /// `Ssm.RunCommandLogsRetentionDurationHours`: age after which command folders are swept.
    pub fn retention(&self) -> Duration {
        hours(self.ssm.run_command_logs_retention_duration_hours)
    }

    /// `Ssm.OrchestrationDirectoryMaxMegabytes`, in bytes.
    pub fn orchestration_max_bytes(&self) -> u64 {
        self.ssm.orchestration_directory_max_megabytes << 20
    }

    /// `Ssm.OrchestrationDirectoryMaxEntries`.
    pub fn orchestration_max_entries(&self) -> usize {
        to_usize(self.ssm.orchestration_directory_max_entries)
    }

    /// `Ssm.RepliesRetentionHours`: how long an unacknowledged result is kept for resending.
    pub fn replies_retention(&self) -> Duration {
        hours(self.ssm.replies_retention_hours)
    }

    /// `Agent.AllowReboot`: whether a step exiting 194 or 3010 may reboot the node.
    pub fn allow_reboot(&self) -> bool {
        self.agent.allow_reboot
    }

    /// `Agent.RebootCommand`: the shell command that reboots the node.
    pub fn reboot_command(&self) -> &str {
        &self.agent.reboot_command
    }

    /// `Agent.RebootTimeoutSeconds`: how long the node has to go down after the reboot command.
    pub fn reboot_timeout(&self) -> Duration {
        Duration::from_secs(self.agent.reboot_timeout_seconds)
    }

    /// `Agent.UpdateHealthTimeoutSeconds`.
    pub fn update_health_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.agent.update_health_timeout_seconds)
    }

    /// `Agent.MaxDownloadMegabytes`, in bytes.
    pub fn max_download_bytes(&self) -> u64 {
        self.agent.max_download_megabytes << 20
    }

    /// The orchestration-tree policy for [`crate::cleanup`].
    pub fn cleanup_policy(&self) -> CleanupPolicy {
        CleanupPolicy {
            mode: self.cleanup_mode(),
            retention: self.retention(),
            max_bytes: self.orchestration_max_bytes(),
            max_entries: self.orchestration_max_entries(),
        }
    }
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ConfigError> {
    value.as_object().ok_or_else(|| ConfigError::NotAnObject {
        what: what.to_string(),
        found: kind(value),
    })
}

/// A whole number within `b`.
fn integer(b: &Bounds, value: &Value) -> Result<u64, ConfigError> {
    let wrong_type = || ConfigError::Type {
        key: b.key,
        expected: "a whole number",
        found: kind(value),
    };
    let n = value.as_number().ok_or_else(wrong_type)?;
    if n.as_u64().is_none() && n.as_i64().is_none() {
        return Err(wrong_type());
    }
    match n.as_u64() {
        Some(u) if (b.min..=b.max).contains(&u) => Ok(u),
        _ => Err(ConfigError::Range {
            key: b.key,
            given: n.to_string(),
            min: b.min,
            max: b.max,
        }),
    }
}

fn cleanup_mode(value: &Value) -> Result<CleanupMode, ConfigError> {
    let text = value.as_str().ok_or_else(|| ConfigError::Type {
        key: CLEANUP,
        expected: "a string",
        found: kind(value),
    })?;
    match text {
        "" | "default" => Ok(CleanupMode::Keep),
        "clean-success" => Ok(CleanupMode::CleanSuccess),
        "clean-success-failed" => Ok(CleanupMode::CleanSuccessFailed),
        other => Err(ConfigError::Value {
            key: CLEANUP,
            value: other.to_string(),
            allowed: r#""", "clean-success", "clean-success-failed""#,
        }),
    }
}

fn reboot_command(value: &Value) -> Result<String, ConfigError> {
    let text = value.as_str().ok_or_else(|| ConfigError::Type {
        key: REBOOT_COMMAND,
        expected: "a string",
        found: kind(value),
    })?;
    if text.trim().is_empty() {
        return Err(ConfigError::Empty {
            key: REBOOT_COMMAND,
        });
    }
    Ok(text.to_string())
}

fn mode_name<S: Serializer>(mode: &CleanupMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match mode {
        CleanupMode::Keep => "",
        CleanupMode::CleanSuccess => "clean-success",
        CleanupMode::CleanSuccessFailed => "clean-success-failed",
    })
}

/// "did you mean …" for a case slip, else the list of accepted names.
fn hint(name: &str, known: &[&str]) -> String {
    match known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(k) => format!("did you mean {k:?}? (names are case-sensitive)"),
        None => format!("Bosun accepts only {}", known.join(", ")),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        AgentConfig::from_json(text).unwrap_err().to_string()
    }

    #[test]
    fn missing_default_file_and_empty_object_give_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let d = AgentConfig::load_default(&dir.path().join("absent.json")).unwrap();
        assert_eq!(d, AgentConfig::default());
        assert_eq!(AgentConfig::from_json("{}").unwrap(), d);
        assert_eq!(AgentConfig::from_json(r#"{"Ssm": {}}"#).unwrap(), d);
        assert_eq!(d.command_workers_limit(), 5);
        assert_eq!(d.stop_timeout(), Duration::from_secs(20));
        assert_eq!(d.cleanup_mode(), CleanupMode::Keep);
        assert_eq!(d.retention(), Duration::from_secs(72 * 3600));
        assert_eq!(d.orchestration_max_bytes(), 512 * 1024 * 1024);
        assert_eq!(d.orchestration_max_entries(), 5000);
        assert_eq!(d.replies_retention(), Duration::from_secs(72 * 3600));
        assert!(!d.allow_reboot());
        assert_eq!(d.max_download_bytes(), 256 << 20);
        assert_eq!(d.session_workers_limit(), 1000);
        let two = AgentConfig::from_json(r#"{"Mgs": {"SessionWorkersLimit": 2}}"#).unwrap();
        assert_eq!(two.session_workers_limit(), 2);
        assert!(err(r#"{"Mgs": {"SessionWorkersLimit": 0}}"#).contains("allowed: 1 to 1000"));
        let small = AgentConfig::from_json(r#"{"Agent": {"MaxDownloadMegabytes": 1}}"#).unwrap();
        assert_eq!(small.max_download_bytes(), 1 << 20);
        let p = d.cleanup_policy();
        assert_eq!((p.max_entries, p.retention), (5000, d.retention()));
    }

    #[test]
    fn defaults_json_lists_every_key_and_reads_back() {
        let text = AgentConfig::defaults_json();
        let value: Value = serde_json::from_str(&text).unwrap();
        for key in KEYS {
            let (section, name) = key.split_once('.').unwrap();
            assert!(value[section].get(name).is_some(), "{key} missing:\n{text}");
        }
        assert_eq!(value["Ssm"]["OrchestrationDirectoryCleanup"], "");
        assert_eq!(
            AgentConfig::from_json(&text).unwrap(),
            AgentConfig::default()
        );
    }

    #[test]
    fn file_values_override_only_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.json");
        fs::write(
            &path,
            r#"{"Mds": {"CommandWorkersLimit": 2},
                "Ssm": {"OrchestrationDirectoryCleanup": "clean-success-failed",
                        "OrchestrationDirectoryMaxEntries": 100},
                "Agent": {"AllowReboot": false}}"#,
        )
        .unwrap();
        let c = AgentConfig::load(&path).unwrap();
        assert_eq!(c.command_workers_limit(), 2);
        assert_eq!(c.cleanup_mode(), CleanupMode::CleanSuccessFailed);
        assert_eq!(c.orchestration_max_entries(), 100);
        assert!(!c.allow_reboot());
        assert_eq!(c.stop_timeout(), AgentConfig::default().stop_timeout());
        assert_eq!(AgentConfig::from_json(&c.to_json()).unwrap(), c);
        for (text, mode) in [
            ("default", CleanupMode::Keep),
            ("clean-success", CleanupMode::CleanSuccess),
        ] {
            let json = format!(r#"{{"Ssm": {{"OrchestrationDirectoryCleanup": "{text}"}}}}"#);
            assert_eq!(AgentConfig::from_json(&json).unwrap().cleanup_mode(), mode);
        }
    }

    #[test]
    fn out_of_range_numbers_are_errors_giving_the_range() {
        for (text, message) in [
            (
                r#"{"Mds": {"CommandWorkersLimit": 0}}"#,
                "Mds.CommandWorkersLimit = 0 is out of range; allowed: 1 to 1000",
            ),
            (
                r#"{"Mds": {"StopTimeoutMillis": 99999999999}}"#,
                "Mds.StopTimeoutMillis = 99999999999 is out of range; allowed: 1000 to 1000000",
            ),
            (
                r#"{"Ssm": {"RunCommandLogsRetentionDurationHours": -5}}"#,
                "Ssm.RunCommandLogsRetentionDurationHours = -5 is out of range; allowed: 1 to 8760",
            ),
            (
                r#"{"Ssm": {"RepliesRetentionHours": 2}}"#,
                "Ssm.RepliesRetentionHours = 2 is out of range; allowed: 24 to 720",
            ),
        ] {
            assert_eq!(err(text), message);
        }
        // The bounds themselves are in range, including AWS's own StopTimeoutMillis bounds.
        for text in [
            r#"{"Mds": {"StopTimeoutMillis": 10000, "CommandWorkersLimit": 1000}}"#,
            r#"{"Ssm": {"RepliesRetentionHours": 24, "OrchestrationDirectoryMaxEntries": 1}}"#,
        ] {
            AgentConfig::from_json(text).unwrap();
        }
    }

    #[test]
    fn reboot_settings() {
        let d = AgentConfig::default();
        assert_eq!(d.reboot_command(), "systemctl reboot");
        assert_eq!(d.reboot_timeout(), Duration::from_secs(300));
        let c = AgentConfig::from_json(
            r#"{"Agent": {"AllowReboot": true, "RebootCommand": "/sbin/shutdown -r now",
                          "RebootTimeoutSeconds": 10}}"#,
        )
        .unwrap();
        assert!(c.allow_reboot());
        assert_eq!(c.reboot_command(), "/sbin/shutdown -r now");
        assert_eq!(c.reboot_timeout(), Duration::from_secs(10));
        assert_eq!(
            err(r#"{"Agent": {"RebootCommand": "  "}}"#),
            "Agent.RebootCommand must not be empty"
        );
        assert_eq!(
            err(r#"{"Agent": {"RebootCommand": ["systemctl", "reboot"]}}"#),
            "Agent.RebootCommand must be a string, not an array"
        );
        assert!(err(r#"{"Agent": {"RebootTimeoutSeconds": 5}}"#).contains("allowed: 10 to 3600"));
    }

    #[test]
    fn a_named_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let e = AgentConfig::load(&dir.path().join("absent.json")).unwrap_err();
        assert!(e.to_string().starts_with("cannot read"), "{e}");
    }

    #[test]
    fn mistakes_are_errors_naming_the_key() {
        assert!(err(r#"{"Mds": {"CommandWorkersLimit": 5,}}"#).contains("not valid JSON"));
        assert!(err("").contains("not valid JSON"));
        assert!(err("[]").contains("the config file must be a JSON object, not an array"));
        assert!(err(r#"{"Ssm": 3}"#).contains("section Ssm must be a JSON object"));
        let aws = err(r#"{"Mds": {"StopTimeoutMillis": 20000, "Endpoint": ""}}"#);
        assert!(aws.contains(r#"unknown key "Mds.Endpoint""#), "{aws}");
        assert!(aws.contains("Mds.CommandWorkersLimit"), "{aws}");
        let section = err(r#"{"Profile": {"ShareCreds": true}}"#);
        assert!(
            section.contains(r#"unknown section "Profile""#),
            "{section}"
        );
        let case = err(r#"{"Mds": {"commandWorkersLimit": 3}}"#);
        assert!(
            case.contains(r#"did you mean "Mds.CommandWorkersLimit""#),
            "{case}"
        );
        let case = err(r#"{"ssm": {}}"#);
        assert!(case.contains(r#"did you mean "Ssm""#), "{case}");
        let ty = err(r#"{"Mds": {"CommandWorkersLimit": "5"}}"#);
        assert_eq!(
            ty,
            "Mds.CommandWorkersLimit must be a whole number, not a string"
        );
        assert!(err(r#"{"Mds": {"StopTimeoutMillis": 1.5}}"#).contains("Mds.StopTimeoutMillis"));
        let b = err(r#"{"Agent": {"AllowReboot": "yes"}}"#);
        assert!(b.contains("Agent.AllowReboot must be true or false"), "{b}");
        let mode = err(r#"{"Ssm": {"OrchestrationDirectoryCleanup": "clean-all"}}"#);
        assert!(mode.contains("Ssm.OrchestrationDirectoryCleanup cannot be \"clean-all\""));
        // load names the file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.json");
        fs::write(&path, r#"{"Agent": {"Reboot": true}}"#).unwrap();
        let e = AgentConfig::load(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&path.display().to_string()) && e.contains("Agent.Reboot"),
            "{e}"
        );
        let e = AgentConfig::load(dir.path()).unwrap_err().to_string();
        assert!(e.starts_with("cannot read"), "{e}");
    }
}
