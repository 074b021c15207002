//! `DocumentType`: the seventeen values of the SSM model (botocore `ssm/2014-11-06`, shape
//! `DocumentType`), with the model's spellings; and `PlatformType` (`Windows|Linux|MacOS`).

/// `PlatformType` of the SSM model: a node's operating system family.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum PlatformType {
    Windows,
    Linux,
    MacOS,
}

impl PlatformType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Windows => "Windows",
            Self::Linux => "Linux",
            Self::MacOS => "MacOS",
        }
    }

    /// Parse the model's spelling (exact).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Windows, Self::Linux, Self::MacOS]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// The type of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    Command,
    Policy,
    Automation,
    Session,
    Package,
    ApplicationConfiguration,
    ApplicationConfigurationSchema,
    DeploymentStrategy,
    ChangeCalendar,
    /// `Automation.ChangeTemplate`.
    AutomationChangeTemplate,
    ProblemAnalysis,
    ProblemAnalysisTemplate,
    CloudFormation,
    ConformancePackTemplate,
    QuickSetup,
    ManualApprovalPolicy,
    AutoApprovalPolicy,
}

impl DocumentType {
    /// Every type, in the model's order.
    pub const ALL: [DocumentType; 17] = [
        Self::Command,
        Self::Policy,
        Self::Automation,
        Self::Session,
        Self::Package,
        Self::ApplicationConfiguration,
        Self::ApplicationConfigurationSchema,
        Self::DeploymentStrategy,
        Self::ChangeCalendar,
        Self::AutomationChangeTemplate,
        Self::ProblemAnalysis,
        Self::ProblemAnalysisTemplate,
        Self::CloudFormation,
        Self::ConformancePackTemplate,
        Self::QuickSetup,
        Self::ManualApprovalPolicy,
        Self::AutoApprovalPolicy,
    ];

    /// The model's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Command => "Command",
            Self::Policy => "Policy",
            Self::Automation => "Automation",
            Self::Session => "Session",
            Self::Package => "Package",
            Self::ApplicationConfiguration => "ApplicationConfiguration",
            Self::ApplicationConfigurationSchema => "ApplicationConfigurationSchema",
            Self::DeploymentStrategy => "DeploymentStrategy",
            Self::ChangeCalendar => "ChangeCalendar",
            Self::AutomationChangeTemplate => "Automation.ChangeTemplate",
            Self::ProblemAnalysis => "ProblemAnalysis",
            Self::ProblemAnalysisTemplate => "ProblemAnalysisTemplate",
            Self::CloudFormation => "CloudFormation",
            Self::ConformancePackTemplate => "ConformancePackTemplate",
            Self::QuickSetup => "QuickSetup",
            Self::ManualApprovalPolicy => "ManualApprovalPolicy",
            Self::AutoApprovalPolicy => "AutoApprovalPolicy",
        }
    }

    /// Parse the model's spelling (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the agent executes documents of this type (Command steps run on nodes;
    /// Policy documents are State Manager/Inventory documents with the same steps).
    pub fn runs_on_nodes(self) -> bool {
        matches!(self, Self::Command | Self::Policy)
    }
}

impl std::fmt::Display for DocumentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_and_match_the_model() {
        for t in DocumentType::ALL {
            assert_eq!(DocumentType::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        assert_eq!(
            DocumentType::parse("Automation.ChangeTemplate"),
            Some(DocumentType::AutomationChangeTemplate)
        );
        assert_eq!(DocumentType::parse("command"), None);
        assert!(DocumentType::Command.runs_on_nodes());
        assert!(!DocumentType::Automation.runs_on_nodes());
        assert_eq!(PlatformType::parse("MacOS"), Some(PlatformType::MacOS));
        assert_eq!(PlatformType::parse("macos"), None);
    }
}
