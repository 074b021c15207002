//! Two small wire enums of Maintenance Windows: `MaintenanceWindowTaskType` and
//! `MaintenanceWindowResourceType` (botocore's model, in model order).

use serde::{Deserialize, Serialize};

/// `MaintenanceWindowTaskType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskType {
    RunCommand,
    Automation,
    StepFunctions,
    Lambda,
}

impl TaskType {
    pub const ALL: [TaskType; 4] = [
        Self::RunCommand,
        Self::Automation,
        Self::StepFunctions,
        Self::Lambda,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunCommand => "RUN_COMMAND",
            Self::Automation => "AUTOMATION",
            Self::StepFunctions => "STEP_FUNCTIONS",
            Self::Lambda => "LAMBDA",
        }
    }

    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Task types that may be registered without targets (user guide: tasks without targets
    /// are allowed for Automation, Lambda and Step Functions; Run Command needs targets).
    pub fn may_be_targetless(self) -> bool {
        self != Self::RunCommand
    }
}

/// `MaintenanceWindowResourceType`: what a window target holds, and `{{TARGET_TYPE}}`'s value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceType {
    Instance,
    ResourceGroup,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instance => "INSTANCE",
            Self::ResourceGroup => "RESOURCE_GROUP",
        }
    }

    pub fn from_wire(s: &str) -> Option<Self> {
        [Self::Instance, Self::ResourceGroup]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_match_serde() {
        for t in TaskType::ALL {
            assert_eq!(TaskType::from_wire(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for r in [ResourceType::Instance, ResourceType::ResourceGroup] {
            assert_eq!(ResourceType::from_wire(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert!(!TaskType::RunCommand.may_be_targetless());
        assert!(TaskType::Lambda.may_be_targetless());
    }
}
