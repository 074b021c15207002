//! A task's resolved targets, whether each may be sent the task, and how each one ended.
//!
//! The executor resolves a task's targets (window targets by id, tag, resource group, or the
//! task's own `InstanceIds`) into [`TargetNode`]s, one invocation each, keeping nodes that are
//! registered but offline, deregistered, or not known at all: they are reported, never
//! dropped. Each invocation ends in an [`InvocationOutcome`]; the roll-up (`rollup`) turns the
//! outcomes into the task's status.

use serde::{Deserialize, Serialize};

use super::status::ExecutionStatus;
use crate::command::InvocationState;

/// A node's standing when the task is about to be sent to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeState {
    /// Registered and connected (`PingStatus` `Online`).
    Online,
    /// Registered, not connected (`PingStatus` `ConnectionLost`): stopped, asleep, cut off.
    ConnectionLost,
    /// Deregistered (`PingStatus` `Inactive`).
    Inactive,
    /// Not a managed node Bosun knows: an `InstanceIds` value or a group member with no record.
    Unknown,
}

/// How the node came to be a target (for the operator's understanding; same rules for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TargetVia {
    InstanceId,
    Tag,
    ResourceGroup,
}

/// One resolved target of a task execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetNode {
    pub node_id: String,
    pub state: NodeState,
    pub via: TargetVia,
    /// The window target whose `Targets` selected the node; `None` when the task named the
    /// node itself (`Key=InstanceIds`).
    pub window_target_id: Option<String>,
}

/// Why a target did not run the task. Each is reported by count and node id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NotRunReason {
    /// Registered but not connected when its turn came.
    ConnectionLost,
    /// Deregistered.
    Deregistered,
    /// Not a managed node at all.
    NotRegistered,
    /// Sent, but the command never reached the node (Run Command `DeliveryTimedOut` or
    /// `Undeliverable`).
    NotDelivered,
    /// The node refused the document (Run Command `InvalidPlatform`).
    InvalidPlatform,
    /// The node was not allowed to run it (Run Command `AccessDenied`).
    AccessDenied,
    /// Not started because errors exceeded the task's `MaxErrors`.
    MaxErrorsExceeded,
    /// Not started before the window's cutoff (`CANCEL_TASK`) or end.
    WindowTimeRanOut,
    /// Not started because the window execution was cancelled.
    WindowCancelled,
}

impl NotRunReason {
    /// The words used in `StatusDetails`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::ConnectionLost => "connection lost",
            Self::Deregistered => "deregistered",
            Self::NotRegistered => "not a managed node",
            Self::NotDelivered => "not delivered",
            Self::InvalidPlatform => "invalid platform",
            Self::AccessDenied => "access denied",
            Self::MaxErrorsExceeded => "not started after MaxErrors was exceeded",
            Self::WindowTimeRanOut => "not started before the window's time ran out",
            Self::WindowCancelled => "not started, window cancelled",
        }
    }
}

/// Why a running task or invocation was stopped by the window rather than by its own end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StopCause {
    /// The cutoff arrived and the task's `CutoffBehavior` is `CANCEL_TASK`.
    Cutoff,
    /// The window's `Duration` ran out.
    WindowEnded,
    /// `CancelMaintenanceWindowExecution`.
    Cancelled,
}

impl StopCause {
    /// The status of what it stopped: the window's time running out is `TIMED_OUT`
    /// (`CutoffBehavior` reference: unfinished tasks are `TIMED_OUT`), a cancel `CANCELLED`.
    pub fn status(self) -> ExecutionStatus {
        match self {
            Self::Cutoff | Self::WindowEnded => ExecutionStatus::TimedOut,
            Self::Cancelled => ExecutionStatus::Cancelled,
        }
    }

    /// What a waiting invocation that this stop prevents becomes.
    pub fn not_run_reason(self) -> NotRunReason {
        match self {
            Self::Cutoff | Self::WindowEnded => NotRunReason::WindowTimeRanOut,
            Self::Cancelled => NotRunReason::WindowCancelled,
        }
    }
}

/// How one invocation (one node) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvocationOutcome {
    /// Ran and succeeded.
    Succeeded,
    /// Ran and failed.
    Failed,
    /// Ran past its own `TimeoutSeconds` (Run Command `ExecutionTimedOut`).
    ExecutionTimedOut,
    /// Was running when the window stopped it.
    Stopped(StopCause),
    /// Did not run.
    NotRun(NotRunReason),
}

impl InvocationOutcome {
    /// The outcome of an ended Run Command invocation (`None` while it is live). A
    /// `Cancelled`/`Terminated` command was stopped by the window: the caller says why.
    pub fn from_command(state: InvocationState, stopped_by: StopCause) -> Option<Self> {
        use InvocationState as S;
        Some(match state {
            S::Pending | S::Delayed | S::InProgress | S::Cancelling => return None,
            S::Success => Self::Succeeded,
            S::Failed => Self::Failed,
            S::ExecutionTimedOut => Self::ExecutionTimedOut,
            S::DeliveryTimedOut | S::Undeliverable => Self::NotRun(NotRunReason::NotDelivered),
            S::InvalidPlatform => Self::NotRun(NotRunReason::InvalidPlatform),
            S::AccessDenied => Self::NotRun(NotRunReason::AccessDenied),
            S::Cancelled | S::Terminated => Self::Stopped(stopped_by),
        })
    }

    /// Counts against the task's `MaxErrors` (as Run Command counts `Failed` and
    /// `ExecutionTimedOut`, not undelivered invocations).
    pub fn counts_as_error(self) -> bool {
        matches!(self, Self::Failed | Self::ExecutionTimedOut)
    }

    /// The invocation's own `Status` and `StatusDetails`.
    pub fn status(self) -> (ExecutionStatus, String) {
        match self {
            Self::Succeeded => (ExecutionStatus::Success, "Success".into()),
            Self::Failed => (ExecutionStatus::Failed, "Failed".into()),
            Self::ExecutionTimedOut => (ExecutionStatus::TimedOut, "ExecutionTimedOut".into()),
            Self::Stopped(cause) => (
                cause.status(),
                match cause {
                    StopCause::Cutoff => "Cancelled at the window's cutoff",
                    StopCause::WindowEnded => "Cancelled at the window's end",
                    StopCause::Cancelled => "Cancelled with the window execution",
                }
                .into(),
            ),
            Self::NotRun(reason) => {
                let status = match reason {
                    NotRunReason::WindowTimeRanOut => ExecutionStatus::TimedOut,
                    NotRunReason::WindowCancelled => ExecutionStatus::Cancelled,
                    _ => ExecutionStatus::Failed,
                };
                (
                    status,
                    format!("The task did not run: {}", reason.describe()),
                )
            }
        }
    }
}

/// Whether the node may be sent the task now, decided when its invocation's turn comes (so a
/// node that reconnects before its turn still runs). Bosun does not send to a node that is not
/// `Online`: the invocation ends at once as not run, and the task cannot succeed.
pub fn dispatch_check(state: NodeState) -> Result<(), NotRunReason> {
    match state {
        NodeState::Online => Ok(()),
        NodeState::ConnectionLost => Err(NotRunReason::ConnectionLost),
        NodeState::Inactive => Err(NotRunReason::Deregistered),
        NodeState::Unknown => Err(NotRunReason::NotRegistered),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_online_nodes_are_sent_the_task() {
        assert_eq!(dispatch_check(NodeState::Online), Ok(()));
        assert_eq!(
            dispatch_check(NodeState::ConnectionLost),
            Err(NotRunReason::ConnectionLost)
        );
        assert_eq!(
            dispatch_check(NodeState::Inactive),
            Err(NotRunReason::Deregistered)
        );
        assert_eq!(
            dispatch_check(NodeState::Unknown),
            Err(NotRunReason::NotRegistered)
        );
    }

    #[test]
    fn command_states_map_to_outcomes() {
        use InvocationState as S;
        let cut = StopCause::Cutoff;
        assert_eq!(InvocationOutcome::from_command(S::InProgress, cut), None);
        assert_eq!(
            InvocationOutcome::from_command(S::Success, cut),
            Some(InvocationOutcome::Succeeded)
        );
        assert_eq!(
            InvocationOutcome::from_command(S::DeliveryTimedOut, cut),
            Some(InvocationOutcome::NotRun(NotRunReason::NotDelivered))
        );
        assert_eq!(
            InvocationOutcome::from_command(S::Cancelled, cut),
            Some(InvocationOutcome::Stopped(StopCause::Cutoff))
        );
    }

    #[test]
    fn only_success_reports_success() {
        let all = [
            InvocationOutcome::Succeeded,
            InvocationOutcome::Failed,
            InvocationOutcome::ExecutionTimedOut,
            InvocationOutcome::Stopped(StopCause::Cutoff),
            InvocationOutcome::Stopped(StopCause::WindowEnded),
            InvocationOutcome::Stopped(StopCause::Cancelled),
            InvocationOutcome::NotRun(NotRunReason::ConnectionLost),
            InvocationOutcome::NotRun(NotRunReason::WindowTimeRanOut),
            InvocationOutcome::NotRun(NotRunReason::WindowCancelled),
        ];
        for o in all {
            let (status, details) = o.status();
            assert!(status.is_terminal());
            assert_eq!(
                status == ExecutionStatus::Success,
                o == InvocationOutcome::Succeeded
            );
            assert!(details.len() <= super::super::status::STATUS_DETAILS_MAX_CHARS);
        }
    }
}
