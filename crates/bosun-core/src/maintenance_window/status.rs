//! The status vocabulary of Maintenance Window executions and the bounded `StatusDetails` text.
//!
//! Source: botocore's model, `MaintenanceWindowExecutionStatus` (one enum for window
//! executions, task executions and task invocations) and `MaintenanceWindowExecutionStatusDetails`
//! (0..=250 characters).

use serde::{Deserialize, Serialize};

/// The most characters AWS's model allows in any `StatusDetails` of a window, task or invocation.
pub const STATUS_DETAILS_MAX_CHARS: usize = 250;

/// `MaintenanceWindowExecutionStatus`, in model order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Pending,
    InProgress,
    Success,
    Failed,
    TimedOut,
    Cancelling,
    Cancelled,
    SkippedOverlapping,
}

impl ExecutionStatus {
    /// Every value, in model order.
    pub const ALL: [ExecutionStatus; 8] = [
        Self::Pending,
        Self::InProgress,
        Self::Success,
        Self::Failed,
        Self::TimedOut,
        Self::Cancelling,
        Self::Cancelled,
        Self::SkippedOverlapping,
    ];

    /// The exact wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::InProgress => "IN_PROGRESS",
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Cancelling => "CANCELLING",
            Self::Cancelled => "CANCELLED",
            Self::SkippedOverlapping => "SKIPPED_OVERLAPPING",
        }
    }

    /// Parse the exact wire spelling (case-sensitive).
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// True once nothing will change the status again.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending | Self::InProgress | Self::Cancelling)
    }
}

impl std::fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Cut `text` to at most [`STATUS_DETAILS_MAX_CHARS`] characters, ending with `...` when cut.
pub fn bounded_details(text: &str) -> String {
    if text.chars().count() <= STATUS_DETAILS_MAX_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(STATUS_DETAILS_MAX_CHARS - 3).collect();
    out.push_str("...");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wire_names_round_trip_and_match_serde() {
        for s in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::from_wire(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().into())
            );
        }
        assert_eq!(ExecutionStatus::from_wire("in_progress"), None);
        assert_eq!(
            ExecutionStatus::SkippedOverlapping.as_str(),
            "SKIPPED_OVERLAPPING"
        );
    }

    #[test]
    fn live_statuses_are_not_terminal() {
        let live: Vec<_> = ExecutionStatus::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .collect();
        use ExecutionStatus as S;
        assert_eq!(live, [S::Pending, S::InProgress, S::Cancelling]);
    }

    proptest! {
        #[test]
        fn details_never_exceed_the_model_bound(text in "\\PC{0,400}") {
            let out = bounded_details(&text);
            prop_assert!(out.chars().count() <= STATUS_DETAILS_MAX_CHARS);
            if text.chars().count() <= STATUS_DETAILS_MAX_CHARS {
                prop_assert_eq!(out, text);
            } else {
                prop_assert!(out.ends_with("..."));
            }
        }
    }
}
