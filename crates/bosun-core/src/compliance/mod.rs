//! Compliance rules with no IO: statuses and severities, the filters of the `List*Compliance*`
//! operations, and the per-resource and per-type summaries computed from stored items.
//!
//! AWS documents the shapes but not every rule; Bosun's choices (noted where made):
//! a resource is `NON_COMPLIANT` for a type when any of its items is; its `OverallSeverity` is
//! the highest severity among its non-compliant items (among all items when compliant); type
//! summaries count resources, by that severity.

mod filters;
#[cfg(test)]
mod tests;

pub use filters::{check_filters, ComplianceFilter, FilterTarget};

use std::collections::BTreeMap;

pub const STATUSES: &[&str] = &["COMPLIANT", "NON_COMPLIANT"];
/// Highest first.
pub const SEVERITIES: &[&str] = &[
    "CRITICAL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "INFORMATIONAL",
    "UNSPECIFIED",
];
/// The only resource type compliance is recorded for (AWS: "ManagedInstance is currently the
/// only supported resource type").
pub const RESOURCE_TYPE: &str = "ManagedInstance";
/// Compliance types one resource may hold (AWS's `ComplianceTypeCountLimitExceededException`).
pub const MAX_TYPES_PER_RESOURCE: usize = 10;

/// The rank of a severity: 0 is the highest.
pub fn severity_rank(severity: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|s| *s == severity)
        .unwrap_or(SEVERITIES.len())
}

/// The facts of one item the summaries need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFacts<'a> {
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub compliance_type: &'a str,
    pub status: &'a str,
    pub severity: &'a str,
    pub execution_time_ms: i64,
    pub execution_id: &'a str,
    pub execution_type: &'a str,
}

/// Counts by severity (`SeveritySummary`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    /// Indexed like [`SEVERITIES`].
    pub counts: [i64; 6],
}

impl SeverityCounts {
    fn add(&mut self, severity: &str) {
        if let Some(slot) = self.counts.get_mut(severity_rank(severity)) {
            *slot += 1;
        }
    }

    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
}

/// One resource's compliance for one type (`ResourceComplianceSummaryItem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSummary {
    pub resource_type: String,
    pub resource_id: String,
    pub compliance_type: String,
    pub status: &'static str,
    pub overall_severity: String,
    /// The latest execution among the items.
    pub execution_time_ms: i64,
    pub execution_id: String,
    pub execution_type: String,
    /// Item counts by severity.
    pub compliant: SeverityCounts,
    pub non_compliant: SeverityCounts,
}

/// Per (resource, type), in resource then type order.
pub fn resource_summaries(items: &[ItemFacts<'_>]) -> Vec<ResourceSummary> {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<&ItemFacts<'_>>> = BTreeMap::new();
    for i in items {
        groups
            .entry((i.resource_type, i.resource_id, i.compliance_type))
            .or_default()
            .push(i);
    }
    groups
        .into_iter()
        .map(|((rtype, rid, ctype), items)| {
            let mut compliant = SeverityCounts::default();
            let mut non_compliant = SeverityCounts::default();
            for i in &items {
                if i.status == "NON_COMPLIANT" {
                    non_compliant.add(i.severity);
                } else {
                    compliant.add(i.severity);
                }
            }
            let failing = non_compliant.total() > 0;
            let overall = items
                .iter()
                .filter(|i| !failing || i.status == "NON_COMPLIANT")
                .map(|i| i.severity)
                .min_by_key(|s| severity_rank(s))
                .unwrap_or("UNSPECIFIED");
            let latest = items
                .iter()
                .max_by_key(|i| i.execution_time_ms)
                .expect("a group has items");
            ResourceSummary {
                resource_type: rtype.to_string(),
                resource_id: rid.to_string(),
                compliance_type: ctype.to_string(),
                status: if failing {
                    "NON_COMPLIANT"
                } else {
                    "COMPLIANT"
                },
                overall_severity: overall.to_string(),
                execution_time_ms: latest.execution_time_ms,
                execution_id: latest.execution_id.to_string(),
                execution_type: latest.execution_type.to_string(),
                compliant,
                non_compliant,
            }
        })
        .collect()
}

/// One compliance type across resources (`ComplianceSummaryItem`): resource counts by their
/// overall severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSummary {
    pub compliance_type: String,
    pub compliant: SeverityCounts,
    pub non_compliant: SeverityCounts,
}

/// Per type, in type order.
pub fn type_summaries(resources: &[ResourceSummary]) -> Vec<TypeSummary> {
    let mut by_type: BTreeMap<&str, TypeSummary> = BTreeMap::new();
    for r in resources {
        let t = by_type
            .entry(&r.compliance_type)
            .or_insert_with(|| TypeSummary {
                compliance_type: r.compliance_type.clone(),
                compliant: SeverityCounts::default(),
                non_compliant: SeverityCounts::default(),
            });
        if r.status == "NON_COMPLIANT" {
            t.non_compliant.add(&r.overall_severity);
        } else {
            t.compliant.add(&r.overall_severity);
        }
    }
    by_type.into_values().collect()
}
