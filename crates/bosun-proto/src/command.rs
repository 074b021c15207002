//! Run Command over the agent channel: delivery, acknowledgement, live output, results.
//!
//! Delivery is at least once: the server re-sends a [`CommandDelivery`] until the agent answers
//! [`crate::AgentMessage::CommandAck`] (sent only after the agent persisted it). Results are
//! spooled on the agent until the server answers [`crate::ServerMessage::ResultAck`].

use bosun_core::command::PluginOutcome;
use bosun_core::document::StepPlan;
use serde::{Deserialize, Serialize};

/// Everything an agent needs to run one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandDelivery {
    pub command_id: String,
    pub document_name: String,
    /// SHA-256 of the document content the steps were resolved from.
    pub document_hash: String,
    pub steps: Vec<StepPlan>,
    /// Epoch ms after which the command must not start (`ExpiresAfter`).
    pub deliver_by_ms: i64,
    pub region: String,
}

/// Which output stream a chunk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn file_name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// A piece of a step's output at a byte offset (base64 data, so any bytes survive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputChunk {
    pub command_id: String,
    pub step: String,
    pub stream: Stream,
    pub offset: u64,
    pub data: String,
}

/// How a step ended, as the agent saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepStatus {
    Success,
    Failed,
    /// The step ran longer than its execution timeout and was stopped.
    TimedOut,
    /// Stopped by a cancel, or not started because the command was cancelled.
    Cancelled,
    /// Not run: its precondition was false or an earlier step ended the document.
    Skipped,
    /// Never started. Agents no longer report it (a step that does not run is `Skipped` or
    /// `Cancelled`); agents before that reported early-exit steps so, and the server reads it
    /// in a final result as `Skipped` (`PluginOutcome::in_final_report`).
    NotStarted,
}

impl StepStatus {
    /// The same result in the agent vocabulary the roll-up rules use.
    pub fn outcome(self) -> PluginOutcome {
        match self {
            StepStatus::Success => PluginOutcome::Success,
            StepStatus::Failed => PluginOutcome::Failed,
            StepStatus::TimedOut => PluginOutcome::TimedOut,
            StepStatus::Cancelled => PluginOutcome::Cancelled,
            StepStatus::Skipped => PluginOutcome::Skipped,
            StepStatus::NotStarted => PluginOutcome::NotStarted,
        }
    }

    /// The status for a final step result; `None` for the reboot outcomes, which this protocol
    /// does not carry.
    pub fn of_outcome(o: PluginOutcome) -> Option<StepStatus> {
        Some(match o {
            PluginOutcome::Success => StepStatus::Success,
            PluginOutcome::Failed => StepStatus::Failed,
            PluginOutcome::TimedOut => StepStatus::TimedOut,
            PluginOutcome::Cancelled => StepStatus::Cancelled,
            PluginOutcome::Skipped => StepStatus::Skipped,
            PluginOutcome::NotStarted => StepStatus::NotStarted,
            PluginOutcome::InProgress
            | PluginOutcome::SuccessAndReboot
            | PluginOutcome::PassedAndReboot => return None,
        })
    }
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    pub name: String,
    pub status: StepStatus,
    /// Exit code; -1 when the step did not exit normally.
    pub response_code: i32,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// The first 24,000 characters of stdout.
    pub stdout: String,
    /// The first 8,000 characters of stderr.
    pub stderr: String,
    /// Full sizes of the streams in bytes (the server checks its copy against them).
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// Extra detail for the operator (e.g. "interrupted by an agent restart").
    pub detail: Option<String>,
}

/// Why a delivered command was not run at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotRunReason {
    /// It arrived after its delivery deadline.
    DeliveryTimedOut,
    /// It was cancelled before it started.
    Cancelled,
}

/// The final report of one command on one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    pub command_id: String,
    pub not_run: Option<NotRunReason>,
    pub steps: Vec<StepResult>,
}

/// Largest raw chunk of output in one message.
pub const MAX_CHUNK_BYTES: usize = 64 * 1024;
/// Characters of stdout the API returns.
pub const STDOUT_PREFIX_CHARS: usize = 24_000;
/// Characters of stderr the API returns.
pub const STDERR_PREFIX_CHARS: usize = 8_000;
