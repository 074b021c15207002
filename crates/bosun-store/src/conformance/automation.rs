//! Automation executions: creation with client tokens, listing with every filter and paging,
//! leases that fence the driver's writes (and the events they carry), stop requests and
//! compare-and-set signals.

use super::concurrency::race;
use crate::prelude::*;
use crate::{AutomationExecutionRecord, AutomationQuery, AutomationStarted, AutomationStepRecord};

fn execution(id: &str, doc: &str, start_ms: i64) -> AutomationExecutionRecord {
    AutomationExecutionRecord {
        execution_id: id.into(),
        region: "us-east-1".into(),
        document_name: doc.into(),
        document_version: "1".into(),
        document_content: "{\"schemaVersion\":\"0.3\"}".into(),
        status: "InProgress".into(),
        mode: "Auto".into(),
        parameters_json: "{}".into(),
        outputs_json: "{}".into(),
        failure_message: String::new(),
        executed_by: "arn:aws:iam::123456789012:user/alice".into(),
        parent_id: None,
        targets_json: "[]".into(),
        target_parameter_name: String::new(),
        max_concurrency: String::new(),
        max_errors: String::new(),
        client_token: String::new(),
        request_hash: String::new(),
        current_step_name: String::new(),
        current_action: String::new(),
        start_ms,
        end_ms: None,
        wake_ms: None,
        stop_requested: String::new(),
        signals_json: "[]".into(),
        owner: "r1".into(),
        lease_until_ms: 1_000,
    }
}

fn step(id: &str, seq: i64, status: &str) -> AutomationStepRecord {
    AutomationStepRecord {
        execution_id: id.into(),
        seq,
        step_execution_id: format!("{id}-{seq}"),
        step_index: seq,
        step_name: format!("s{seq}"),
        action: "aws:sleep".into(),
        status: status.into(),
        attempt: 1,
        inputs_json: "{\"Duration\":\"PT1S\"}".into(),
        outputs_json: "{}".into(),
        response_json: "null".into(),
        failure_message: String::new(),
        start_ms: Some(10),
        end_ms: None,
        wake_ms: Some(1_010),
        command_id: String::new(),
        signal_base: 0,
    }
}

fn ids(store: &dyn Store, q: &AutomationQuery) -> Vec<String> {
    let list = store.list_automation_executions(q).unwrap();
    list.into_iter().map(|e| e.execution_id).collect()
}

pub fn automation_executions_are_created_listed_filtered_and_paged(store: &dyn Store) {
    store
        .create_automation_execution(&execution("e1", "Doc-A", 100))
        .unwrap();
    let mut child = execution("e2", "Doc-B", 200);
    child.parent_id = Some("e1".into());
    child.status = "Success".into();
    child.end_ms = Some(250);
    store.create_automation_execution(&child).unwrap();
    store
        .create_automation_execution(&execution("e3", "Doc-A2", 200))
        .unwrap();
    let mut other = execution("e4", "Doc-A", 300);
    other.region = "eu-west-1".into();
    store.create_automation_execution(&other).unwrap();
    assert!(store
        .create_automation_execution(&execution("e1", "x", 1))
        .is_err());
    assert_eq!(
        store.get_automation_execution("e2").unwrap(),
        Some(child.clone())
    );
    assert_eq!(store.get_automation_execution("nope").unwrap(), None);

    let all = AutomationQuery {
        region: "us-east-1".into(),
        limit: 10,
        ..AutomationQuery::default()
    };
    assert_eq!(ids(store, &all), ["e2", "e3", "e1"]);
    let q = |f: &dyn Fn(&mut AutomationQuery)| {
        let mut q = all.clone();
        f(&mut q);
        ids(store, &q)
    };
    assert_eq!(
        q(&|q| q.document_name_prefix = Some("Doc-A".into())),
        ["e3", "e1"]
    );
    assert_eq!(
        q(&|q| q.statuses = vec!["Success".into(), "Failed".into()]),
        ["e2"]
    );
    assert_eq!(q(&|q| q.execution_id = Some("e3".into())), ["e3"]);
    assert_eq!(q(&|q| q.parent_id = Some("e1".into())), ["e2"]);
    assert_eq!(q(&|q| q.start_before_ms = Some(200)), ["e1"]);
    assert_eq!(q(&|q| q.start_after_ms = Some(100)), ["e2", "e3"]);
    assert_eq!(
        q(&|q| {
            q.limit = 1;
            q.after = Some((200, "e2".into()));
        }),
        ["e3"]
    );
}

pub fn automation_client_tokens_replay_the_same_start_and_refuse_others(store: &dyn Store) {
    let mut first = execution("t1", "Doc", 1);
    first.client_token = "tok".into();
    first.request_hash = "h1".into();
    assert_eq!(
        store.create_automation_execution(&first).unwrap(),
        AutomationStarted::Created
    );
    let mut retry = first.clone();
    retry.execution_id = "t2".into();
    assert_eq!(
        store.create_automation_execution(&retry).unwrap(),
        AutomationStarted::Replayed("t1".into())
    );
    retry.request_hash = "h2".into();
    assert_eq!(
        store.create_automation_execution(&retry).unwrap(),
        AutomationStarted::TokenMismatch
    );
    assert_eq!(store.get_automation_execution("t2").unwrap(), None);
    let racers = race(|i| {
        let mut e = execution(&format!("r{i}"), "Doc", 1);
        e.client_token = "raced".into();
        e.request_hash = "h".into();
        store.create_automation_execution(&e).unwrap()
    });
    let created = racers
        .iter()
        .filter(|o| **o == AutomationStarted::Created)
        .count();
    assert_eq!(created, 1, "{racers:?}");
}

pub fn automation_leases_fence_the_driver_and_pass_on_when_they_lapse(store: &dyn Store) {
    store
        .create_automation_execution(&execution("e1", "Doc", 1))
        .unwrap();
    let mut done = execution("e2", "Doc", 1);
    done.end_ms = Some(5);
    store.create_automation_execution(&done).unwrap();
    // r1's lease holds until 1000: r2 gets nothing before then.
    assert!(store
        .claim_automation_executions("r2", 500, 2_000)
        .unwrap()
        .is_empty());
    assert!(store
        .put_owned_automation_step("r1", &step("e1", 0, "InProgress"), &[])
        .unwrap());
    assert!(!store
        .put_owned_automation_step("r2", &step("e1", 1, "InProgress"), &[])
        .unwrap());
    // r1 renews, then lapses; r2 takes over and r1's writes are refused.
    assert_eq!(
        store.claim_automation_executions("r1", 900, 1_500).unwrap(),
        ["e1"]
    );
    assert!(store
        .claim_automation_executions("r2", 1_400, 3_000)
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .claim_automation_executions("r2", 1_600, 3_000)
            .unwrap(),
        ["e1"]
    );
    let mut e = store.get_automation_execution("e1").unwrap().unwrap();
    assert_eq!((e.owner.as_str(), e.lease_until_ms), ("r2", 3_000));
    e.status = "Success".into();
    e.end_ms = Some(1_700);
    e.current_step_name = "s0".into();
    assert!(!store
        .update_owned_automation_execution("r1", &e, &[])
        .unwrap());
    let mut s = step("e1", 0, "Success");
    s.end_ms = Some(1_650);
    s.outputs_json = "{\"o\":[\"1\"]}".into();
    assert!(!store.put_owned_automation_step("r1", &s, &[]).unwrap());
    assert!(store.put_owned_automation_step("r2", &s, &[]).unwrap());
    assert_eq!(store.automation_steps("e1").unwrap(), [s.clone()]);
    assert!(store
        .update_owned_automation_execution("r2", &e, &[])
        .unwrap());
    let stored = store.get_automation_execution("e1").unwrap().unwrap();
    assert_eq!(stored, e);
    // An ended execution takes no more writes, stops or signals.
    assert!(!store
        .update_owned_automation_execution("r2", &e, &[])
        .unwrap());
    assert!(!store.put_owned_automation_step("r2", &s, &[]).unwrap());
    assert!(!store.request_automation_stop("e1", "Cancel").unwrap());
    assert!(store
        .claim_automation_executions("r3", 10_000, 20_000)
        .unwrap()
        .is_empty());
}

pub fn automation_stops_and_signals_are_kept_apart_from_the_driver(store: &dyn Store) {
    store
        .create_automation_execution(&execution("e1", "Doc", 1))
        .unwrap();
    assert!(store.request_automation_stop("e1", "Cancel").unwrap());
    assert!(store.set_automation_signals("e1", "[]", "[1]").unwrap());
    assert!(!store.set_automation_signals("e1", "[]", "[2]").unwrap());
    let mut e = execution("e1", "Doc", 1);
    e.status = "Cancelling".into();
    assert!(store
        .update_owned_automation_execution("r1", &e, &[])
        .unwrap());
    let stored = store.get_automation_execution("e1").unwrap().unwrap();
    assert_eq!(stored.status, "Cancelling");
    assert_eq!(stored.stop_requested, "Cancel");
    assert_eq!(stored.signals_json, "[1]");
    let winners = race(|i| {
        store
            .set_automation_signals("e1", "[1]", &format!("[1,{i}]"))
            .unwrap()
    });
    assert_eq!(winners.iter().filter(|w| **w).count(), 1);
}

/// The automation events in the outbox after `after`: `(detail-type, Status, StepName)`.
fn automation_events(store: &dyn Store, after: i64) -> Vec<(String, String, String)> {
    store
        .events_after(after, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.detail_type.starts_with("EC2 Automation"))
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.envelope).unwrap();
            let field = |k: &str| v["detail"][k].as_str().unwrap_or_default().to_string();
            (e.detail_type, field("Status"), field("StepName"))
        })
        .collect()
}

fn outbox_end(store: &dyn Store) -> i64 {
    store
        .events_after(0, 100_000)
        .unwrap()
        .last()
        .map_or(0, |e| e.seq)
}

pub fn automation_changes_write_their_events_with_the_change(store: &dyn Store) {
    use crate::automation_events::{execution_events, step_events};
    const STEP: &str = "EC2 Automation Step Status-change Notification";
    const EXECUTION: &str = "EC2 Automation Execution Status-change Notification";
    let start = outbox_end(store);
    let e = execution("ev1", "Doc", 1);
    store.create_automation_execution(&e).unwrap();
    // A step starting and an execution going on emit nothing.
    let running = step("ev1", 0, "InProgress");
    let events = step_events("123456789012", 20, &e, None, &running);
    assert!(events.is_empty());
    assert!(store
        .put_owned_automation_step("r1", &running, &events)
        .unwrap());
    // A step ending writes its event with it; a replica that lost the lease writes neither.
    let mut ended = running.clone();
    ended.status = "Failed".into();
    ended.end_ms = Some(30);
    let events = step_events("123456789012", 30, &e, Some("InProgress"), &ended);
    assert_eq!(events.len(), 1);
    assert!(!store
        .put_owned_automation_step("r2", &ended, &events)
        .unwrap());
    assert_eq!(
        store.automation_steps("ev1").unwrap(),
        std::slice::from_ref(&running)
    );
    assert!(automation_events(store, start).is_empty());
    assert!(store
        .put_owned_automation_step("r1", &ended, &events)
        .unwrap());
    assert_eq!(store.automation_steps("ev1").unwrap(), [ended.clone()]);
    assert_eq!(
        automation_events(store, start),
        [(STEP.to_string(), "Failed".to_string(), "s0".to_string())]
    );
    // The execution ending likewise; once ended, no write (and no event) lands again.
    let mut done = e.clone();
    done.status = "Failed".into();
    done.end_ms = Some(40);
    let events = execution_events("123456789012", 40, &e.status, &done);
    assert_eq!(events.len(), 1);
    assert!(!store
        .update_owned_automation_execution("r2", &done, &events)
        .unwrap());
    assert_eq!(automation_events(store, start).len(), 1);
    assert!(store
        .update_owned_automation_execution("r1", &done, &events)
        .unwrap());
    assert!(!store
        .update_owned_automation_execution("r1", &done, &events)
        .unwrap());
    let all = store.events_after(start, 1000).unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|x| x.detail_type.starts_with("EC2 Automation"))
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[1].detail_type, EXECUTION);
    assert_eq!(mine[1].region, "us-east-1");
    assert_eq!(mine[1].event_id, events[0].id);
    let v: serde_json::Value = serde_json::from_str(&mine[1].envelope).unwrap();
    assert_eq!(v, events[0].envelope);
    assert_eq!(v["detail"]["ExecutionId"], "ev1");
    assert_eq!(
        v["resources"][0],
        "arn:aws:ssm:us-east-1:123456789012:automation-execution/ev1"
    );
    assert_eq!(store.get_automation_execution("ev1").unwrap(), Some(done));
}
