//! Summaries and filters.

use super::*;

fn item<'a>(
    rid: &'a str,
    ctype: &'a str,
    status: &'a str,
    severity: &'a str,
    t: i64,
) -> ItemFacts<'a> {
    ItemFacts {
        resource_type: RESOURCE_TYPE,
        resource_id: rid,
        compliance_type: ctype,
        status,
        severity,
        execution_time_ms: t,
        execution_id: "e",
        execution_type: "Command",
    }
}

#[test]
fn a_resource_is_non_compliant_when_any_item_is_and_its_severity_is_the_worst_failing_one() {
    let items = [
        item("mi-1", "Custom:A", "COMPLIANT", "CRITICAL", 1),
        item("mi-1", "Custom:A", "NON_COMPLIANT", "LOW", 3),
        item("mi-1", "Custom:A", "NON_COMPLIANT", "MEDIUM", 2),
        item("mi-2", "Custom:A", "COMPLIANT", "HIGH", 1),
        item("mi-2", "Custom:A", "COMPLIANT", "LOW", 1),
        item("mi-2", "Custom:B", "NON_COMPLIANT", "UNSPECIFIED", 1),
    ];
    let r = resource_summaries(&items);
    assert_eq!(r.len(), 3);
    assert_eq!(
        (
            r[0].resource_id.as_str(),
            r[0].status,
            r[0].overall_severity.as_str()
        ),
        ("mi-1", "NON_COMPLIANT", "MEDIUM")
    );
    assert_eq!(r[0].execution_time_ms, 3, "the latest execution");
    assert_eq!(r[0].compliant.counts, [1, 0, 0, 0, 0, 0]);
    assert_eq!(r[0].non_compliant.counts, [0, 0, 1, 1, 0, 0]);
    assert_eq!(
        (r[1].status, r[1].overall_severity.as_str()),
        ("COMPLIANT", "HIGH")
    );
    let t = type_summaries(&r);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].compliance_type, "Custom:A");
    assert_eq!((t[0].compliant.total(), t[0].non_compliant.total()), (1, 1));
    assert_eq!(t[0].compliant.counts[1], 1, "mi-2 counted as HIGH");
    assert_eq!(t[0].non_compliant.counts[2], 1, "mi-1 counted as MEDIUM");
}

#[test]
fn filters_name_known_keys_and_match_by_their_type() {
    let f = |key: &str, op: Option<&str>, values: &[&str]| ComplianceFilter {
        key: key.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
        op: op.map(str::to_string),
    };
    assert!(check_filters(&[f("Status", None, &["COMPLIANT"])], FilterTarget::Items).is_ok());
    let bad = check_filters(&[f("Colour", None, &["x"])], FilterTarget::Items).unwrap_err();
    assert_eq!(bad.code, "InvalidFilter");
    assert!(bad.message.contains("Colour"), "{}", bad.message);
    assert!(check_filters(&[f("Status", None, &["x"])], FilterTarget::TypeSummaries).is_err());
    assert!(check_filters(
        &[f("ComplianceType", Some("LESS_THAN"), &["x"])],
        FilterTarget::Items
    )
    .is_err());
    assert!(f("ComplianceType", None, &["Custom:A", "Custom:B"]).matches("Custom:B"));
    assert!(!f("ComplianceType", Some("NOT_EQUAL"), &["Custom:A"]).matches("Custom:A"));
    assert!(f("ComplianceType", Some("BEGIN_WITH"), &["Custom:"]).matches("Custom:A"));
}
