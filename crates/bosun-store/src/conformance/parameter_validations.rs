//! Pending `aws:ec2:image` puts: kept whole, handed out one per parameter in acceptance order
//! under a lease, applied with their version and event or failed with their event, once.

use std::collections::BTreeSet;

use super::concurrency::{race, THREADS};
use super::fixtures::{parameter as version, LIMITS, REGION};
use crate::prelude::*;
use crate::{CallRecords, PendingPut, PutOutcome};
use bosun_core::events::envelope::{parameter_validation_failed, Origin, ParameterOperation};

fn pending(key: &str, value: &str, accepted_ms: i64) -> PendingPut {
    PendingPut {
        id: 0,
        region: REGION.into(),
        key: key.into(),
        name: key.into(),
        principal: "alice".into(),
        request_json: format!(
            r#"{{"Name":"{key}","Value":"{value}","Type":"String","DataType":"aws:ec2:image"}}"#
        ),
        accepted_ms,
        lease_owner: None,
        lease_until_ms: 0,
    }
}

fn failure_event(name: &str) -> bosun_core::events::envelope::Event {
    parameter_validation_failed(
        Origin {
            account: "123456789012",
            region: REGION,
            id: &crate::new_event_id(),
            now_ms: 5_000,
        },
        ParameterOperation::Create,
        name,
        "String",
        "aws:ec2:image",
        "Unable to Describe Images",
    )
}

fn detail_types_after(s: &dyn Store, seq: i64) -> Vec<(String, String)> {
    s.events_after(seq, 100)
        .unwrap()
        .into_iter()
        .map(|e| {
            let env: serde_json::Value = serde_json::from_str(&e.envelope).unwrap();
            (
                env["detail"]["operation"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                env["detail"]["exception"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

fn last_seq(s: &dyn Store) -> i64 {
    s.events_after(0, 10_000)
        .unwrap()
        .last()
        .map_or(0, |e| e.seq)
}

pub fn pending_puts_are_claimed_in_order_applied_or_failed_once(s: &dyn Store) {
    let first = s
        .add_pending_put(
            &pending("/ami", "ami-12345678", 1_000),
            CallRecords::default(),
        )
        .unwrap();
    let second = s
        .add_pending_put(&pending("/ami", "ami-bad", 1_001), CallRecords::default())
        .unwrap();
    let other = s
        .add_pending_put(
            &pending("/other", "ami-87654321", 1_002),
            CallRecords::default(),
        )
        .unwrap();
    assert!(first < second && second < other);
    let all = s.pending_puts().unwrap();
    assert_eq!(
        all.iter().map(|p| p.id).collect::<Vec<_>>(),
        [first, second, other]
    );
    assert_eq!(
        all[0].request_json,
        pending("/ami", "ami-12345678", 0).request_json
    );
    assert_eq!(all[0].principal, "alice");

    // One per parameter, its oldest; the lease keeps others away until it ends.
    let claimed = s.claim_pending_puts("r1", 2_000, 1_000, 10).unwrap();
    assert_eq!(
        claimed.iter().map(|p| p.id).collect::<Vec<_>>(),
        [first, other]
    );
    assert_eq!(claimed[0].lease_owner.as_deref(), Some("r1"));
    assert_eq!(claimed[0].lease_until_ms, 3_000);
    assert!(s
        .claim_pending_puts("r2", 2_999, 1_000, 10)
        .unwrap()
        .is_empty());

    // Only the holder applies; the version and its event are written with the row's removal.
    let v = version("/ami", 1);
    assert_eq!(
        s.apply_pending_put(first, "r2", &v, None, false, &[], &LIMITS)
            .unwrap(),
        None
    );
    assert!(s.parameter(REGION, "/ami").unwrap().is_none());
    let seq = last_seq(s);
    assert_eq!(
        s.apply_pending_put(first, "r1", &v, None, false, &[], &LIMITS)
            .unwrap(),
        Some(PutOutcome::Stored)
    );
    assert_eq!(s.parameter(REGION, "/ami").unwrap().unwrap().version, 1);
    assert_eq!(
        detail_types_after(s, seq),
        [("Create".into(), String::new())]
    );
    assert_eq!(
        s.apply_pending_put(first, "r1", &v, None, false, &[], &LIMITS)
            .unwrap(),
        None,
        "applied once"
    );

    // The next put of the parameter is handed out now; a refused apply keeps the row.
    let claimed = s.claim_pending_puts("r2", 2_500, 1_000, 10).unwrap();
    assert_eq!(claimed.iter().map(|p| p.id).collect::<Vec<_>>(), [second]);
    assert_eq!(
        s.apply_pending_put(
            second,
            "r2",
            &version("/ami", 2),
            Some(1),
            false,
            &[],
            &LIMITS
        )
        .unwrap(),
        Some(PutOutcome::AlreadyExists)
    );
    assert_eq!(s.pending_puts().unwrap().len(), 2);

    // A failure removes the row and appends its event, once, by the holder only.
    let seq = last_seq(s);
    assert!(!s
        .fail_pending_put(second, "r1", &failure_event("/ami"), 5_000)
        .unwrap());
    assert!(s
        .fail_pending_put(second, "r2", &failure_event("/ami"), 5_000)
        .unwrap());
    assert!(!s
        .fail_pending_put(second, "r2", &failure_event("/ami"), 5_000)
        .unwrap());
    assert_eq!(
        detail_types_after(s, seq),
        [("Create".into(), "Unable to Describe Images".into())]
    );
    assert_eq!(s.parameter(REGION, "/ami").unwrap().unwrap().version, 1);

    // A lease that ended (a replica died) lets another replica take the row.
    let claimed = s.claim_pending_puts("r3", 3_000, 1_000, 10).unwrap();
    assert_eq!(claimed.iter().map(|p| p.id).collect::<Vec<_>>(), [other]);
    assert!(s
        .fail_pending_put(other, "r3", &failure_event("/other"), 5_000)
        .unwrap());
    assert!(!s
        .fail_pending_put(other, "r1", &failure_event("/other"), 5_000)
        .unwrap());
    assert!(s.pending_puts().unwrap().is_empty());
}

pub fn concurrent_claims_hand_each_pending_put_out_once(s: &dyn Store) {
    for i in 0..THREADS * 2 {
        s.add_pending_put(
            &pending(&format!("/p{i}"), "ami-12345678", i as i64),
            CallRecords::default(),
        )
        .unwrap();
    }
    let claims = race(|t| {
        s.claim_pending_puts(&format!("r{t}"), 10_000, 60_000, 3)
            .unwrap()
    });
    let mut seen = BTreeSet::new();
    for (t, got) in claims.iter().enumerate() {
        for p in got {
            assert_eq!(p.lease_owner.as_deref(), Some(format!("r{t}").as_str()));
            assert!(seen.insert(p.id), "{} claimed twice", p.id);
        }
    }
    assert_eq!(seen.len(), THREADS * 2, "every row claimed by someone");
}
