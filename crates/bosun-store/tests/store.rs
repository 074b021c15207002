//! Store invariants: registration limits hold under concurrency; the audit chain detects edits.

use std::sync::Arc;

use bosun_store::prelude::*;
use bosun_store::{
    ActivationRecord, Answer, AuditRecord, AuditVerification, CallRecords, Claim, ClaimRequest,
    NewInstance, RegisterOutcome, SqliteStore, StoredAnswer,
};

fn activation(limit: i64) -> ActivationRecord {
    ActivationRecord {
        region: "us-east-1".into(),
        activation_id: "a".into(),
        description: String::new(),
        default_instance_name: String::new(),
        iam_role: "r".into(),
        registration_limit: limit,
        registrations_count: 0,
        expiration_ms: 10_000,
        created_ms: 0,
    }
}

fn node(i: usize) -> NewInstance {
    NewInstance {
        region: "us-east-1".into(),
        instance_id: format!("mi-{i:017x}"),
        activation_id: "a".into(),
        public_key: "k".into(),
        name: String::new(),
        iam_role: "r".into(),
        registration_ms: 1,
        info: Default::default(),
    }
}

#[test]
fn concurrent_registrations_never_exceed_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("db")).unwrap());
    store
        .create_activation(&activation(3), "hash", &[("env".into(), "dev".into())])
        .unwrap();
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let s = store.clone();
            std::thread::spawn(move || s.register_instance("a", "hash", &node(i), 5).unwrap())
        })
        .collect();
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == RegisterOutcome::Registered)
            .count(),
        3
    );
    assert_eq!(store.list_instances("us-east-1").unwrap().len(), 3);
    assert_eq!(
        store
            .get_activation("us-east-1", "a")
            .unwrap()
            .unwrap()
            .registrations_count,
        3
    );
    let first = &store.list_instances("us-east-1").unwrap()[0];
    assert_eq!(
        store
            .tags("us-east-1", "ManagedInstance", &first.instance_id)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn registration_checks_code_expiry_and_region() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .create_activation(&activation(5), "hash", &[])
        .unwrap();
    assert_eq!(
        store.register_instance("a", "wrong", &node(1), 5).unwrap(),
        RegisterOutcome::InvalidActivation
    );
    assert_eq!(
        store
            .register_instance("a", "hash", &node(1), 10_000)
            .unwrap(),
        RegisterOutcome::Expired
    );
    let mut elsewhere = node(1);
    elsewhere.region = "eu-west-1".into();
    assert_eq!(
        store.register_instance("a", "hash", &elsewhere, 5).unwrap(),
        RegisterOutcome::InvalidActivation
    );
    assert!(store.list_instances("us-east-1").unwrap().is_empty());
}

#[test]
fn the_audit_chain_detects_an_edited_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = SqliteStore::open(&path).unwrap();
    for i in 0..5 {
        store
            .append_audit(&AuditRecord {
                time_ms: i,
                principal: "admin".into(),
                action: "ssm:CreateActivation".into(),
                region: "us-east-1".into(),
                resource: "*".into(),
                request_id: format!("r{i}"),
                source: "127.0.0.1".into(),
                outcome: "Allowed".into(),
                detail: String::new(),
            })
            .unwrap();
    }
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::Intact { records: 5 }
    );
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE audit SET outcome = 'Denied' WHERE seq = 3", [])
        .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::BrokenAt { seq: 3 }
    );
}

#[test]
fn document_versions_are_numbered_deduplicated_and_deleted_with_the_document() {
    use bosun_store::{AddVersion, DocumentRecord, DocumentVersionRecord};
    let store = SqliteStore::open_in_memory().unwrap();
    let doc = DocumentRecord {
        region: "us-east-1".into(),
        name: "Deploy".into(),
        document_type: "Command".into(),
        target_type: String::new(),
        display_name: String::new(),
        created_ms: 1,
        default_version: 1,
        latest_version: 1,
    };
    let v = |content: &str, name: &str| DocumentVersionRecord {
        version: 1,
        version_name: name.into(),
        content: content.into(),
        format: "JSON".into(),
        schema_version: "2.2".into(),
        hash: format!("h-{content}"),
        requires_json: "[]".into(),
        created_ms: 1,
    };
    store
        .create_document(&doc, &v("a", "v1"), &[("team".into(), "ops".into())], 10)
        .unwrap();
    assert!(matches!(
        store.create_document(&doc, &v("a", ""), &[], 10),
        Err(bosun_store::StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        store
            .add_document_version("us-east-1", "Deploy", &v("a", ""), 5)
            .unwrap(),
        AddVersion::DuplicateContent
    );
    assert_eq!(
        store
            .add_document_version("us-east-1", "Deploy", &v("b", "v1"), 5)
            .unwrap(),
        AddVersion::DuplicateVersionName
    );
    assert_eq!(
        store
            .add_document_version("us-east-1", "Deploy", &v("b", "v2"), 5)
            .unwrap(),
        AddVersion::Added(2)
    );
    assert_eq!(
        store
            .add_document_version("us-east-1", "Deploy", &v("c", ""), 2)
            .unwrap(),
        AddVersion::LimitExceeded
    );
    assert!(store
        .set_default_document_version("us-east-1", "Deploy", 2)
        .unwrap());
    assert!(!store
        .set_default_document_version("us-east-1", "Deploy", 9)
        .unwrap());
    assert!(store
        .delete_document_version("us-east-1", "Deploy", 1)
        .unwrap());
    assert_eq!(
        store
            .add_document_version("us-east-1", "Deploy", &v("c", ""), 5)
            .unwrap(),
        AddVersion::Added(3),
        "numbers are never reused"
    );
    assert!(
        store.get_document("eu-west-1", "Deploy").unwrap().is_none(),
        "documents are regional"
    );
    assert!(store.delete_document("us-east-1", "Deploy").unwrap());
    assert!(store
        .document_versions("us-east-1", "Deploy")
        .unwrap()
        .is_empty());
    assert!(store
        .tags("us-east-1", "Document", "Deploy")
        .unwrap()
        .is_empty());
}

fn audit_record(i: i64, action: &str) -> AuditRecord {
    AuditRecord {
        time_ms: i,
        principal: "admin".into(),
        action: action.into(),
        region: "us-east-1".into(),
        resource: "*".into(),
        request_id: format!("r{i}"),
        source: "127.0.0.1".into(),
        outcome: "Allowed".into(),
        detail: String::new(),
    }
}

fn command(id: &str) -> bosun_store::CommandRecord {
    bosun_store::CommandRecord {
        region: "us-east-1".into(),
        command_id: id.into(),
        document_name: "AWS-RunShellScript".into(),
        document_version: String::new(),
        document_hash: String::new(),
        comment: String::new(),
        request_json: "{}".into(),
        steps_json: "[]".into(),
        requested_ms: 0,
        expires_ms: 0,
        timeout_seconds: 3600,
        max_concurrency: "50".into(),
        max_errors: "0".into(),
        status: "Failed".into(),
        status_details: "NoInstancesInTag".into(),
        target_count: 0,
        completed_count: 0,
        error_count: 0,
        delivery_timed_out_count: 0,
        cancel_requested: false,
    }
}

fn audited(r: &AuditRecord) -> CallRecords<'_> {
    CallRecords {
        audit: Some(r),
        answer: None,
    }
}

#[test]
fn a_command_and_its_audit_record_commit_together_and_keep_the_chain() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .append_audit(&audit_record(1, "ssm:CreateActivation"))
        .unwrap();
    store
        .create_command_audited(
            &command("c1"),
            &[],
            &[],
            audited(&audit_record(2, "ssm:SendCommand")),
        )
        .unwrap();
    store
        .append_audit(&audit_record(3, "ssm:CreateActivation"))
        .unwrap();
    // A command that cannot be stored (its id is taken) leaves no audit record behind.
    assert!(store
        .create_command_audited(
            &command("c1"),
            &[],
            &[],
            audited(&audit_record(4, "ssm:SendCommand"))
        )
        .is_err());
    store
        .create_command_audited(
            &command("c2"),
            &[],
            &[],
            audited(&audit_record(5, "ssm:SendCommand")),
        )
        .unwrap();
    assert_eq!(
        store.verify_audit().unwrap(),
        AuditVerification::Intact { records: 4 }
    );
    let times: Vec<i64> = store
        .audit_records()
        .unwrap()
        .iter()
        .map(|(_, r)| r.time_ms)
        .collect();
    assert_eq!(times, [1, 2, 3, 5]);
    assert!(store.get_command("us-east-1", "c2").unwrap().is_some());
}

#[test]
fn a_command_and_its_answer_for_retries_commit_together() {
    let store = SqliteStore::open_in_memory().unwrap();
    let call = |call_id| ClaimRequest {
        call_id,
        owner: "p1",
        now_ms: 1,
        expires_ms: 60_000,
    };
    let answer = |call_id: &str| Answer {
        call_id: call_id.into(),
        owner: "p1".into(),
        now_ms: 0,
        expires_ms: 60_000,
        answer: StoredAnswer {
            status: 200,
            error_type: None,
            sealed_body: call_id.as_bytes().to_vec(),
        },
    };
    assert_eq!(store.look_up_call(&call("one")).unwrap(), Claim::Execute);
    let first = answer("one");
    let records = CallRecords {
        audit: None,
        answer: Some(&first),
    };
    store
        .create_command_audited(&command("c1"), &[], &[], records)
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
        .create_command_audited(&command("c1"), &[], &[], records)
        .is_err());
    assert_eq!(store.look_up_call(&call("two")).unwrap(), Claim::Execute);
}
