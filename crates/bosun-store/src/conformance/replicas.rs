//! Replicas, agent sessions and command ownership (coordination between server processes).

use super::concurrency::race;
use super::fixtures::{command, invocation};
use crate::prelude::*;
use crate::{CommandLease, DeliveryMark, ReplicaRecord};

fn replica(id: &str, heartbeat_ms: i64, fingerprint: &str) -> ReplicaRecord {
    ReplicaRecord {
        replica_id: id.into(),
        started_ms: 1,
        heartbeat_ms,
        keyring_fingerprint: fingerprint.into(),
        url: format!("http://{id}.example:8080"),
    }
}

fn ids<T>(list: Vec<T>, id: fn(&T) -> &str) -> Vec<String> {
    list.iter().map(|x| id(x).to_string()).collect()
}

/// Command `id` on nodes `mi-a` and `mi-b`.
fn create(store: &dyn Store, id: &str, requested_ms: i64) {
    let invocations = [invocation(id, "mi-a", 1), invocation(id, "mi-b", 2)];
    store
        .create_command(&command(id, requested_ms), &invocations, &[])
        .unwrap();
}

pub fn replicas_are_live_while_their_heartbeat_is_fresh(store: &dyn Store) {
    store.heartbeat_replica(&replica("r1", 100, "k1")).unwrap();
    store.heartbeat_replica(&replica("r2", 50, "k1")).unwrap();
    let live = |since| ids(store.live_replicas(since).unwrap(), |r| &r.replica_id);
    assert_eq!(live(60), ["r1"]);
    assert_eq!(live(50), ["r1", "r2"]);
    // A heartbeat refreshes the time, the fingerprint and the URL, not the start.
    let mut again = replica("r2", 200, "k2");
    again.started_ms = 99;
    again.url = "https://r2.example:8443".into();
    store.heartbeat_replica(&again).unwrap();
    let r2 = store.live_replicas(150).unwrap();
    let mut expected = replica("r2", 200, "k2");
    expected.url = again.url.clone();
    assert_eq!(r2, [expected]);
    store.open_agent_session("mi-a", "r1", 100).unwrap();
    store.forget_replicas_before(150).unwrap();
    assert_eq!(live(0), ["r2"]);
    assert!(store.agent_sessions_of_replica("r1").unwrap().is_empty());
}

pub fn a_newer_agent_session_replaces_the_old_one_on_any_replica(store: &dyn Store) {
    store.heartbeat_replica(&replica("r1", 100, "k")).unwrap();
    store.heartbeat_replica(&replica("r2", 100, "k")).unwrap();
    let first = store.open_agent_session("mi-a", "r1", 10).unwrap();
    let second = store.open_agent_session("mi-a", "r2", 20).unwrap();
    assert!(second > first);
    store.open_agent_session("mi-b", "r1", 30).unwrap();
    // The old connection's end does not remove the newer session.
    assert!(!store.close_agent_session("mi-a", "r1", first).unwrap());
    let live = store.live_agent_sessions(100).unwrap();
    assert_eq!(
        live.iter()
            .map(|s| (
                s.instance_id.as_str(),
                s.replica_id.as_str(),
                s.connected_ms
            ))
            .collect::<Vec<_>>(),
        [("mi-a", "r2", 20), ("mi-b", "r1", 30)]
    );
    assert_eq!(
        ids(store.agent_sessions_of_replica("r1").unwrap(), |s| &s
            .instance_id),
        ["mi-b"]
    );
    // Sessions on a replica that stopped beating are not live.
    assert_eq!(
        ids(store.live_agent_sessions(101).unwrap(), |s| &s.instance_id),
        Vec::<String>::new()
    );
    assert!(store.close_agent_session("mi-a", "r2", second).unwrap());
    assert_eq!(
        ids(store.live_agent_sessions(100).unwrap(), |s| &s.instance_id),
        ["mi-b"]
    );
    // A later connection still gets a greater epoch.
    assert!(store.open_agent_session("mi-a", "r1", 40).unwrap() > second);
}

pub fn command_owners_claim_renew_and_lose_commands_by_epoch(store: &dyn Store) {
    create(store, "c1", 10);
    create(store, "c2", 20);
    let mine = store.claim_commands("r1", 1_000, 2_000, 1).unwrap();
    assert_eq!(
        mine,
        [CommandLease {
            command_id: "c1".into(),
            replica_id: "r1".into(),
            epoch: 1
        }],
        "the limit bounds new claims, oldest first"
    );
    let theirs = store.claim_commands("r2", 1_000, 2_000, 10).unwrap();
    assert_eq!(ids(theirs, |l| &l.command_id), ["c2"]);
    // Renewal keeps the epoch; a live lease is not taken.
    let mine = store.claim_commands("r1", 1_500, 3_000, 10).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].epoch, 1);
    assert!(store
        .claim_commands("r3", 1_900, 4_000, 10)
        .unwrap()
        .is_empty());
    // r2 stopped renewing: its lease ends at 2_000 and r3 takes c2 with a new epoch.
    let taken = store.claim_commands("r3", 2_001, 5_000, 10).unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!((taken[0].command_id.as_str(), taken[0].epoch), ("c2", 2));
    let stale = CommandLease {
        command_id: "c2".into(),
        replica_id: "r2".into(),
        epoch: 1,
    };
    let mut started = invocation("c2", "mi-a", 1);
    started.status = "InProgress".into();
    started.status_details = "InProgress".into();
    started.dispatched_ms = Some(0);
    let rows = [(started.clone(), Vec::new())];
    assert!(!store.write_owned_results(&stale, &rows).unwrap());
    assert_eq!(
        store.invocation("c2", "mi-a").unwrap(),
        Some(invocation("c2", "mi-a", 1))
    );
    let mut c2 = command("c2", 20);
    c2.status = "InProgress".into();
    assert!(!store
        .update_owned_command_status(&stale, &c2, true)
        .unwrap());
    assert_eq!(
        store.get_command(&c2.region, "c2").unwrap().unwrap().status,
        "Pending"
    );
    // The new owner writes.
    assert!(store.write_owned_results(&taken[0], &rows).unwrap());
    assert_eq!(store.invocation("c2", "mi-a").unwrap(), Some(started));
    c2.status = "Success".into();
    assert!(store
        .update_owned_command_status(&taken[0], &c2, false)
        .unwrap());
    // A retired command is no longer owned or claimable.
    assert!(store
        .claim_commands("r3", 2_002, 5_000, 10)
        .unwrap()
        .is_empty());
    assert!(store
        .claim_commands("r4", 9_000, 10_000, 10)
        .unwrap()
        .iter()
        .all(|l| l.command_id != "c2"));
}

pub fn a_replica_that_leaves_hands_its_commands_over_at_once(store: &dyn Store) {
    create(store, "c1", 10);
    create(store, "c2", 20);
    store.heartbeat_replica(&replica("r1", 1_000, "k")).unwrap();
    store.heartbeat_replica(&replica("r2", 1_000, "k")).unwrap();
    let epoch = store.open_agent_session("mi-a", "r1", 1_000).unwrap();
    let mine = store.claim_commands("r1", 1_000, 60_000, 1).unwrap();
    assert_eq!(ids(mine.clone(), |l| &l.command_id), ["c1"]);
    let theirs = store.claim_commands("r2", 1_000, 60_000, 10).unwrap();
    assert_eq!(ids(theirs, |l| &l.command_id), ["c2"]);
    store.leave_replica("r1").unwrap();
    // Long before r1's lease would have ended, r2 takes c1 with a new epoch; r2's own command
    // keeps its lease.
    let taken = store.claim_commands("r2", 1_001, 60_000, 10).unwrap();
    let taken: Vec<(String, i64)> = taken.into_iter().map(|l| (l.command_id, l.epoch)).collect();
    assert_eq!(taken, [("c1".to_string(), 2), ("c2".to_string(), 1)]);
    let mut started = invocation("c1", "mi-a", 1);
    started.status = "InProgress".into();
    started.status_details = "InProgress".into();
    started.dispatched_ms = Some(0);
    assert!(
        !store
            .write_owned_results(&mine[0], &[(started, Vec::new())])
            .unwrap(),
        "the leaver's late write is fenced"
    );
    assert_eq!(
        ids(store.live_replicas(0).unwrap(), |r| &r.replica_id),
        ["r2"]
    );
    assert!(store.live_agent_sessions(0).unwrap().is_empty());
    assert!(store.agent_sessions_of_replica("r1").unwrap().is_empty());
    // The node's next connection, wherever it lands, is a newer session.
    assert!(store.open_agent_session("mi-a", "r2", 2_000).unwrap() > epoch);
    // Leaving twice, or as a replica that never was, changes nothing.
    store.leave_replica("r1").unwrap();
    store.leave_replica("nobody").unwrap();
    assert_eq!(
        store.claim_commands("r2", 1_002, 60_000, 10).unwrap().len(),
        2
    );
}

pub fn concurrent_claims_give_each_command_one_owner(store: &dyn Store) {
    for n in 0..20 {
        create(store, &format!("c{n:02}"), n);
    }
    let claims = race(|i| {
        store
            .claim_commands(&format!("r{i}"), 1_000, 2_000, 5)
            .unwrap()
    });
    let mut owned: Vec<String> = claims
        .iter()
        .flatten()
        .inspect(|l| assert_eq!(l.epoch, 1, "{l:?}"))
        .map(|l| l.command_id.clone())
        .collect();
    owned.sort();
    let expected: Vec<String> = (0..20).map(|n| format!("c{n:02}")).collect();
    assert_eq!(
        owned, expected,
        "every command claimed by exactly one replica"
    );
}

pub fn delivery_marks_are_compare_and_set(store: &dyn Store) {
    create(store, "c1", 10);
    let mark = |from_dispatched_ms, dispatched_ms| DeliveryMark {
        command_id: "c1".into(),
        instance_id: "mi-a".into(),
        from_status: "Pending".into(),
        from_dispatched_ms,
        status: "InProgress".into(),
        status_details: "InProgress".into(),
        dispatched_ms,
    };
    let other = DeliveryMark {
        instance_id: "mi-b".into(),
        from_status: "Delayed".into(),
        ..mark(None, 5)
    };
    assert_eq!(
        store.mark_deliveries(&[mark(None, 5), other]).unwrap(),
        [true, false]
    );
    let a = store.invocation("c1", "mi-a").unwrap().unwrap();
    assert_eq!(
        (a.status.as_str(), a.dispatched_ms),
        ("InProgress", Some(5))
    );
    // A second sender that read the same row loses.
    assert_eq!(store.mark_deliveries(&[mark(None, 6)]).unwrap(), [false]);
    let resend = DeliveryMark {
        from_status: "InProgress".into(),
        ..mark(Some(5), 9)
    };
    let race_result = race(|_| {
        store
            .mark_deliveries(std::slice::from_ref(&resend))
            .unwrap()[0]
    });
    assert_eq!(
        race_result.iter().filter(|w| **w).count(),
        1,
        "{race_result:?}"
    );
    assert_eq!(
        store
            .invocation("c1", "mi-a")
            .unwrap()
            .unwrap()
            .dispatched_ms,
        Some(9)
    );
}
