//! Executions of associations: a fired slot creates its execution and its command together,
//! a slot fires once (also when 8 threads race), listings, the open worklist, status roll-up
//! and the cascade on deletion; a version reaches each node once through new-node firings.

use super::associations::{association, definition, id};
use super::concurrency::race;
use super::fixtures::{command, invocation, plugin, REGION};
use crate::prelude::*;
use crate::{AssociationExecutionRecord, NewCommand};

fn execution(n: usize, slot_ms: i64, command_id: &str) -> AssociationExecutionRecord {
    AssociationExecutionRecord {
        region: REGION.into(),
        association_id: id(1),
        execution_id: format!("e0000000-0000-4000-8000-{n:012x}"),
        association_version: 1,
        slot_ms,
        command_id: command_id.into(),
        status: "Pending".into(),
        detailed_status: "Pending".into(),
        created_ms: slot_ms + 5,
        last_update_ms: slot_ms + 5,
        resource_counts_json: "{}".into(),
    }
}

fn fire(store: &dyn Store, n: usize, slot_ms: i64) -> bool {
    let command_id = format!("c0000000-0000-4000-8000-{n:012x}");
    let c = command(&command_id, slot_ms);
    let invocations = [invocation(&command_id, "mi-00000000000000001", 0)];
    let plugins = [plugin(&command_id, "mi-00000000000000001", 0)];
    store
        .fire_association(
            &execution(n, slot_ms, &command_id),
            Some(NewCommand {
                command: &c,
                invocations: &invocations,
                plugins: &plugins,
            }),
        )
        .unwrap()
}

pub fn a_fired_slot_stores_its_execution_and_command_once(store: &dyn Store) {
    assert!(!fire(store, 1, 1000), "no association: nothing fires");
    assert!(store
        .get_command(REGION, &command("x", 0).command_id)
        .unwrap()
        .is_none());
    store
        .create_association(&association(&id(1), "Deploy", 10), &[], 10)
        .unwrap();
    assert!(fire(store, 2, 1000));
    assert!(!fire(store, 3, 1000), "the same slot fires once");
    assert!(fire(store, 4, 2000));
    let c2 = "c0000000-0000-4000-8000-000000000002";
    assert!(store.get_command(REGION, c2).unwrap().is_some());
    assert_eq!(store.invocations(c2).unwrap().len(), 1);
    assert_eq!(store.plugins(c2, "mi-00000000000000001").unwrap().len(), 1);
    assert!(
        store
            .get_command(REGION, "c0000000-0000-4000-8000-000000000003")
            .unwrap()
            .is_none(),
        "a refused firing writes no command"
    );
    let list = store.association_executions(REGION, &id(1), 10).unwrap();
    assert_eq!(
        list,
        vec![
            execution(4, 2000, "c0000000-0000-4000-8000-000000000004"),
            execution(2, 1000, c2)
        ]
    );
    assert_eq!(
        store
            .association_executions(REGION, &id(1), 1)
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .association_executions("eu-west-1", &id(1), 10)
        .unwrap()
        .is_empty());
    let a = store.get_association(REGION, &id(1)).unwrap().unwrap();
    assert_eq!(a.state.last_execution_ms, Some(2005));
    let mut failed = execution(5, 3000, "");
    failed.status = "Failed".into();
    assert!(
        store.fire_association(&failed, None).unwrap(),
        "an execution without a command"
    );
    assert!(!store.fire_association(&failed, None).unwrap());
    assert_eq!(
        store.association_executions(REGION, &id(1), 1).unwrap(),
        vec![failed]
    );
}

pub fn execution_status_and_association_state_are_written_together(store: &dyn Store) {
    store
        .create_association(&association(&id(1), "Deploy", 10), &[], 10)
        .unwrap();
    assert!(fire(store, 1, 1000));
    assert!(fire(store, 2, 2000));
    let open = store.open_association_executions().unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0].slot_ms, 1000, "oldest first");
    let mut done = open[0].clone();
    done.status = "Success".into();
    done.detailed_status = "Success".into();
    done.last_update_ms = 3000;
    done.resource_counts_json = r#"{"Success":1}"#.into();
    let mut state = store
        .get_association(REGION, &id(1))
        .unwrap()
        .unwrap()
        .state;
    state.overview_status = "Success".into();
    state.overview_detailed_status = "Success".into();
    state.overview_counts_json = r#"{"Success":1}"#.into();
    state.last_successful_execution_ms = Some(1005);
    store
        .update_association_execution(&done, Some(&state))
        .unwrap();
    let open = store.open_association_executions().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].slot_ms, 2000);
    let list = store.association_executions(REGION, &id(1), 10).unwrap();
    assert_eq!(list[1], done);
    assert_eq!(
        store
            .get_association(REGION, &id(1))
            .unwrap()
            .unwrap()
            .state,
        state
    );
    let mut progress = open[0].clone();
    progress.status = "InProgress".into();
    store.update_association_execution(&progress, None).unwrap();
    assert_eq!(store.open_association_executions().unwrap(), vec![progress]);
    assert!(store.delete_association(REGION, &id(1)).unwrap());
    assert!(
        store.open_association_executions().unwrap().is_empty(),
        "deletion cascades"
    );
    assert!(store
        .association_executions(REGION, &id(1), 10)
        .unwrap()
        .is_empty());
}

pub fn concurrent_firings_of_one_slot_fire_it_once(store: &dyn Store) {
    store
        .create_association(&association(&id(1), "Deploy", 10), &[], 10)
        .unwrap();
    let fired = race(|t| fire(store, t + 1, 5000));
    assert_eq!(fired.iter().filter(|f| **f).count(), 1, "{fired:?}");
    let list = store.association_executions(REGION, &id(1), 10).unwrap();
    assert_eq!(list.len(), 1);
    assert!(store
        .get_command(REGION, &list[0].command_id)
        .unwrap()
        .is_some());
    let commands = store.list_commands(REGION).unwrap();
    assert_eq!(commands.len(), 1, "only the winner created a command");
}

/// Fire execution `n` of version `version` at `slot_ms` on `nodes`, as a slot or as a
/// new-node firing.
pub(super) fn fire_on(
    store: &dyn Store,
    n: usize,
    slot_ms: i64,
    version: i64,
    nodes: &[&str],
    new_nodes: bool,
) -> bool {
    let command_id = format!("c0000000-0000-4000-8000-{n:012x}");
    let c = command(&command_id, slot_ms);
    let invocations: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| invocation(&command_id, node, i as i64))
        .collect();
    let plugins: Vec<_> = nodes
        .iter()
        .map(|node| plugin(&command_id, node, 0))
        .collect();
    let mut e = execution(n, slot_ms, &command_id);
    e.association_version = version;
    let new_command = NewCommand {
        command: &c,
        invocations: &invocations,
        plugins: &plugins,
    };
    if new_nodes {
        store
            .fire_association_on_new_nodes(&e, new_command)
            .unwrap()
    } else {
        store.fire_association(&e, Some(new_command)).unwrap()
    }
}

pub fn a_version_reaches_each_node_once_through_new_node_firings(store: &dyn Store) {
    const N1: &str = "mi-00000000000000001";
    const N2: &str = "mi-00000000000000002";
    const N3: &str = "mi-00000000000000003";
    let applied = |version| {
        store
            .association_applied_nodes(REGION, &id(1), version)
            .unwrap()
    };
    assert!(
        !fire_on(store, 1, 500, 1, &[N1], true),
        "no association: nothing fires"
    );
    store
        .create_association(&association(&id(1), "Deploy", 10), &[], 10)
        .unwrap();
    assert!(fire_on(store, 1, 1000, 1, &[N2, N1], false));
    assert_eq!(applied(1), vec![N1, N2]);
    assert!(
        !fire_on(store, 2, 2000, 1, &[N3, N2], true),
        "a node that has the version refuses the whole firing"
    );
    assert!(store
        .get_command(REGION, "c0000000-0000-4000-8000-000000000002")
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .association_executions(REGION, &id(1), 10)
            .unwrap()
            .len(),
        1
    );
    assert!(fire_on(store, 3, 3000, 1, &[N3], true));
    assert_eq!(applied(1), vec![N1, N2, N3]);
    assert!(!fire_on(store, 4, 4000, 1, &[N3], true), "once per node");
    assert!(
        fire_on(store, 5, 5000, 1, &[N1, N3], false),
        "a slot runs on every node it resolved"
    );
    assert_eq!(applied(1), vec![N1, N2, N3]);
    assert!(
        !fire_on(store, 6, 6000, 2, &[N1], true),
        "only the latest version fires on new nodes"
    );
    let updated = store
        .update_association(REGION, &id(1), Some(1), &definition("Deploy"), 7000, 1000)
        .unwrap();
    assert!(matches!(updated, crate::UpdateAssociation::Updated(_)));
    assert!(fire_on(store, 7, 7000, 2, &[N1], false));
    assert_eq!(applied(2), vec![N1]);
    assert!(applied(1).is_empty(), "older versions' nodes are dropped");
    assert!(fire_on(store, 8, 8000, 2, &[N2], true));
    assert_eq!(applied(2), vec![N1, N2]);
    assert!(store.delete_association(REGION, &id(1)).unwrap());
    assert!(applied(2).is_empty(), "deletion cascades");
}
