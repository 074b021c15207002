//! Compliance items.

use super::concurrency::{race, THREADS};
use super::fixtures::{OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{ComplianceItemRecord, ComplianceOutcome, UploadMode};

const NODE: &str = "mi-0123456789abcdef0";

fn item(region: &str, ctype: &str, id: &str, status: &str) -> ComplianceItemRecord {
    ComplianceItemRecord {
        region: region.into(),
        resource_type: "ManagedInstance".into(),
        resource_id: NODE.into(),
        compliance_type: ctype.into(),
        id: id.into(),
        title: format!("title {id}"),
        status: status.into(),
        severity: "HIGH".into(),
        details: "{\"k\":\"v\"}".into(),
        execution_id: "e1".into(),
        execution_type: "Command".into(),
        execution_time_ms: 1_700_000_000_000,
    }
}

fn ids(s: &dyn Store, region: &str) -> Vec<(String, String, String)> {
    s.compliance_items(region)
        .unwrap()
        .into_iter()
        .map(|i| (i.compliance_type, i.id, i.status))
        .collect()
}

fn put(
    s: &dyn Store,
    ctype: &str,
    items: &[ComplianceItemRecord],
    mode: UploadMode,
    hash: Option<&str>,
) -> ComplianceOutcome {
    s.put_compliance_items(REGION, "ManagedInstance", NODE, ctype, items, mode, hash, 3)
        .unwrap()
}

pub fn uploads_replace_or_merge_and_unchanged_hashes_write_nothing(s: &dyn Store) {
    let a = |id: &str, st: &str| item(REGION, "Custom:A", id, st);
    assert_eq!(
        put(
            s,
            "Custom:A",
            &[a("2", "COMPLIANT"), a("1", "NON_COMPLIANT")],
            UploadMode::Complete,
            Some("h1")
        ),
        ComplianceOutcome::Stored
    );
    assert_eq!(
        ids(s, REGION),
        [
            ("Custom:A".into(), "1".into(), "NON_COMPLIANT".into()),
            ("Custom:A".into(), "2".into(), "COMPLIANT".into())
        ],
        "sorted by type then id"
    );
    let stored = s.compliance_items(REGION).unwrap();
    assert_eq!(stored[1], a("2", "COMPLIANT"), "every field round-trips");
    // The same hash again: nothing is written, even if the items differ.
    assert_eq!(
        put(s, "Custom:A", &[], UploadMode::Complete, Some("h1")),
        ComplianceOutcome::Unchanged
    );
    assert_eq!(ids(s, REGION).len(), 2);
    // Partial: only the item with the same id changes.
    put(
        s,
        "Custom:A",
        &[a("1", "COMPLIANT")],
        UploadMode::Partial,
        Some("h2"),
    );
    assert_eq!(ids(s, REGION)[0].2, "COMPLIANT");
    assert_eq!(ids(s, REGION).len(), 2);
    // Complete: the list is the whole list.
    put(
        s,
        "Custom:A",
        &[a("3", "COMPLIANT")],
        UploadMode::Complete,
        None,
    );
    assert_eq!(
        ids(s, REGION),
        [("Custom:A".into(), "3".into(), "COMPLIANT".into())]
    );
    // Other regions are other stores.
    assert!(s.compliance_items(OTHER_REGION).unwrap().is_empty());
    // An empty complete upload clears the type.
    put(s, "Custom:A", &[], UploadMode::Complete, None);
    assert!(ids(s, REGION).is_empty());
}

pub fn a_resource_holds_a_bounded_number_of_compliance_types(s: &dyn Store) {
    for t in ["Custom:A", "Custom:B", "Custom:C"] {
        assert_eq!(
            put(
                s,
                t,
                &[item(REGION, t, "1", "COMPLIANT")],
                UploadMode::Complete,
                None
            ),
            ComplianceOutcome::Stored
        );
    }
    // Types that are not custom do not count.
    let association = item(REGION, "Association", "a", "COMPLIANT");
    assert_eq!(
        put(s, "Association", &[association], UploadMode::Complete, None),
        ComplianceOutcome::Stored
    );
    let d = item(REGION, "Custom:D", "1", "COMPLIANT");
    assert_eq!(
        put(
            s,
            "Custom:D",
            std::slice::from_ref(&d),
            UploadMode::Complete,
            None
        ),
        ComplianceOutcome::TooManyTypes
    );
    // A type already held may be uploaded again; clearing one makes room.
    assert_eq!(
        put(
            s,
            "Custom:B",
            &[item(REGION, "Custom:B", "2", "COMPLIANT")],
            UploadMode::Complete,
            None
        ),
        ComplianceOutcome::Stored
    );
    put(s, "Custom:C", &[], UploadMode::Complete, None);
    assert_eq!(
        put(s, "Custom:D", &[d], UploadMode::Complete, None),
        ComplianceOutcome::Stored
    );
}

pub fn concurrent_uploads_never_exceed_the_type_limit(s: &dyn Store) {
    let outcomes = race(|t| {
        let ctype = format!("Custom:T{t}");
        put(
            s,
            &ctype,
            &[item(REGION, &ctype, "1", "COMPLIANT")],
            UploadMode::Complete,
            None,
        )
    });
    let stored = outcomes
        .iter()
        .filter(|o| **o == ComplianceOutcome::Stored)
        .count();
    assert_eq!(stored, 3, "{outcomes:?}");
    assert_eq!(outcomes.len(), THREADS);
    let mut types: Vec<String> = s
        .compliance_items(REGION)
        .unwrap()
        .into_iter()
        .map(|i| i.compliance_type)
        .collect();
    types.dedup();
    assert_eq!(types.len(), 3);
}
