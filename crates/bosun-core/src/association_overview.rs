//! An association's `Overview` (`Status`, `DetailedStatus`, `AssociationStatusAggregatedCount`)
//! from the latest outcome of every node it targets, as AWS shows it: the count covers all the
//! association's targets, not only the nodes of its last execution (a run for newly matching
//! nodes leaves the others' outcomes in the count).

use std::collections::BTreeMap;

/// An association's `Overview`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// `Success`, `Failed` or `Pending`.
    pub status: String,
    pub detailed_status: String,
    /// Nodes per detailed status (`AssociationStatusAggregatedCount`).
    pub counts: BTreeMap<String, i64>,
}

/// Node statuses that are not final.
const OPEN: [&str; 2] = ["Pending", "InProgress"];

/// The `Overview` of an association whose targeted nodes' latest outcomes are `nodes`
/// (`Status`, `DetailedStatus` each), `latest` being the status and detailed status of the run
/// that just ended (its detail names a failure when that run failed). `None` when no node has
/// an outcome: the caller keeps the overview it has.
///
/// `Failed` when any node's outcome is a failure (`Failed`, `TimedOut`, `Cancelled`, ...),
/// else `Pending` while any node's run is open, else `Success`.
pub fn overview<'a>(
    nodes: impl IntoIterator<Item = (&'a str, &'a str)>,
    latest: (&str, &str),
) -> Option<Overview> {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    let mut failed = false;
    let mut open: Option<String> = None;
    for (status, detailed) in nodes {
        *counts.entry(detailed.to_string()).or_default() += 1;
        if OPEN.contains(&status) {
            open.get_or_insert_with(|| status.to_string());
        } else if status != "Success" {
            failed = true;
        }
    }
    if counts.is_empty() {
        return None;
    }
    let (status, detailed_status) = if failed {
        let detail = if latest.0 == "Failed" && !latest.1.is_empty() {
            latest.1.to_string()
        } else {
            "Failed".to_string()
        };
        ("Failed".to_string(), detail)
    } else if let Some(open) = open {
        ("Pending".to_string(), open)
    } else {
        ("Success".to_string(), "Success".to_string())
    };
    Some(Overview {
        status,
        detailed_status,
        counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn every_node_counts_not_only_the_last_run() {
        // Two nodes succeeded earlier, one new node just succeeded.
        let o = overview(
            [
                ("Success", "Success"),
                ("Success", "Success"),
                ("Success", "Success"),
            ],
            ("Success", "Success"),
        )
        .unwrap();
        assert_eq!(o.status, "Success");
        assert_eq!(o.detailed_status, "Success");
        assert_eq!(o.counts, counts(&[("Success", 3)]));
    }

    #[test]
    fn an_earlier_failure_keeps_the_association_failed_after_a_good_run() {
        let o = overview(
            [("Failed", "Failed"), ("Success", "Success")],
            ("Success", "Success"),
        )
        .unwrap();
        assert_eq!(o.status, "Failed");
        assert_eq!(o.detailed_status, "Failed");
        assert_eq!(o.counts, counts(&[("Failed", 1), ("Success", 1)]));
    }

    #[test]
    fn a_failed_run_names_its_detail() {
        let o = overview(
            [("TimedOut", "ExecutionTimedOut"), ("Success", "Success")],
            ("Failed", "TimedOut"),
        )
        .unwrap();
        assert_eq!(
            (o.status.as_str(), o.detailed_status.as_str()),
            ("Failed", "TimedOut")
        );
        assert_eq!(
            o.counts,
            counts(&[("ExecutionTimedOut", 1), ("Success", 1)])
        );
    }

    #[test]
    fn an_open_node_leaves_it_pending_unless_another_failed() {
        let o = overview(
            [("Pending", "Pending"), ("Success", "Success")],
            ("Success", "Success"),
        )
        .unwrap();
        assert_eq!(
            (o.status.as_str(), o.detailed_status.as_str()),
            ("Pending", "Pending")
        );
        let o = overview(
            [("InProgress", "InProgress"), ("Failed", "Failed")],
            ("Success", "Success"),
        )
        .unwrap();
        assert_eq!(o.status, "Failed");
    }

    #[test]
    fn no_node_no_overview() {
        assert_eq!(overview([], ("Success", "Success")), None);
    }
}
