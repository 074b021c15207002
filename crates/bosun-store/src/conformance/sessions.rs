//! Session Manager sessions: creation, listing with every filter and paging, single-use tokens,
//! the end and the agent's report.

use super::concurrency::race;
use crate::prelude::*;
use crate::{AgentReport, SessionQuery, SessionRecord, StoreError, TokenClaim};

fn session(id: &str, target: &str, start_ms: i64) -> SessionRecord {
    SessionRecord {
        session_id: id.into(),
        region: "us-east-1".into(),
        target: target.into(),
        document_name: "SSM-SessionManagerRunShell".into(),
        owner: "arn:aws:iam::123456789012:user/alice".into(),
        reason: "look".into(),
        status: "Connecting".into(),
        details: String::new(),
        start_ms,
        end_ms: None,
        output_url: String::new(),
        max_duration_s: Some(3600),
        idle_timeout_s: 1200,
        client_token_hash: format!("client-{id}"),
        client_token_expires_ms: 10_000,
        agent_token_hash: format!("agent-{id}"),
        agent_accepted: false,
        replica_id: "r1".into(),
        handoff: String::new(),
        end_reason: None,
        agent_report: None,
    }
}

fn query(active: bool) -> SessionQuery {
    SessionQuery {
        region: "us-east-1".into(),
        active,
        limit: 100,
        ..SessionQuery::default()
    }
}

fn ids(store: &dyn Store, q: &SessionQuery) -> Vec<String> {
    let list = store.list_sessions(q).unwrap();
    list.into_iter().map(|s| s.session_id).collect()
}

pub fn sessions_are_created_listed_filtered_and_paged(store: &dyn Store) {
    store.create_session(&session("a-1", "mi-a", 100)).unwrap();
    store.create_session(&session("a-2", "mi-b", 200)).unwrap();
    store.create_session(&session("a-3", "mi-a", 200)).unwrap();
    let mut other = session("b-1", "mi-a", 300);
    other.region = "eu-west-1".into();
    store.create_session(&other).unwrap();
    assert!(matches!(
        store.create_session(&session("a-1", "mi-z", 1)),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        store.get_session("a-1").unwrap(),
        Some(session("a-1", "mi-a", 100))
    );
    assert_eq!(store.get_session("nope").unwrap(), None);
    // Newest first, then by id; the region scopes.
    assert_eq!(ids(store, &query(true)), ["a-2", "a-3", "a-1"]);
    assert!(ids(store, &query(false)).is_empty());
    let q = |f: fn(&mut SessionQuery)| {
        let mut q = query(true);
        f(&mut q);
        ids(store, &q)
    };
    assert_eq!(q(|q| q.target = Some("mi-a".into())), ["a-3", "a-1"]);
    assert_eq!(q(|q| q.session_id = Some("a-2".into())), ["a-2"]);
    assert_eq!(
        q(|q| q.owner = Some("arn:other".into())),
        Vec::<String>::new()
    );
    assert_eq!(q(|q| q.status = Some("Connecting".into())).len(), 3);
    assert_eq!(q(|q| q.started_from_ms = Some(200)), ["a-2", "a-3"]);
    assert_eq!(q(|q| q.started_until_ms = Some(199)), ["a-1"]);
    // Pages continue after the last one seen.
    assert_eq!(q(|q| q.limit = 1), ["a-2"]);
    assert_eq!(
        q(|q| {
            q.after = Some((200, "a-2".into()));
            q.limit = 1
        }),
        ["a-3"]
    );
    assert_eq!(q(|q| q.after = Some((200, "a-3".into()))), ["a-1"]);
    let active: Vec<String> = store
        .active_sessions()
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(active, ["a-1", "a-2", "a-3", "b-1"]);
}

pub fn tokens_are_single_use_and_die_with_the_session(store: &dyn Store) {
    store.create_session(&session("a-1", "mi-a", 100)).unwrap();
    store.create_session(&session("a-2", "mi-a", 100)).unwrap();
    // Another session's token, an expired one, the wrong one: refused, nothing changes.
    assert_eq!(
        store.claim_client_token("a-1", "client-a-2", 5).unwrap(),
        TokenClaim::Refused
    );
    assert_eq!(
        store
            .claim_client_token("a-1", "client-a-1", 10_001)
            .unwrap(),
        TokenClaim::Refused
    );
    assert_eq!(
        store.claim_client_token("zz", "client-a-1", 5).unwrap(),
        TokenClaim::NoSession
    );
    let TokenClaim::Claimed(s) = store
        .claim_client_token("a-1", "client-a-1", 10_000)
        .unwrap()
    else {
        panic!("the current token is accepted");
    };
    assert_eq!(s.session_id, "a-1");
    assert_eq!(
        store.claim_client_token("a-1", "client-a-1", 5).unwrap(),
        TokenClaim::Refused
    );
    // A resumed session has a new token; the old one stays used.
    assert!(store.set_client_token("a-1", "client-new", 20_000).unwrap());
    assert_eq!(
        store.claim_client_token("a-1", "client-a-1", 5).unwrap(),
        TokenClaim::Refused
    );
    assert!(matches!(
        store.claim_client_token("a-1", "client-new", 5).unwrap(),
        TokenClaim::Claimed(_)
    ));
    // The agent's token: only its own session's, as often as the agent redials while the
    // session lives.
    assert_eq!(
        store.claim_agent_token("a-1", "agent-a-2").unwrap(),
        TokenClaim::Refused
    );
    for _ in 0..2 {
        assert!(matches!(
            store.claim_agent_token("a-1", "agent-a-1").unwrap(),
            TokenClaim::Claimed(_)
        ));
    }
    // Concurrent claims of one client token: one wins.
    let wins = race(|_| {
        matches!(
            store.claim_client_token("a-2", "client-a-2", 5).unwrap(),
            TokenClaim::Claimed(_)
        )
    });
    assert_eq!(wins.iter().filter(|w| **w).count(), 1);
    // An ended session takes no token.
    assert!(store
        .end_session("a-2", "Terminated", "", "terminated", 500)
        .unwrap());
    assert_eq!(
        store.claim_client_token("a-2", "client-a-2", 5).unwrap(),
        TokenClaim::Ended
    );
    assert_eq!(
        store.claim_agent_token("a-2", "agent-a-2").unwrap(),
        TokenClaim::Ended
    );
    assert!(!store.set_client_token("a-2", "x", 20_000).unwrap());
}

pub fn a_handed_over_session_is_taken_over_once_by_its_replica(store: &dyn Store) {
    // Started elsewhere for replica r2: no agent token until r2 makes one.
    let mut handed = session("h-1", "mi-a", 100);
    handed.replica_id = "r2".into();
    handed.agent_token_hash = String::new();
    handed.handoff = r#"{"session_id":"h-1"}"#.into();
    store.create_session(&handed).unwrap();
    assert_eq!(store.get_session("h-1").unwrap().unwrap(), handed);
    assert_eq!(
        store.claim_agent_token("h-1", "").unwrap(),
        TokenClaim::Refused
    );
    // Only its replica takes it over, once, even when two try at once.
    assert!(!store.take_over_session("h-1", "r1", "agent-x").unwrap());
    let wins = race(|n| {
        store
            .take_over_session("h-1", "r2", &format!("agent-{n}"))
            .unwrap()
    });
    assert_eq!(wins.iter().filter(|w| **w).count(), 1);
    let taken = store.get_session("h-1").unwrap().unwrap();
    assert_eq!(taken.handoff, "");
    let token = taken.agent_token_hash.clone();
    assert!(token.starts_with("agent-"));
    assert!(!store.take_over_session("h-1", "r2", "agent-y").unwrap());
    assert!(matches!(
        store.claim_agent_token("h-1", &token).unwrap(),
        TokenClaim::Claimed(_)
    ));
    // An ended session is not taken over.
    let mut ended = handed.clone();
    ended.session_id = "h-2".into();
    store.create_session(&ended).unwrap();
    assert!(store
        .end_session("h-2", "Terminated", "", "terminated", 500)
        .unwrap());
    assert!(!store.take_over_session("h-2", "r2", "agent-z").unwrap());
}

pub fn sessions_end_once_and_keep_the_agent_report(store: &dyn Store) {
    store.create_session(&session("a-1", "mi-a", 100)).unwrap();
    assert!(store.mark_agent_accepted("a-1").unwrap());
    assert!(!store.mark_agent_accepted("a-1").unwrap());
    assert!(store.set_session_status("a-1", "Connected", "").unwrap());
    store.set_session_output("a-1", "blob://x").unwrap();
    assert!(store
        .end_session("a-1", "Terminated", "idle", "idle_timeout", 900)
        .unwrap());
    assert!(!store
        .end_session("a-1", "Failed", "again", "failed", 901)
        .unwrap());
    assert!(!store.set_session_status("a-1", "Connected", "").unwrap());
    let report = AgentReport {
        reason: "terminated".into(),
        exit_code: Some(-1),
        signal: Some("SIGHUP".into()),
        escaped_json: r#"[{"pid":7,"command":"sleep"}]"#.into(),
        error: None,
        ended_ms: 950,
    };
    assert!(store.record_agent_report("a-1", &report).unwrap());
    let mut other = report.clone();
    other.exit_code = Some(3);
    assert!(
        !store.record_agent_report("a-1", &other).unwrap(),
        "a re-sent report changes nothing"
    );
    let s = store.get_session("a-1").unwrap().unwrap();
    assert_eq!(
        (
            s.status.as_str(),
            s.details.as_str(),
            s.end_reason.as_deref(),
            s.end_ms
        ),
        ("Terminated", "idle", Some("idle_timeout"), Some(900))
    );
    assert!(s.agent_accepted);
    assert_eq!(s.output_url, "blob://x");
    assert_eq!(
        (s.client_token_hash.as_str(), s.agent_token_hash.as_str()),
        ("", "")
    );
    assert_eq!(s.agent_report, Some(report));
    assert_eq!(ids(store, &query(false)), ["a-1"]);
    assert!(ids(store, &query(true)).is_empty());
    assert!(store.active_sessions().unwrap().is_empty());
}

/// (status, end-reason or "") of the session events stored, in order.
fn session_events(store: &dyn Store) -> Vec<(String, String)> {
    store
        .events_after(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.detail_type == "Session Manager Session State-change Notification")
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.envelope).unwrap();
            let d = &v["detail"];
            (
                d["status"].as_str().unwrap().to_string(),
                d["end-reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub fn a_sessions_start_and_end_write_their_events_once(store: &dyn Store) {
    let s = session("a-1", "mi-00000000000000001", 100);
    store.create_session(&s).unwrap();
    assert!(matches!(
        store.create_session(&s),
        Err(StoreError::AlreadyExists(_))
    ));
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(session_events(store), [pair("Connecting", "")]);
    assert!(store.set_session_status("a-1", "Connected", "").unwrap());
    assert_eq!(session_events(store).len(), 1, "going on writes nothing");
    assert!(store
        .end_session("a-1", "Terminated", "", "terminated", 900)
        .unwrap());
    assert!(!store
        .end_session("a-1", "Failed", "again", "failed", 901)
        .unwrap());
    assert!(!store
        .end_session("nope", "Failed", "", "failed", 901)
        .unwrap());
    assert_eq!(
        session_events(store),
        [pair("Connecting", ""), pair("Terminated", "terminated")]
    );
    let last = store.events_after(0, 100_000).unwrap();
    let v: serde_json::Value = serde_json::from_str(&last.last().unwrap().envelope).unwrap();
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["detail"]["session-id"], "a-1");
    assert_eq!(v["detail"]["target"], "mi-00000000000000001");
    assert_eq!(v["detail"]["owner"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(v["detail"]["start-time"], "1970-01-01T00:00:00.100Z");
    assert_eq!(v["detail"]["end-time"], "1970-01-01T00:00:00.900Z");
}
