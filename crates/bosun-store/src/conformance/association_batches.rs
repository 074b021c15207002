//! Batched firings of association slots (`fire_associations`): each firing is decided as it
//! would be alone (a slot taken or an association gone writes nothing for it, also within one
//! batch), the fired ones store their command with its events, and concurrent batches of one
//! slot fire each association once.

use super::associations::{association, id};
use super::concurrency::race;
use super::fixtures::{command, invocation, plugin, REGION};
use crate::prelude::*;
use crate::{
    AssociationExecutionRecord, CommandRecord, InvocationRecord, NewCommand, PluginRecord,
};

const NODE: &str = "mi-00000000000000001";

/// Execution `n` of association `a` at `slot_ms`, with its command's records.
struct Firing {
    execution: AssociationExecutionRecord,
    command: CommandRecord,
    invocations: Vec<InvocationRecord>,
    plugins: Vec<PluginRecord>,
}

fn firing(a: usize, n: usize, slot_ms: i64) -> Firing {
    let command_id = format!("c0000000-0000-4000-8000-{n:012x}");
    Firing {
        execution: AssociationExecutionRecord {
            region: REGION.into(),
            association_id: id(a),
            execution_id: format!("e0000000-0000-4000-8000-{n:012x}"),
            association_version: 1,
            slot_ms,
            command_id: command_id.clone(),
            status: "Pending".into(),
            detailed_status: "Pending".into(),
            created_ms: slot_ms + 5,
            last_update_ms: slot_ms + 5,
            resource_counts_json: "{}".into(),
        },
        command: command(&command_id, slot_ms),
        invocations: vec![invocation(&command_id, NODE, 0)],
        plugins: vec![plugin(&command_id, NODE, 0)],
    }
}

fn fire_all(store: &dyn Store, firings: &[Firing]) -> Vec<bool> {
    let batch: Vec<_> = firings
        .iter()
        .map(|f| {
            (
                f.execution.clone(),
                Some(NewCommand {
                    command: &f.command,
                    invocations: &f.invocations,
                    plugins: &f.plugins,
                }),
            )
        })
        .collect();
    store.fire_associations(&batch).unwrap()
}

fn has_command(store: &dyn Store, f: &Firing) -> bool {
    store
        .get_command(REGION, &f.command.command_id)
        .unwrap()
        .is_some()
}

pub fn a_batch_fires_each_slot_once_with_its_commands_and_events(store: &dyn Store) {
    for a in 1..=3 {
        store
            .create_association(&association(&id(a), "Deploy", 10), &[], 10)
            .unwrap();
    }
    assert_eq!(fire_all(store, &[firing(2, 20, 1000)]), [true]);
    let batch = [
        firing(1, 1, 1000),
        firing(2, 2, 1000),
        firing(3, 3, 1000),
        firing(9, 4, 1000),
        firing(1, 5, 1000),
        firing(1, 6, 2000),
    ];
    assert_eq!(
        fire_all(store, &batch),
        [true, false, true, false, false, true],
        "taken slots, a missing association and a repeat within the batch do not fire"
    );
    for (f, fired) in batch.iter().zip([true, false, true, false, false, true]) {
        assert_eq!(has_command(store, f), fired, "{}", f.command.command_id);
    }
    assert_eq!(
        store
            .invocations(&batch[0].command.command_id)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .plugins(&batch[2].command.command_id, NODE)
            .unwrap()
            .len(),
        1
    );
    let executions = store.association_executions(REGION, &id(1), 10).unwrap();
    assert_eq!(
        executions,
        vec![batch[5].execution.clone(), batch[0].execution.clone()]
    );
    let a1 = store.get_association(REGION, &id(1)).unwrap().unwrap();
    assert_eq!(a1.state.last_execution_ms, Some(2005));
    let a2 = store.get_association(REGION, &id(2)).unwrap().unwrap();
    assert_eq!(
        a2.state.last_execution_ms,
        Some(1005),
        "a refused firing leaves the association as it was"
    );
    assert_eq!(
        store.association_applied_nodes(REGION, &id(3), 1).unwrap(),
        [NODE]
    );
    let events = store.events_after(0, 1000).unwrap();
    let mentions = |f: &Firing| {
        events
            .iter()
            .filter(|e| e.envelope.contains(&f.command.command_id))
            .count()
    };
    for (f, fired) in batch.iter().zip([true, false, true, false, false, true]) {
        assert_eq!(
            mentions(f) > 0,
            fired,
            "events of {} (only fired commands emit)",
            f.command.command_id
        );
    }
    assert_eq!(fire_all(store, &[]), Vec::<bool>::new());
}

pub fn latest_slots_of_a_page_of_associations_are_read_at_once(store: &dyn Store) {
    for a in 1..=4 {
        store
            .create_association(&association(&id(a), "Deploy", 10), &[], 10)
            .unwrap();
    }
    assert!(store
        .latest_association_slots(REGION, &id(1), &id(4))
        .unwrap()
        .is_empty());
    let fired = fire_all(
        store,
        &[
            firing(1, 1, 1000),
            firing(1, 2, 3000),
            firing(1, 3, 2000),
            firing(2, 4, 1000),
            firing(4, 5, 7000),
        ],
    );
    assert_eq!(fired, [true; 5]);
    assert_eq!(
        store
            .latest_association_slots(REGION, &id(1), &id(4))
            .unwrap(),
        vec![(id(1), 3000), (id(2), 1000), (id(4), 7000)],
        "the latest slot of each fired association, by id"
    );
    for a in 1..=4 {
        let one = store.association_executions(REGION, &id(a), 1).unwrap();
        let latest = store
            .latest_association_slots(REGION, &id(a), &id(a))
            .unwrap();
        assert_eq!(
            latest,
            one.iter()
                .map(|e| (e.association_id.clone(), e.slot_ms))
                .collect::<Vec<_>>(),
            "as association_executions(.., 1) for {a}"
        );
    }
    assert_eq!(
        store
            .latest_association_slots(REGION, &id(2), &id(3))
            .unwrap(),
        vec![(id(2), 1000)],
        "bounds included, others left out"
    );
    assert!(store
        .latest_association_slots("eu-west-1", &id(1), &id(4))
        .unwrap()
        .is_empty());
}

pub fn concurrent_batches_of_one_slot_fire_each_association_once(store: &dyn Store) {
    for a in 1..=3 {
        store
            .create_association(&association(&id(a), "Deploy", 10), &[], 10)
            .unwrap();
    }
    let fired = race(|t| {
        let batch: Vec<Firing> = (1..=3).map(|a| firing(a, t * 10 + a, 5000)).collect();
        fire_all(store, &batch)
    });
    for a in 0..3 {
        let winners = fired.iter().filter(|f| f[a]).count();
        assert_eq!(winners, 1, "association {}: {fired:?}", a + 1);
    }
    assert_eq!(
        store.list_commands(REGION).unwrap().len(),
        3,
        "only the winners created commands"
    );
    for a in 1..=3 {
        let list = store.association_executions(REGION, &id(a), 10).unwrap();
        assert_eq!(list.len(), 1);
        assert!(store
            .get_command(REGION, &list[0].command_id)
            .unwrap()
            .is_some());
    }
}
