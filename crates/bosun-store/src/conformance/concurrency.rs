//! What the store promises under concurrency: 8 threads race on one store, started together.

use std::collections::BTreeSet;
use std::sync::Barrier;

use super::fixtures::{
    activation, answer, audit_record, claim, command, document, document_version, invocation, node,
    parameter, plugin, tags, OTHER_REGION, REGION,
};
use crate::prelude::*;
use crate::{
    AddVersion, AuditVerification, CallRecords, Claim, PutLimits, PutOutcome, RegisterOutcome,
    StoreError,
};

pub(super) const THREADS: usize = 8;

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

pub fn concurrent_attempts_of_one_looked_up_call_store_one_change(store: &dyn Store) {
    // Each attempt looked the call up, found nothing, and now stores its command with the
    // call's answer and audit record: as replicas do for SendCommand.
    let answers: Vec<_> = (0..THREADS)
        .map(|t| answer("send", 0, format!("attempt {t}").as_bytes()))
        .collect();
    let audits: Vec<_> = (0..THREADS)
        .map(|t| audit_record(t as i64, "ssm:SendCommand"))
        .collect();
    let outcomes = race(|t| {
        let records = CallRecords {
            audit: Some(&audits[t]),
            answer: Some(&answers[t]),
        };
        store.create_command_audited(&command(&format!("c{t}"), 0), &[], &[], records)
    });
    let winners: Vec<usize> = (0..THREADS).filter(|t| outcomes[*t].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Ok(()) | Err(StoreError::AlreadyExists(_)))),
        "{outcomes:?}"
    );
    let w = winners[0];
    let commands: Vec<String> = store
        .list_commands(REGION)
        .unwrap()
        .into_iter()
        .map(|c| c.command_id)
        .collect();
    assert_eq!(commands, [format!("c{w}")]);
    assert_eq!(
        store.look_up_call(&claim("send", "p1", 1)).unwrap(),
        Claim::Replay(answers[w].answer.clone())
    );
    assert_eq!(store.audit_records().unwrap(), [(1, audits[w].clone())]);
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::Intact { records: 1 }
    );
}

pub fn concurrent_document_versions_get_consecutive_numbers_within_the_limit(store: &dyn Store) {
    const ADDS: usize = 3;
    store
        .create_document(&document("Race"), &document_version("first", ""), &[], 10)
        .unwrap();
    let added = race(|t| {
        (0..ADDS)
            .map(|i| {
                let v = document_version(&format!("thread {t} add {i}"), "");
                store.add_document_version(REGION, "Race", &v, 100).unwrap()
            })
            .collect::<Vec<_>>()
    });
    let mut numbers: Vec<i64> = added
        .into_iter()
        .flatten()
        .map(|a| match a {
            AddVersion::Added(n) => n,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    numbers.sort_unstable();
    let total = (1 + THREADS * ADDS) as i64;
    assert_eq!(numbers, (2..=total).collect::<Vec<_>>(), "distinct numbers");
    let versions = store.document_versions(REGION, "Race").unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    let contents: BTreeSet<&str> = versions.iter().map(|v| v.content.as_str()).collect();
    assert_eq!(contents.len(), versions.len(), "every addition stored once");
    assert_eq!(
        store
            .get_document(REGION, "Race")
            .unwrap()
            .unwrap()
            .latest_version,
        total
    );

    // At most 4 versions: of the racing additions, exactly 3 fit.
    store
        .create_document(&document("Small"), &document_version("first", ""), &[], 10)
        .unwrap();
    let added = race(|t| {
        let v = document_version(&format!("thread {t}"), "");
        store.add_document_version(REGION, "Small", &v, 4).unwrap()
    });
    let fitted = added
        .iter()
        .filter(|a| matches!(a, AddVersion::Added(_)))
        .count();
    assert_eq!(fitted, 3, "{added:?}");
    assert!(added
        .iter()
        .all(|a| matches!(a, AddVersion::Added(_) | AddVersion::LimitExceeded)));
    assert_eq!(store.document_versions(REGION, "Small").unwrap().len(), 4);
}

pub fn concurrent_document_creations_never_exceed_the_limit_and_take_a_name_once(
    store: &dyn Store,
) {
    let created = race(|t| {
        let content = document_version(&format!("thread {t}"), "");
        store.create_document(&document(&format!("doc-{t}")), &content, &[], 3)
    });
    assert_eq!(
        created.iter().filter(|c| c.is_ok()).count(),
        3,
        "{created:?}"
    );
    assert!(
        created
            .iter()
            .all(|c| matches!(c, Ok(()) | Err(StoreError::LimitExceeded(_)))),
        "{created:?}"
    );
    assert_eq!(store.list_documents(REGION).unwrap().len(), 3);

    let mut same = document("same");
    same.region = OTHER_REGION.into();
    let created = race(|t| {
        let content = document_version(&format!("thread {t}"), "");
        store.create_document(&same, &content, &[], 100)
    });
    assert_eq!(
        created.iter().filter(|c| c.is_ok()).count(),
        1,
        "{created:?}"
    );
    assert!(
        created
            .iter()
            .all(|c| matches!(c, Ok(()) | Err(StoreError::AlreadyExists(_)))),
        "{created:?}"
    );
    assert_eq!(
        store.document_versions(OTHER_REGION, "same").unwrap().len(),
        1
    );
}

pub fn concurrent_results_for_one_invocation_keep_one_writers_result(store: &dyn Store) {
    store
        .create_command(
            &command("c", 0),
            &[invocation("c", "mi-a", 1)],
            &[plugin("c", "mi-a", 1)],
        )
        .unwrap();
    race(|t| {
        let mut i = invocation("c", "mi-a", 1);
        i.status = if t % 2 == 0 { "Success" } else { "Failed" }.into();
        i.status_details = i.status.clone();
        i.response_code = t as i64;
        let mut p = plugin("c", "mi-a", 1);
        p.status = i.status.clone();
        p.response_code = t as i64;
        p.stdout = format!("thread {t}");
        store.update_invocation_with_plugins(&i, &[p]).unwrap();
    });
    // The first terminal result stands, and the step's result is the same writer's.
    let i = store.invocation("c", "mi-a").unwrap().unwrap();
    let winner = i.response_code;
    assert_eq!(i.status, if winner % 2 == 0 { "Success" } else { "Failed" });
    let steps = store.plugins("c", "mi-a").unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].stdout, format!("thread {winner}"));
    assert_eq!(steps[0].response_code, winner);
}
