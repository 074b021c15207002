//! The audit trail.

use super::fixtures::audit_record;
use crate::prelude::*;
use crate::{AuditVerification, CallRecords};

pub fn audit_records_are_numbered_in_order_and_chained(store: &dyn Store) {
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::Intact { records: 0 }
    );
    assert!(store.audit_records().unwrap().is_empty());
    for i in 1..=3 {
        store
            .append_audit(&audit_record(i, "ssm:CreateActivation"))
            .unwrap();
    }
    let records = store.audit_records().unwrap();
    assert_eq!(
        records,
        (1..=3)
            .map(|i| (i, audit_record(i, "ssm:CreateActivation")))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::Intact { records: 3 }
    );
    // A call's audit record joins the same chain.
    store
        .record_call(CallRecords {
            audit: Some(&audit_record(4, "ssm:PutParameter")),
            answer: None,
        })
        .unwrap();
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::Intact { records: 4 }
    );
    assert_eq!(
        store.audit_records().unwrap()[3].1.action,
        "ssm:PutParameter"
    );
}

pub fn the_trail_is_paged_back_newest_first(store: &dyn Store) {
    assert!(store.audit_records_before(None, 10).unwrap().is_empty());
    for i in 1..=5 {
        store
            .append_audit(&audit_record(i, &format!("ssm:Op{i}")))
            .unwrap();
    }
    let seqs =
        |page: &[(i64, crate::AuditRecord)]| page.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    let newest = store.audit_records_before(None, 2).unwrap();
    assert_eq!(seqs(&newest), [5, 4]);
    assert_eq!(newest[0].1, audit_record(5, "ssm:Op5"));
    let older = store.audit_records_before(Some(4), 10).unwrap();
    assert_eq!(seqs(&older), [3, 2, 1]);
    assert!(store.audit_records_before(Some(1), 10).unwrap().is_empty());
}
