//! Commands, invocations and plugin results.

use super::fixtures::{audit_record, command, invocation, plugin, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{
    AuditRecord, AuditVerification, CallRecords, EndedInvocations, InvocationDigest,
    InvocationRecord, PluginRecord,
};

/// Command `id` on nodes `a` and `b`, two steps each.
fn create(store: &dyn Store, id: &str, requested_ms: i64) {
    let mut c = command(id, requested_ms);
    c.target_count = 2;
    let invocations = [invocation(id, "mi-a", 1), invocation(id, "mi-b", 2)];
    let plugins: Vec<PluginRecord> = ["mi-a", "mi-b"]
        .iter()
        .flat_map(|node| [plugin(id, node, 1), plugin(id, node, 2)])
        .collect();
    store.create_command(&c, &invocations, &plugins).unwrap();
}

pub fn commands_invocations_and_plugins_round_trip(store: &dyn Store) {
    create(store, "c1", 10);
    create(store, "c2", 20);
    let mut elsewhere = command("c3", 30);
    elsewhere.region = OTHER_REGION.into();
    store.create_command(&elsewhere, &[], &[]).unwrap();

    let mut c1 = command("c1", 10);
    c1.target_count = 2;
    assert_eq!(store.get_command(REGION, "c1").unwrap(), Some(c1));
    assert_eq!(store.get_command(OTHER_REGION, "c1").unwrap(), None);
    let ids = |list: Vec<crate::CommandRecord>| {
        list.into_iter().map(|c| c.command_id).collect::<Vec<_>>()
    };
    assert_eq!(ids(store.list_commands(REGION).unwrap()), ["c2", "c1"]);
    assert_eq!(ids(store.list_commands(OTHER_REGION).unwrap()), ["c3"]);
    assert_eq!(
        ids(store.active_commands().unwrap()),
        ["c1", "c2"],
        "a command without invocations has nothing to do"
    );
    assert_eq!(
        store.invocations("c1").unwrap(),
        [invocation("c1", "mi-a", 1), invocation("c1", "mi-b", 2)]
    );
    assert_eq!(
        store.invocation("c1", "mi-b").unwrap(),
        Some(invocation("c1", "mi-b", 2))
    );
    assert_eq!(store.invocation("c1", "mi-z").unwrap(), None);
    let of_a = store.invocations_of_instance("mi-a").unwrap();
    assert_eq!(
        of_a.iter()
            .map(|i| i.command_id.as_str())
            .collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    assert_eq!(
        store.plugins("c1", "mi-b").unwrap(),
        [plugin("c1", "mi-b", 1), plugin("c1", "mi-b", 2)]
    );
    assert!(store.plugins("c1", "mi-z").unwrap().is_empty());
    assert!(
        store.create_command(&command("c1", 40), &[], &[]).is_err(),
        "command ids are unique"
    );
}

pub fn invocations_and_plugins_are_read_by_pairs_in_one_call(store: &dyn Store) {
    create(store, "c1", 10);
    create(store, "c2", 20);
    let pair = |c: &str, n: &str| (c.to_string(), n.to_string());
    let pairs = [
        pair("c2", "mi-a"),
        pair("c1", "mi-b"),
        pair("c1", "mi-z"),
        pair("c9", "mi-a"),
        pair("c1", "mi-b"),
    ];
    let mut found = store.invocations_of_pairs(&pairs).unwrap();
    found.sort_by(|a, b| (&a.command_id, &a.instance_id).cmp(&(&b.command_id, &b.instance_id)));
    assert_eq!(
        found,
        [invocation("c1", "mi-b", 2), invocation("c2", "mi-a", 1)],
        "the pairs that exist, each once"
    );
    let plugins = store.plugins_of_pairs(&pairs).unwrap();
    let mut expected: Vec<PluginRecord> = [("c1", "mi-b"), ("c2", "mi-a")]
        .iter()
        .flat_map(|(c, n)| [plugin(c, n, 1), plugin(c, n, 2)])
        .collect();
    let mut got = plugins.clone();
    got.sort_by(|a, b| {
        (&a.command_id, &a.instance_id, a.seq).cmp(&(&b.command_id, &b.instance_id, b.seq))
    });
    expected.sort_by(|a, b| {
        (&a.command_id, &a.instance_id, a.seq).cmp(&(&b.command_id, &b.instance_id, b.seq))
    });
    assert_eq!(got, expected);
    for w in plugins.windows(2) {
        if (&w[0].command_id, &w[0].instance_id) == (&w[1].command_id, &w[1].instance_id) {
            assert!(w[0].seq < w[1].seq, "a pair's steps come in step order");
        }
    }
    assert!(store.invocations_of_pairs(&[]).unwrap().is_empty());
    assert!(store.plugins_of_pairs(&[]).unwrap().is_empty());
}

pub fn command_status_retires_and_cancel_reactivates(store: &dyn Store) {
    create(store, "c1", 10);
    let mut c = store.get_command(REGION, "c1").unwrap().unwrap();
    c.status = "Success".into();
    c.status_details = "Success".into();
    c.completed_count = 2;
    c.error_count = 1;
    c.delivery_timed_out_count = 1;
    store.update_command_status(&c, false).unwrap();
    assert_eq!(store.get_command(REGION, "c1").unwrap(), Some(c.clone()));
    assert!(store.active_commands().unwrap().is_empty());
    assert!(store.open_commands_of_instance("mi-a").unwrap().is_empty());

    store.request_cancel("c1").unwrap();
    let cancelled = store.get_command(REGION, "c1").unwrap().unwrap();
    assert!(cancelled.cancel_requested);
    assert_eq!(cancelled.status, "Success", "only the orchestrator sets it");
    assert_eq!(store.active_commands().unwrap(), [cancelled]);
    assert_eq!(store.open_commands_of_instance("mi-a").unwrap(), ["c1"]);
    assert!(store.open_commands_of_instance("mi-z").unwrap().is_empty());
}

/// The orchestrator writes a status from what it read; a cancel requested after that read is
/// neither cleared nor retired by the write.
pub fn a_cancel_requested_after_the_read_survives_the_status_write(store: &dyn Store) {
    create(store, "c1", 10);
    let mut read = store.get_command(REGION, "c1").unwrap().unwrap();
    assert!(!read.cancel_requested);
    store.request_cancel("c1").unwrap();
    read.status = "Success".into();
    read.status_details = "Success".into();
    store.update_command_status(&read, false).unwrap();
    let stored = store.get_command(REGION, "c1").unwrap().unwrap();
    assert!(stored.cancel_requested, "the cancel is kept");
    assert_eq!(stored.status, "Success");
    assert_eq!(
        store.active_commands().unwrap(),
        std::slice::from_ref(&stored),
        "still active, so the orchestrator acts on the cancel"
    );
    // Once the writer has seen the cancel, its write may retire the command.
    store.update_command_status(&stored, false).unwrap();
    assert!(store.active_commands().unwrap().is_empty());
}

pub fn results_never_overwrite_a_terminal_status(store: &dyn Store) {
    create(store, "c1", 10);
    store.update_invocations(&[]).unwrap();
    let mut a = invocation("c1", "mi-a", 1);
    a.status = "InProgress".into();
    a.status_details = "InProgress".into();
    a.dispatched_ms = Some(11);
    a.acked = true;
    a.start_ms = Some(12);
    store.update_invocation(&a).unwrap();
    assert_eq!(store.invocation("c1", "mi-a").unwrap(), Some(a.clone()));

    let mut done = a.clone();
    done.status = "Success".into();
    done.status_details = "Success".into();
    done.response_code = 0;
    done.end_ms = Some(13);
    let mut step = plugin("c1", "mi-a", 1);
    step.status = "Success".into();
    step.response_code = 0;
    step.stdout = "hello".into();
    step.stdout_bytes = 5;
    let mut b = invocation("c1", "mi-b", 2);
    b.status = "Failed".into();
    b.status_details = "Failed".into();
    store
        .write_results(&[(done.clone(), vec![step.clone()]), (b.clone(), vec![])])
        .unwrap();
    assert_eq!(store.invocations("c1").unwrap(), [done.clone(), b.clone()]);
    assert_eq!(
        store.plugins("c1", "mi-a").unwrap(),
        [step.clone(), plugin("c1", "mi-a", 2)]
    );

    // Terminal: later writes, with or without plugins, change nothing.
    let mut late = done.clone();
    late.status = "TimedOut".into();
    let mut late_step = step.clone();
    late_step.stdout = "overwritten".into();
    store
        .update_invocation_with_plugins(&late, &[late_step])
        .unwrap();
    let mut late_b = b.clone();
    late_b.status = "Cancelled".into();
    store.update_invocations(&[late_b]).unwrap();
    assert_eq!(store.invocations("c1").unwrap(), [done, b]);
    assert_eq!(store.plugins("c1", "mi-a").unwrap()[0], step);
}

/// One batch naming invocations several times (an acknowledgement and the result after it,
/// interleaved across nodes) does what writing its rows one by one would: each row applies
/// while the stored status is live, its plugins only then, the last applied row counts.
pub fn a_batch_naming_an_invocation_twice_applies_its_rows_in_order(store: &dyn Store) {
    create(store, "c1", 10);
    let with = |node: &str, seq: i64, status: &str, acked: bool| {
        let mut i = invocation("c1", node, seq);
        i.status = status.into();
        i.status_details = status.into();
        i.dispatched_ms = Some(5);
        i.acked = acked;
        i
    };
    let step = |node: &str, seq: i64, status: &str, out: &str| {
        let mut p = plugin("c1", node, seq);
        p.status = status.into();
        p.stdout = out.into();
        p
    };
    let a_ack = with("mi-a", 1, "InProgress", true);
    let mut a_done = with("mi-a", 1, "Success", true);
    a_done.response_code = 0;
    a_done.end_ms = Some(9);
    let b_ack = with("mi-b", 2, "InProgress", true);
    let b_failed = with("mi-b", 2, "Failed", true);
    // Past a terminal status: neither it nor its plugin is written.
    let b_late = with("mi-b", 2, "TimedOut", true);
    store
        .write_results(&[
            (a_ack.clone(), vec![]),
            (b_ack, vec![]),
            (a_done.clone(), vec![step("mi-a", 1, "Success", "first")]),
            (b_failed.clone(), vec![step("mi-b", 2, "Failed", "failed")]),
            (a_done.clone(), vec![step("mi-a", 1, "Success", "again")]),
            (b_late, vec![step("mi-b", 2, "TimedOut", "late")]),
        ])
        .unwrap();
    assert_eq!(
        store.invocations("c1").unwrap(),
        [a_done, b_failed],
        "the last row applied to each, none past a terminal status"
    );
    assert_eq!(
        store.plugins("c1", "mi-a").unwrap(),
        [step("mi-a", 1, "Success", "first"), plugin("c1", "mi-a", 2)],
        "a row after the terminal one is not applied, so its plugins are not written"
    );
    assert_eq!(
        store.plugins("c1", "mi-b").unwrap(),
        [plugin("c1", "mi-b", 1), step("mi-b", 2, "Failed", "failed")]
    );
}

/// A pass's read: the live invocations whole in dispatch order, the ended ones counted by
/// (status, details).
pub fn live_invocations_come_whole_and_ended_ones_counted(store: &dyn Store) {
    let mut c = command("c1", 10);
    c.target_count = 5;
    let nodes = ["mi-e", "mi-d", "mi-c", "mi-b", "mi-a"];
    let invocations: Vec<InvocationRecord> = nodes
        .iter()
        .zip(1..)
        .map(|(node, seq)| invocation("c1", node, seq))
        .collect();
    store.create_command(&c, &invocations, &[]).unwrap();
    create(store, "c2", 20);
    assert_eq!(
        store.live_invocations("c1").unwrap(),
        InvocationDigest {
            live: invocations.clone(),
            ended: vec![]
        }
    );
    let with = |n: usize, status: &str, details: &str| {
        let mut i = invocations[n].clone();
        i.status = status.into();
        i.status_details = details.into();
        i
    };
    store
        .update_invocations(&[
            with(0, "Failed", "Failed"),
            with(1, "InProgress", "InProgress"),
            with(2, "TimedOut", "DeliveryTimedOut"),
            with(4, "Failed", "Failed"),
        ])
        .unwrap();
    let ended = |status: &str, details: &str, count: i64| EndedInvocations {
        status: status.into(),
        status_details: details.into(),
        count,
    };
    assert_eq!(
        store.live_invocations("c1").unwrap(),
        InvocationDigest {
            live: vec![with(1, "InProgress", "InProgress"), invocations[3].clone()],
            ended: vec![
                ended("Failed", "Failed", 2),
                ended("TimedOut", "DeliveryTimedOut", 1)
            ],
        }
    );
    assert_eq!(store.live_invocations("c2").unwrap().live.len(), 2);
    assert_eq!(
        store.live_invocations("c9").unwrap(),
        InvocationDigest::default()
    );
}

pub fn every_live_status_can_still_change(store: &dyn Store) {
    create(store, "c1", 10);
    for live in ["Delayed", "Cancelling", "InProgress", "Pending"] {
        let mut i: InvocationRecord = invocation("c1", "mi-a", 1);
        i.status = live.into();
        store.update_invocation(&i).unwrap();
        assert_eq!(
            store.invocation("c1", "mi-a").unwrap().unwrap().status,
            live
        );
    }
}

fn audited(r: &AuditRecord) -> CallRecords<'_> {
    CallRecords {
        audit: Some(r),
        answer: None,
    }
}

pub fn a_command_and_its_audit_record_commit_together_and_keep_the_chain(store: &dyn Store) {
    store
        .append_audit(&audit_record(1, "ssm:CreateActivation"))
        .unwrap();
    store
        .create_command_audited(
            &command("c1", 0),
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
            &command("c1", 0),
            &[],
            &[],
            audited(&audit_record(4, "ssm:SendCommand"))
        )
        .is_err());
    store
        .create_command_audited(
            &command("c2", 0),
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
    assert!(store.get_command(REGION, "c2").unwrap().is_some());
}

/// A command's `NotificationConfig` (with its `ServiceRoleArn`) is stored with it and read back
/// by every reader; a command without one reads back `None`.
pub fn a_commands_notification_settings_are_stored_with_it(store: &dyn Store) {
    let mut c = command("n1", 10);
    c.notification = Some(bosun_core::command::notification::CommandNotification {
        notification_arn: format!("arn:aws:sns:{REGION}:123456789012:ops"),
        notification_events: vec!["Success".into(), "Failed".into()],
        notification_type: "Invocation".into(),
        service_role_arn: "arn:aws:iam::123456789012:role/sns".into(),
    });
    store
        .create_command(&c, &[invocation("n1", "mi-a", 1)], &[])
        .unwrap();
    store.create_command(&command("n2", 20), &[], &[]).unwrap();
    assert_eq!(store.get_command(REGION, "n1").unwrap(), Some(c.clone()));
    assert_eq!(
        store
            .get_command(REGION, "n2")
            .unwrap()
            .unwrap()
            .notification,
        None
    );
    let listed = store.list_commands(REGION).unwrap();
    assert_eq!(listed.iter().find(|x| x.command_id == "n1"), Some(&c));
    let active = store.active_commands().unwrap();
    assert_eq!(active.iter().find(|x| x.command_id == "n1"), Some(&c));
}
