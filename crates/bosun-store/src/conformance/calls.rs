//! Claimed and answered calls (idempotent retries).

use super::fixtures::{answer, audit_record, claim, command, REGION};
use crate::prelude::*;
use crate::{Answer, AuditVerification, CallRecords, Claim, ClaimRequest, StoreError};

fn record(store: &dyn Store, a: &Answer) {
    store
        .record_call(CallRecords {
            audit: None,
            answer: Some(a),
        })
        .unwrap();
}

pub fn the_first_attempt_executes_and_retries_get_its_answer(store: &dyn Store) {
    assert_eq!(
        store.claim_call(&claim("a", "p1", 0)).unwrap(),
        Claim::Execute
    );
    assert_eq!(
        store.claim_call(&claim("a", "p1", 1)).unwrap(),
        Claim::InProgress
    );
    // Another call is independent.
    assert_eq!(
        store.claim_call(&claim("b", "p1", 1)).unwrap(),
        Claim::Execute
    );
    let mut a = answer("a", 1, b"sealed");
    a.answer.status = 400;
    a.answer.error_type = Some("ValidationException".into());
    record(store, &a);
    assert_eq!(
        store.claim_call(&claim("a", "p1", 2)).unwrap(),
        Claim::Replay(a.answer.clone())
    );
    // A later server process replays it too, claiming or looking up.
    assert_eq!(
        store.claim_call(&claim("a", "p2", 3)).unwrap(),
        Claim::Replay(a.answer.clone())
    );
    assert_eq!(
        store.look_up_call(&claim("a", "p2", 3)).unwrap(),
        Claim::Replay(a.answer)
    );
}

pub fn a_claim_left_by_a_gone_process_is_never_run_again(store: &dyn Store) {
    store.claim_call(&claim("a", "p1", 0)).unwrap();
    assert_eq!(
        store.claim_call(&claim("a", "p2", 1)).unwrap(),
        Claim::Interrupted
    );
    assert_eq!(
        store.look_up_call(&claim("a", "p2", 1)).unwrap(),
        Claim::Interrupted
    );
    assert_eq!(
        store.look_up_call(&claim("a", "p1", 1)).unwrap(),
        Claim::InProgress
    );
    // A claim by another replica that is alive is still running there.
    let live = ["p1".to_string()];
    let mut elsewhere = claim("a", "p2", 1);
    elsewhere.live_owners = &live;
    assert_eq!(store.claim_call(&elsewhere).unwrap(), Claim::InProgress);
    assert_eq!(store.look_up_call(&elsewhere).unwrap(), Claim::InProgress);
}

pub fn looking_up_a_call_claims_nothing(store: &dyn Store) {
    assert_eq!(
        store.look_up_call(&claim("a", "p1", 0)).unwrap(),
        Claim::Execute
    );
    assert_eq!(
        store.claim_call(&claim("a", "p2", 1)).unwrap(),
        Claim::Execute,
        "nothing was stored by the look-up"
    );
    let a = answer("b", 0, b"x");
    record(store, &a);
    assert_eq!(
        store.look_up_call(&claim("b", "p2", 1)).unwrap(),
        Claim::Replay(a.answer)
    );
}

pub fn expired_calls_run_as_new(store: &dyn Store) {
    store.claim_call(&claim("a", "p1", 0)).unwrap();
    record(store, &answer("a", 0, b"x"));
    store.claim_call(&claim("b", "p1", 0)).unwrap();
    // Both expire at 1000.
    assert_eq!(
        store.look_up_call(&claim("a", "p1", 1000)).unwrap(),
        Claim::Execute
    );
    assert_eq!(
        store.claim_call(&claim("a", "p2", 1000)).unwrap(),
        Claim::Execute
    );
    assert_eq!(
        store.claim_call(&claim("b", "p2", 1000)).unwrap(),
        Claim::Execute,
        "an expired claim of a gone process no longer blocks"
    );
    assert_eq!(
        store.claim_call(&claim("a", "p2", 1001)).unwrap(),
        Claim::InProgress,
        "the fresh claim holds"
    );
}

pub fn a_calls_records_are_written_together(store: &dyn Store) {
    store.record_call(CallRecords::default()).unwrap();
    assert!(store.audit_records().unwrap().is_empty());
    store.claim_call(&claim("a", "p1", 0)).unwrap();
    let audit = audit_record(0, "ssm:PutParameter");
    let a = answer("a", 0, b"x");
    store
        .record_call(CallRecords {
            audit: Some(&audit),
            answer: Some(&a),
        })
        .unwrap();
    assert_eq!(store.audit_records().unwrap(), [(1, audit)]);
    assert_eq!(
        store.claim_call(&claim("a", "p1", 1)).unwrap(),
        Claim::Replay(a.answer)
    );
}

pub fn a_command_and_its_answer_for_retries_commit_together(store: &dyn Store) {
    let call = |call_id| ClaimRequest {
        call_id,
        owner: "p1",
        live_owners: &[],
        now_ms: 1,
        expires_ms: 60_000,
    };
    let answer = |call_id: &str| {
        let mut a = answer(call_id, 0, call_id.as_bytes());
        a.expires_ms = 60_000;
        a
    };
    assert_eq!(store.look_up_call(&call("one")).unwrap(), Claim::Execute);
    let first = answer("one");
    let records = CallRecords {
        audit: None,
        answer: Some(&first),
    };
    store
        .create_command_audited(&command("c1", 0), &[], &[], records)
        .unwrap();
    assert_eq!(
        store.look_up_call(&call("one")).unwrap(),
        Claim::Replay(first.answer.clone())
    );
    // A command that cannot be stored leaves no answer: its retry runs it.
    let second = answer("two");
    let records = CallRecords {
        audit: None,
        answer: Some(&second),
    };
    assert!(store
        .create_command_audited(&command("c1", 0), &[], &[], records)
        .is_err());
    assert_eq!(store.look_up_call(&call("two")).unwrap(), Claim::Execute);
}

pub fn an_answered_call_keeps_its_answer_and_refuses_a_second_change(store: &dyn Store) {
    let call = |now_ms| ClaimRequest {
        call_id: "send",
        owner: "p1",
        live_owners: &[],
        now_ms,
        expires_ms: now_ms + 1000,
    };
    // Two attempts of a call that is only looked up (two replicas) both find nothing stored.
    assert_eq!(store.look_up_call(&call(0)).unwrap(), Claim::Execute);
    assert_eq!(store.look_up_call(&call(0)).unwrap(), Claim::Execute);
    let (first, second) = (answer("send", 0, b"first"), answer("send", 0, b"second"));
    let (audit1, audit2) = (
        audit_record(1, "ssm:SendCommand"),
        audit_record(2, "ssm:SendCommand"),
    );
    let records = |a, r| CallRecords {
        audit: Some(r),
        answer: Some(a),
    };
    store
        .create_command_audited(&command("c1", 0), &[], &[], records(&first, &audit1))
        .unwrap();
    // The second attempt's change, answer and audit record all roll back.
    match store.create_command_audited(&command("c2", 0), &[], &[], records(&second, &audit2)) {
        Err(StoreError::AlreadyExists(what)) => assert!(what.contains("send"), "{what}"),
        other => panic!("a second answer must be refused, got {other:?}"),
    }
    assert!(store.get_command(REGION, "c2").unwrap().is_none());
    assert_eq!(store.audit_records().unwrap(), [(1, audit1.clone())]);
    assert!(matches!(
        store.record_call(records(&second, &audit2)),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(store.audit_records().unwrap(), [(1, audit1)]);
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::Intact { records: 1 }
    );
    assert_eq!(
        store.look_up_call(&call(1)).unwrap(),
        Claim::Replay(first.answer)
    );
    // A claim is still completed by its answer, once.
    assert_eq!(
        store.claim_call(&claim("put", "p1", 0)).unwrap(),
        Claim::Execute
    );
    let put = answer("put", 0, b"put");
    record(store, &put);
    assert!(matches!(
        store.record_call(CallRecords {
            audit: None,
            answer: Some(&answer("put", 1, b"again")),
        }),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        store.claim_call(&claim("put", "p1", 2)).unwrap(),
        Claim::Replay(put.answer)
    );
    // An expired answer is as good as none: a new one is stored.
    let fresh = answer("send", 1000, b"fresh");
    record(store, &fresh);
    assert_eq!(
        store.look_up_call(&call(1001)).unwrap(),
        Claim::Replay(fresh.answer)
    );
}
