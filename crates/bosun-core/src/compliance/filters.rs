//! The `ComplianceStringFilter`s of `ListComplianceItems`, `ListComplianceSummaries` and
//! `ListResourceComplianceSummaries`: which keys each accepts and how a value matches.
//!
//! AWS does not document the keys; Bosun accepts the fields each listing returns and refuses
//! any other key, and the ordering comparisons (`LESS_THAN`, `GREATER_THAN`), with
//! `InvalidFilter` — never a filter accepted and ignored.

use crate::parameters::Rejection;

/// One filter as sent (`Type` defaults to `EQUAL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceFilter {
    pub key: String,
    pub values: Vec<String>,
    pub op: Option<String>,
}

/// Which listing the filters are for: the keys differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterTarget {
    Items,
    TypeSummaries,
    ResourceSummaries,
}

impl FilterTarget {
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            FilterTarget::Items => &[
                "ComplianceType",
                "Status",
                "Severity",
                "Id",
                "ExecutionId",
                "ExecutionType",
            ],
            FilterTarget::TypeSummaries => &["ComplianceType"],
            FilterTarget::ResourceSummaries => &[
                "ComplianceType",
                "Status",
                "OverallSeverity",
                "ResourceId",
                "ResourceType",
            ],
        }
    }
}

/// Refuse filters Bosun cannot apply (`InvalidFilter`).
pub fn check_filters(filters: &[ComplianceFilter], target: FilterTarget) -> Result<(), Rejection> {
    let keys = target.keys();
    for f in filters {
        if !keys.contains(&f.key.as_str()) {
            return Err(Rejection::new(
                "InvalidFilter",
                format!(
                    "The filter key {} is not valid here. Valid keys: {}.",
                    f.key,
                    keys.join(", ")
                ),
            ));
        }
        match f.op.as_deref().unwrap_or("EQUAL") {
            "EQUAL" | "NOT_EQUAL" | "BEGIN_WITH" => {}
            other => {
                return Err(Rejection::new(
                    "InvalidFilter",
                    format!("The filter type {other} is not supported for {}: use EQUAL, NOT_EQUAL or BEGIN_WITH.", f.key),
                ));
            }
        }
    }
    Ok(())
}

impl ComplianceFilter {
    /// Whether `field` (the value of this filter's key) passes.
    pub fn matches(&self, field: &str) -> bool {
        match self.op.as_deref().unwrap_or("EQUAL") {
            "NOT_EQUAL" => self.values.iter().all(|v| v != field),
            "BEGIN_WITH" => self.values.iter().any(|v| field.starts_with(v.as_str())),
            _ => self.values.iter().any(|v| v == field),
        }
    }
}
