//! The event outbox: ordered reads after a cursor, compare-and-set cursors, retention, and the
//! events Run Command status changes write with their change.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use bosun_core::events::envelope::{self, Event, Origin};
use serde_json::{json, Value};

use super::concurrency::{race, THREADS};
use super::fixtures::{command, invocation, parameter, LIMITS, REGION};
use crate::prelude::*;
use crate::{DeliveryMark, LabelOutcome, OutboxEvent, PutOutcome};

fn event(n: usize) -> Event {
    let id = format!("e{n}");
    envelope::envelope(
        Origin {
            account: "123456789012",
            region: REGION,
            id: &id,
            now_ms: 1_000,
        },
        "Test Event",
        vec![],
        json!({ "n": n }),
    )
}

fn ids(events: &[OutboxEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_id.as_str()).collect()
}

fn everything(store: &dyn Store) -> Vec<OutboxEvent> {
    store.events_after(0, 100_000).unwrap()
}

fn envelope_of(e: &OutboxEvent) -> Value {
    serde_json::from_str(&e.envelope).unwrap()
}

pub fn events_are_read_in_order_after_a_cursor_and_pruned_by_age(store: &dyn Store) {
    assert!(everything(store).is_empty());
    store.append_events(&[event(1), event(2)], 100).unwrap();
    store.append_events(&[event(3)], 200).unwrap();
    let all = everything(store);
    assert_eq!(ids(&all), ["e1", "e2", "e3"]);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(all[0].region, REGION);
    assert_eq!(all[0].detail_type, "Test Event");
    assert_eq!(all[2].created_ms, 200);
    assert_eq!(envelope_of(&all[1]), event(2).envelope);
    assert_eq!(ids(&store.events_after(all[0].seq, 1).unwrap()), ["e2"]);
    assert!(store.events_after(all[2].seq, 10).unwrap().is_empty());

    // Cursors: 0 until moved; compare-and-set.
    assert_eq!(store.event_cursor("mail").unwrap(), 0);
    assert!(store
        .advance_event_cursor("mail", 0, all[1].seq, 5)
        .unwrap());
    assert!(
        !store
            .advance_event_cursor("mail", 0, all[2].seq, 5)
            .unwrap(),
        "moved already"
    );
    assert!(!store
        .advance_event_cursor("mail", all[0].seq, all[2].seq, 5)
        .unwrap());
    assert_eq!(store.event_cursor("mail").unwrap(), all[1].seq);
    assert!(store
        .advance_event_cursor("mail", all[1].seq, all[2].seq, 6)
        .unwrap());
    assert_eq!(store.event_cursor("mail").unwrap(), all[2].seq);
    assert_eq!(store.event_cursor("other").unwrap(), 0);

    // Retention: older events go; a new event's seq still follows every earlier one.
    assert_eq!(store.prune_events_before(150).unwrap(), 2);
    assert_eq!(ids(&everything(store)), ["e3"]);
    assert_eq!(store.prune_events_before(1_000).unwrap(), 1);
    store.append_events(&[event(4)], 300).unwrap();
    let after = everything(store);
    assert_eq!(ids(&after), ["e4"]);
    assert!(after[0].seq > all[2].seq, "a pruned seq is never reused");
}

fn event_in(region: &str, n: usize) -> Event {
    let id = format!("{region}-{n}");
    envelope::envelope(
        Origin {
            account: "123456789012",
            region,
            id: &id,
            now_ms: 1_000,
        },
        "Test Event",
        vec![],
        json!({ "n": n }),
    )
}

pub fn a_regions_recent_events_are_read_newest_first(store: &dyn Store) {
    assert!(store
        .region_events_before(REGION, None, 10)
        .unwrap()
        .is_empty());
    let other = "eu-west-1";
    store
        .append_events(
            &[
                event_in(REGION, 1),
                event_in(other, 1),
                event_in(REGION, 2),
                event_in(REGION, 3),
                event_in(other, 2),
            ],
            100,
        )
        .unwrap();
    let recent = store.region_events_before(REGION, None, 2).unwrap();
    assert_eq!(ids(&recent), [format!("{REGION}-3"), format!("{REGION}-2")]);
    let older = store
        .region_events_before(REGION, Some(recent[1].seq), 10)
        .unwrap();
    assert_eq!(ids(&older), [format!("{REGION}-1")]);
    assert_eq!(older[0].region, REGION);
    assert!(store
        .region_events_before(REGION, Some(older[0].seq), 10)
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(&store.region_events_before(other, None, 10).unwrap()),
        [format!("{other}-2"), format!("{other}-1")]
    );
}

/// (detail-type, instance or "", status) of each Run Command event after `after`.
fn run_command_events(store: &dyn Store, after: i64) -> Vec<(String, String, String)> {
    store
        .events_after(after, 1000)
        .unwrap()
        .iter()
        .map(|e| {
            let v = envelope_of(e);
            let node = v["detail"]["instance-id"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let status = v["detail"]["status"].as_str().unwrap().to_string();
            (e.detail_type.clone(), node, status)
        })
        .collect()
}

fn last_seq(store: &dyn Store) -> i64 {
    everything(store).last().map_or(0, |e| e.seq)
}

pub fn each_run_command_status_change_writes_one_event_with_it(store: &dyn Store) {
    const CMD: &str = envelope::COMMAND_STATUS_CHANGE;
    const INV: &str = envelope::INVOCATION_STATUS_CHANGE;
    let e =
        |t: &str, node: &str, status: &str| (t.to_string(), node.to_string(), status.to_string());
    store.set_event_account("123456789012");
    let mut c = command("c1", 1_468_187_490_049);
    c.request_json = r#"{"Parameters":{"commands":["date"]}}"#.into();
    c.target_count = 2;
    store
        .create_command(
            &c,
            &[invocation("c1", "mi-a", 1), invocation("c1", "mi-b", 2)],
            &[],
        )
        .unwrap();
    assert_eq!(
        run_command_events(store, 0),
        [
            e(CMD, "", "Pending"),
            e(INV, "mi-a", "Pending"),
            e(INV, "mi-b", "Pending")
        ]
    );
    let first = everything(store);
    let command_event = envelope_of(&first[0]);
    assert_eq!(command_event["account"], "123456789012");
    assert_eq!(command_event["source"], "aws.ssm");
    assert_eq!(command_event["region"], REGION);
    assert_eq!(
        command_event["resources"],
        json!([
            "arn:aws:ssm:us-east-1:123456789012:managed-instance/mi-a",
            "arn:aws:ssm:us-east-1:123456789012:managed-instance/mi-b"
        ])
    );
    assert_eq!(
        command_event["detail"],
        json!({
            "command-id": "c1",
            "document-name": "AWS-RunShellScript",
            "expire-after": "2016-07-10T22:51:30.049Z",
            "parameters": {"commands": ["date"]},
            "requested-date-time": "2016-07-10T21:51:30.049Z",
            "status": "Pending"
        })
    );
    assert_eq!(command_event["id"], first[0].event_id);

    // A delivery mark that changes the status emits; one that only re-sends does not.
    let mut seen = last_seq(store);
    let mark = DeliveryMark {
        command_id: "c1".into(),
        instance_id: "mi-a".into(),
        from_status: "Pending".into(),
        from_dispatched_ms: None,
        status: "InProgress".into(),
        status_details: "InProgress".into(),
        dispatched_ms: 5,
    };
    let resend = DeliveryMark {
        from_status: "InProgress".into(),
        from_dispatched_ms: Some(5),
        dispatched_ms: 6,
        ..mark.clone()
    };
    let lost = DeliveryMark {
        instance_id: "mi-b".into(),
        from_status: "Delayed".into(),
        ..mark.clone()
    };
    assert_eq!(
        store.mark_deliveries(&[mark, resend, lost]).unwrap(),
        [true, true, false]
    );
    assert_eq!(
        run_command_events(store, seen),
        [e(INV, "mi-a", "InProgress")]
    );

    // Results: a change emits, the same status again or a write refused by a terminal status
    // does not.
    seen = last_seq(store);
    let mut a = store.invocation("c1", "mi-a").unwrap().unwrap();
    a.acked = true;
    store.update_invocation(&a).unwrap();
    a.status = "Success".into();
    store.update_invocation(&a).unwrap();
    a.status = "Failed".into();
    store.update_invocation(&a).unwrap();
    let mut b = store.invocation("c1", "mi-b").unwrap().unwrap();
    b.status = "Delayed".into();
    let mut b_failed = b.clone();
    b_failed.status = "Failed".into();
    store
        .update_invocations(&[b.clone(), b.clone(), b_failed])
        .unwrap();
    assert_eq!(
        run_command_events(store, seen),
        [
            e(INV, "mi-a", "Success"),
            e(INV, "mi-b", "Delayed"),
            e(INV, "mi-b", "Failed")
        ]
    );

    // The command's aggregate status.
    seen = last_seq(store);
    let mut stored = store.get_command(REGION, "c1").unwrap().unwrap();
    stored.completed_count = 1;
    store.update_command_status(&stored, true).unwrap();
    stored.status = "InProgress".into();
    store.update_command_status(&stored, true).unwrap();
    stored.status = "Failed".into();
    store.update_command_status(&stored, false).unwrap();
    store.update_command_status(&stored, false).unwrap();
    assert_eq!(
        run_command_events(store, seen),
        [e(CMD, "", "InProgress"), e(CMD, "", "Failed")]
    );
}

/// Writers append while a reader follows with a cursor: the reader sees every event once, in
/// `seq` order, never skipping one that committed after a higher `seq` it already read.
pub fn a_cursor_reader_never_skips_an_event_that_commits_late(store: &dyn Store) {
    const PER_THREAD: usize = 40;
    let done = AtomicBool::new(false);
    let mut read: Vec<OutboxEvent> = Vec::new();
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut read = Vec::new();
            let mut cursor = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let batch = store.events_after(cursor, 7).unwrap();
                if let Some(last) = batch.last() {
                    cursor = last.seq;
                }
                let empty = batch.is_empty();
                read.extend(batch);
                if finished && empty {
                    return read;
                }
            }
        });
        race(|t| {
            for k in 0..PER_THREAD {
                let n = t * PER_THREAD + k;
                // One or two events per transaction.
                let events: Vec<Event> = if k % 3 == 0 {
                    vec![event(n), event(n + 100_000)]
                } else {
                    vec![event(n)]
                };
                store.append_events(&events, 1).unwrap();
            }
        });
        done.store(true, Ordering::SeqCst);
        read = reader.join().unwrap();
    });
    let all = everything(store);
    let expected = THREADS * (PER_THREAD + PER_THREAD.div_ceil(3));
    assert_eq!(all.len(), expected);
    assert!(read.windows(2).all(|w| w[0].seq < w[1].seq), "in seq order");
    let read_ids: BTreeSet<&str> = read.iter().map(|e| e.event_id.as_str()).collect();
    let all_ids: BTreeSet<&str> = all.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(read.len(), expected, "each event read once");
    assert_eq!(read_ids, all_ids, "no event skipped");
}

pub fn parameter_changes_write_their_event_with_the_change(store: &dyn Store) {
    store.set_event_account("123456789012");
    let details = |after: i64| -> Vec<Value> {
        store
            .events_after(after, 100)
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e.detail_type, envelope::PARAMETER_STORE_CHANGE);
                envelope_of(e)["detail"].clone()
            })
            .collect()
    };
    let mut first = parameter("/app/db", 1);
    first.param_type = "SecureString".into();
    first.value = "sealed".into();
    first.description = Some("the database".into());
    let put = |v: &crate::ParameterVersion, latest| {
        store.put_parameter(v, latest, true, &[], &LIMITS).unwrap()
    };
    assert_eq!(put(&first, None), PutOutcome::Stored);
    let all = everything(store);
    let created = envelope_of(&all[0]);
    assert_eq!(
        created["resources"],
        json!(["arn:aws:ssm:us-east-1:123456789012:parameter/app/db"])
    );
    assert_eq!(created["account"], "123456789012");
    assert_eq!(
        created["detail"],
        json!({"operation": "Create", "name": "/app/db", "type": "SecureString", "description": "the database"})
    );
    assert!(!all[0].envelope.contains("sealed"), "never the value");

    let seen = last_seq(store);
    let mut second = first.clone();
    second.version = 2;
    second.description = None;
    assert_eq!(put(&second, Some(1)), PutOutcome::Stored);
    assert_eq!(
        put(&second, Some(1)),
        PutOutcome::Conflict,
        "refused: no event"
    );
    assert_eq!(
        store
            .put_parameter(&second, Some(2), false, &[], &LIMITS)
            .unwrap(),
        PutOutcome::AlreadyExists
    );
    assert_eq!(
        store
            .label_parameter_version(REGION, "/app/db", 1, &["prod".into()], 10)
            .unwrap(),
        LabelOutcome::Done
    );
    assert_eq!(
        store
            .label_parameter_version(REGION, "/app/db", 9, &["prod".into()], 10)
            .unwrap(),
        LabelOutcome::VersionNotFound
    );
    assert!(store.delete_parameter(REGION, "/app/db").unwrap());
    assert!(!store.delete_parameter(REGION, "/app/db").unwrap());
    assert_eq!(
        details(seen),
        [
            json!({"operation": "Update", "name": "/app/db", "type": "SecureString"}),
            json!({"operation": "LabelParameterVersion", "name": "/app/db", "type": "SecureString", "description": "the database"}),
            json!({"operation": "Delete", "name": "/app/db", "type": "SecureString"}),
        ]
    );
}

/// `PutEvents`: the events, the call's answer and its audit record commit together; a second
/// answer for the same call appends nothing.
pub fn events_appended_with_a_calls_records_commit_together(store: &dyn Store) {
    use super::fixtures::{answer, audit_record};
    use crate::{CallRecords, StoreError};
    let (first, second) = (answer("put", 0, b"first"), answer("put", 0, b"second"));
    let (audit1, audit2) = (
        audit_record(1, "events:PutEvents"),
        audit_record(2, "events:PutEvents"),
    );
    let records = |a, r| CallRecords {
        audit: Some(r),
        answer: Some(a),
    };
    store
        .append_events_recorded(&[event(1), event(2)], 10, records(&first, &audit1))
        .unwrap();
    match store.append_events_recorded(&[event(3)], 20, records(&second, &audit2)) {
        Err(StoreError::AlreadyExists(what)) => assert!(what.contains("put"), "{what}"),
        other => panic!("a second answer must be refused, got {other:?}"),
    }
    assert_eq!(ids(&everything(store)), ["e1", "e2"]);
    assert_eq!(store.audit_records().unwrap(), [(1, audit1)]);
    // Without records it is a plain append.
    store
        .append_events_recorded(&[event(4)], 30, CallRecords::default())
        .unwrap();
    assert_eq!(ids(&everything(store)), ["e1", "e2", "e4"]);
}

fn of_type<'a>(events: &'a [OutboxEvent], detail_type: &str) -> Vec<&'a OutboxEvent> {
    events
        .iter()
        .filter(|e| e.detail_type == detail_type)
        .collect()
}

/// State Manager: creating, updating and deleting an association writes `EC2 State Manager
/// Association State Change` with the change; an execution's end writes one `EC2 State Manager
/// Instance Association State Change` per node whose status changes (none for an unchanged
/// status or an older row) and the association's event when its overall status changes;
/// `UpdateAssociationStatus` writes the instance event when it changes the node's status.
pub fn association_changes_write_their_events_with_the_change(store: &dyn Store) {
    use super::associations::{association, definition, id};
    use crate::{AssociationExecutionRecord, NodeAssociationStatus};
    use bosun_core::events::envelope_associations::{
        ASSOCIATION_STATE_CHANGE as ASSOC, INSTANCE_ASSOCIATION_STATE_CHANGE as NODE,
    };
    store.set_event_account("123456789012");
    store
        .create_association(&association(&id(1), "Deploy", 10), &[], 10)
        .unwrap();
    let created = everything(store);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].detail_type, ASSOC);
    let e = envelope_of(&created[0]);
    assert_eq!(e["source"], "aws.ssm");
    assert_eq!(e["account"], "123456789012");
    assert_eq!(e["region"], REGION);
    assert_eq!(
        e["resources"],
        json!([format!("arn:aws:ssm:{REGION}:123456789012:document/Deploy")])
    );
    let d = &e["detail"];
    assert_eq!(d["association-id"], id(1));
    assert_eq!(d["association-version"], "1");
    assert_eq!(d["status"], "Pending");
    assert_eq!(d["targets"], r#"[{"key":"tag:env","values":["prod"]}]"#);
    assert_eq!(d["schedule-expression"], "rate(30 minutes)");

    let mut changed = definition("Deploy");
    changed.schedule_expression = "rate(1 hour)".into();
    store
        .update_association(REGION, &id(1), Some(1), &changed, 20, 10)
        .unwrap();
    let all = everything(store);
    assert_eq!(all.len(), 2);
    let d = envelope_of(&all[1])["detail"].clone();
    assert_eq!(d["association-version"], "2");
    assert_eq!(d["schedule-expression"], "rate(1 hour)");
    // A refused update writes nothing.
    store
        .update_association(REGION, &id(1), Some(1), &changed, 30, 10)
        .unwrap();
    assert_eq!(everything(store).len(), 2);

    // An execution's end: the node's first status, then the same status (no event), then an
    // older row (dropped: no event), then a new status.
    let execution = AssociationExecutionRecord {
        region: REGION.into(),
        association_id: id(1),
        execution_id: "e1".into(),
        association_version: 2,
        slot_ms: 1000,
        command_id: String::new(),
        status: "Success".into(),
        detailed_status: "Success".into(),
        created_ms: 1000,
        last_update_ms: 1000,
        resource_counts_json: "{}".into(),
    };
    let node = |at_ms: i64, status: &str| NodeAssociationStatus {
        region: REGION.into(),
        association_id: id(1),
        instance_id: "i-0123456789abcdef0".into(),
        association_version: 2,
        document_version: "1".into(),
        execution_id: format!("e{at_ms}"),
        execution_ms: at_ms,
        status: status.into(),
        detailed_status: status.into(),
        error_code: String::new(),
        execution_summary: "1 out of 1 plugin processed".into(),
        additional_info: String::new(),
    };
    let mut state = store
        .get_association(REGION, &id(1))
        .unwrap()
        .unwrap()
        .state;
    state.overview_status = "Success".into();
    state.overview_counts_json = r#"{"Success":1}"#.into();
    state.last_execution_ms = Some(1000);
    state.last_successful_execution_ms = Some(1000);
    store
        .end_association_execution(&execution, Some(&state), &[node(1000, "Success")], &[])
        .unwrap();
    let all = everything(store);
    let nodes = of_type(&all, NODE);
    assert_eq!(nodes.len(), 1);
    let e = envelope_of(nodes[0]);
    assert_eq!(e["detail"]["instance-id"], "i-0123456789abcdef0");
    assert_eq!(e["detail"]["status"], "Success");
    assert_eq!(
        e["resources"][0],
        format!("arn:aws:ec2:{REGION}:123456789012:instance/i-0123456789abcdef0")
    );
    let assoc = of_type(&all, ASSOC);
    assert_eq!(assoc.len(), 3, "the overall status changed");
    let d = envelope_of(assoc[2])["detail"].clone();
    assert_eq!(d["status"], "Success");
    assert_eq!(d["association-status-aggregated-count"], r#"{"Success":1}"#);

    store
        .end_association_execution(&execution, Some(&state), &[node(2000, "Success")], &[])
        .unwrap();
    store
        .end_association_execution(&execution, None, &[node(500, "Failed")], &[])
        .unwrap();
    assert_eq!(everything(store).len(), 4, "no change: no event");
    store
        .end_association_execution(&execution, None, &[node(3000, "Failed")], &[])
        .unwrap();
    let all = everything(store);
    assert_eq!(of_type(&all, NODE).len(), 2);
    assert_eq!(
        envelope_of(all.last().unwrap())["detail"]["status"],
        "Failed"
    );

    // `UpdateAssociationStatus`'s node row: an event when the node's status changes.
    let status_now = |store: &dyn Store| {
        let s = store
            .get_association(REGION, &id(1))
            .unwrap()
            .unwrap()
            .state;
        crate::StatusValue {
            name: s.status_name,
            message: s.status_message,
            date_ms: s.status_date_ms,
        }
    };
    for (at_ms, status) in [(4000, "Success"), (5000, "Success")] {
        let new = crate::StatusValue {
            name: "Success".into(),
            message: format!("at {at_ms}"),
            date_ms: at_ms,
        };
        let change = store
            .set_association_status(
                REGION,
                &id(1),
                &status_now(store),
                &new,
                &node(at_ms, status),
            )
            .unwrap();
        assert_eq!(change, crate::StatusChange::Written);
    }
    let all = everything(store);
    assert_eq!(of_type(&all, NODE).len(), 3, "one event: Failed to Success");
    assert_eq!(
        envelope_of(all.last().unwrap())["detail"]["status"],
        "Success"
    );

    assert!(store.delete_association(REGION, &id(1)).unwrap());
    let all = everything(store);
    let last = envelope_of(all.last().unwrap());
    assert_eq!(last["detail-type"], ASSOC);
    assert_eq!(last["detail"]["association-id"], id(1));
    assert!(!store.delete_association(REGION, &id(1)).unwrap());
    assert_eq!(
        everything(store).len(),
        all.len(),
        "nothing deleted: no event"
    );
}
