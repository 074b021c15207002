//! What the store promises under concurrency: 8 threads race on one store, started together.

use std::collections::BTreeSet;
use std::sync::Barrier;

use super::fixtures::{activation, audit_record, claim, command, node, parameter, tags, REGION};
use crate::prelude::*;
use crate::{AuditVerification, CallRecords, Claim, PutLimits, PutOutcome, RegisterOutcome};

const THREADS: usize = 8;

/// Run `work(thread index)` on [`THREADS`] threads released together; their results in order.
pub(super) fn race<T: Send>(work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let start = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (start, work) = (&start, &work);
                s.spawn(move || {
                    start.wait();
                    work(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

pub fn concurrent_registrations_never_exceed_the_limit(store: &dyn Store) {
    store
        .create_activation(&activation("a", 3), "hash", &tags(&[("env", "dev")]))
        .unwrap();
    let outcomes = race(|i| {
        store
            .register_instance("a", "hash", &node(i, "a"), 5)
            .unwrap()
    });
    let registered = outcomes
        .iter()
        .filter(|o| **o == RegisterOutcome::Registered)
        .count();
    assert_eq!(registered, 3);
    assert!(outcomes.iter().all(|o| matches!(
        o,
        RegisterOutcome::Registered | RegisterOutcome::LimitExceeded
    )));
    let nodes = store.list_instances(REGION).unwrap();
    assert_eq!(nodes.len(), 3);
    assert_eq!(
        store
            .get_activation(REGION, "a")
            .unwrap()
            .unwrap()
            .registrations_count,
        3
    );
    for n in &nodes {
        assert_eq!(
            store
                .tags(REGION, "ManagedInstance", &n.instance_id)
                .unwrap(),
            tags(&[("env", "dev")])
        );
    }
}

pub fn concurrent_parameter_overwrites_get_consecutive_versions_and_none_is_lost(
    store: &dyn Store,
) {
    const PUTS: usize = 5;
    let limits = PutLimits {
        max_versions: 100,
        max_standard: 10,
        max_advanced: 10,
    };
    store
        .put_parameter(&parameter("/race", 1), None, false, &[], &limits)
        .unwrap();
    race(|t| {
        for i in 0..PUTS {
            // Build on the latest version seen, and again after losing a race.
            loop {
                let latest = store.parameter(REGION, "/race").unwrap().unwrap().version;
                let mut v = parameter("/race", latest + 1);
                v.value = format!("thread {t} put {i}");
                match store
                    .put_parameter(&v, Some(latest), true, &[], &limits)
                    .unwrap()
                {
                    PutOutcome::Stored => break,
                    PutOutcome::Conflict => continue,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    });
    let history = store.parameter_history(REGION, "/race").unwrap();
    let total = 1 + THREADS * PUTS;
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        (1..=total as i64).collect::<Vec<_>>(),
        "distinct, consecutive versions"
    );
    let values: BTreeSet<&str> = history[1..].iter().map(|v| v.value.as_str()).collect();
    assert_eq!(
        values.len(),
        THREADS * PUTS,
        "no put was lost or stored twice"
    );
    assert_eq!(
        store.parameter(REGION, "/race").unwrap().unwrap().version,
        total as i64
    );
}

pub fn concurrent_audit_appends_keep_a_chain_that_verifies(store: &dyn Store) {
    const APPENDS: usize = 6;
    race(|t| {
        for i in 0..APPENDS {
            let r = audit_record((t * APPENDS + i) as i64, "ssm:Test");
            // Appends alone, with a call's records, and with a change, all on one chain.
            match i % 3 {
                0 => store.append_audit(&r).unwrap(),
                1 => store
                    .record_call(CallRecords {
                        audit: Some(&r),
                        answer: None,
                    })
                    .unwrap(),
                _ => store
                    .create_command_audited(
                        &command(&format!("c-{t}-{i}"), 0),
                        &[],
                        &[],
                        CallRecords {
                            audit: Some(&r),
                            answer: None,
                        },
                    )
                    .unwrap(),
            }
        }
    });
    let total = THREADS * APPENDS;
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::Intact {
            records: total as u64
        }
    );
    let records = store.audit_records().unwrap();
    assert_eq!(
        records.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        (1..=total as i64).collect::<Vec<_>>()
    );
    let times: BTreeSet<i64> = records.iter().map(|(_, r)| r.time_ms).collect();
    assert_eq!(times.len(), total, "every append is there once");
}

pub fn concurrent_claims_of_one_call_execute_it_once(store: &dyn Store) {
    let claims = race(|_| store.claim_call(&claim("call", "p1", 0)).unwrap());
    assert_eq!(
        claims.iter().filter(|c| **c == Claim::Execute).count(),
        1,
        "{claims:?}"
    );
    assert!(claims
        .iter()
        .all(|c| matches!(c, Claim::Execute | Claim::InProgress)));
}
