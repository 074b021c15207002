//! Wire spellings of [`ExecStatus`] and [`Action`].
//!
//! Terminal statuses: the user guide ("Understanding automation statuses") documents
//! `Pending`, `InProgress`, `Waiting` and `Cancelling` as the statuses that still change and
//! `Success`, `TimedOut`, `Cancelled`, `Failed` as final. Of the Change Manager ones Bosun
//! keeps, `Rejected` is final (nothing runs after a rejection) and `PendingApproval` and
//! `Approved` are not (an approved request goes on to run its runbook).

use super::{Action, ExecStatus};

impl ExecStatus {
    /// Every status Bosun uses, in the model's order.
    pub const ALL: [ExecStatus; 11] = [
        ExecStatus::Pending,
        ExecStatus::InProgress,
        ExecStatus::Waiting,
        ExecStatus::Success,
        ExecStatus::TimedOut,
        ExecStatus::Cancelling,
        ExecStatus::Cancelled,
        ExecStatus::Failed,
        ExecStatus::PendingApproval,
        ExecStatus::Approved,
        ExecStatus::Rejected,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::InProgress => "InProgress",
            Self::Waiting => "Waiting",
            Self::Success => "Success",
            Self::TimedOut => "TimedOut",
            Self::Cancelling => "Cancelling",
            Self::Cancelled => "Cancelled",
            Self::Failed => "Failed",
            Self::PendingApproval => "PendingApproval",
            Self::Approved => "Approved",
            Self::Rejected => "Rejected",
        }
    }

    /// Parse the wire spelling (every value of the model's enum Bosun uses).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether nothing more will happen to an execution/step in this status.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Success | Self::TimedOut | Self::Cancelled | Self::Failed | Self::Rejected
        )
    }
}

impl Action {
    /// Every action Bosun runs.
    pub const ALL: [Action; 11] = [
        Action::RunCommand,
        Action::Sleep,
        Action::Pause,
        Action::Branch,
        Action::Approve,
        Action::ExecuteAwsApi,
        Action::WaitForAwsResourceProperty,
        Action::AssertAwsResourceProperty,
        Action::ExecuteAutomation,
        Action::ChangeInstanceState,
        Action::Loop,
    ];

    /// `aws:runCommand` …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunCommand => "aws:runCommand",
            Self::Sleep => "aws:sleep",
            Self::Pause => "aws:pause",
            Self::Branch => "aws:branch",
            Self::Approve => "aws:approve",
            Self::ExecuteAwsApi => "aws:executeAwsApi",
            Self::WaitForAwsResourceProperty => "aws:waitForAwsResourceProperty",
            Self::AssertAwsResourceProperty => "aws:assertAwsResourceProperty",
            Self::ExecuteAutomation => "aws:executeAutomation",
            Self::ChangeInstanceState => "aws:changeInstanceState",
            Self::Loop => "aws:loop",
        }
    }

    /// The action a step's `action` names, if Bosun runs it (exact spelling, as AWS's
    /// `StepExecution.Action`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether the action calls an AWS API through `Service`/`Api` inputs.
    pub fn calls_api(self) -> bool {
        matches!(
            self,
            Self::ExecuteAwsApi
                | Self::WaitForAwsResourceProperty
                | Self::AssertAwsResourceProperty
        )
    }
}
