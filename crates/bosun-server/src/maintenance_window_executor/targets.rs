//! Resolving a task's targets into nodes when the task starts: the window targets it names
//! (`WindowTargetIds`, in order) or its own `InstanceIds`, through the resolution `SendCommand`
//! and associations use (`InstanceIds`, `tag:`, `tag-key`, `resource-groups:Name`). Nodes that
//! are offline, deregistered or unknown are kept, so they are reported rather than dropped.

use std::collections::HashMap;

use bosun_core::instance::PingStatus;
use bosun_core::maintenance_window::{NodeState, TargetVia};
use bosun_store::InstanceRecord;
use serde_json::Value;

use crate::api::error::ApiError;
use crate::api::instances::ping_of;
use crate::api::send_command::{nodes_matching, Target};
use crate::api::Ctx;
use crate::replicas::Presence;

/// One node a task runs on.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub node_id: String,
    pub via: TargetVia,
    /// Empty when the task named the node itself.
    pub window_target_id: String,
    pub target_order: usize,
    pub owner_information: String,
}

/// A node's standing now.
pub fn node_state(ctx: &Ctx, presence: &Presence, node: Option<&InstanceRecord>) -> NodeState {
    match node {
        None => NodeState::Unknown,
        Some(n) => match ping_of(ctx, presence, n).0 {
            PingStatus::Online => NodeState::Online,
            PingStatus::ConnectionLost => NodeState::ConnectionLost,
            PingStatus::Inactive => NodeState::Inactive,
        },
    }
}

/// The nodes one `Targets` list selects, with how; deregistered nodes included. A list that
/// only names nodes (`InstanceIds`, one resource group) also yields the ids Bosun does not know.
fn select(
    ctx: &Ctx,
    nodes: &[InstanceRecord],
    targets: &[Target],
) -> Result<(Vec<String>, TargetVia), ApiError> {
    // `resource-groups:ResourceTypeFilters` narrows a group to node types; every Bosun node is
    // a managed node (`AWS::SSM::ManagedInstance`, `AWS::EC2::Instance` alike), checked at
    // registration, so it selects no fewer nodes here.
    let targets: Vec<Target> = targets
        .iter()
        .filter(|t| t.key.as_deref() != Some("resource-groups:ResourceTypeFilters"))
        .cloned()
        .collect();
    let targets = targets.as_slice();
    let keys: Vec<&str> = targets.iter().filter_map(|t| t.key.as_deref()).collect();
    let via = if keys.iter().any(|k| k.starts_with("resource-groups:")) {
        TargetVia::ResourceGroup
    } else if keys.iter().all(|k| *k == "InstanceIds") {
        TargetVia::InstanceId
    } else {
        TargetVia::Tag
    };
    // Match deregistered nodes too: they are reported as deregistered, not left out.
    let all: Vec<InstanceRecord> = nodes
        .iter()
        .map(|n| InstanceRecord {
            deregistered: false,
            ..n.clone()
        })
        .collect();
    let mut ids: Vec<String> = nodes_matching(ctx, &all, targets)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let named: Vec<String> = match targets {
        [t] if t.key.as_deref() == Some("InstanceIds") => t
            .values
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v != "*")
            .collect(),
        [t] if t.key.as_deref() == Some("resource-groups:Name") => {
            let name = t
                .values
                .iter()
                .flatten()
                .next()
                .cloned()
                .unwrap_or_default();
            crate::api::resource_groups::group_nodes(ctx, &name)?.unwrap_or_default()
        }
        _ => Vec::new(),
    };
    for id in named {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok((ids, via))
}

fn targets_of(v: &Value) -> Vec<Target> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// The nodes of a task whose `Targets` are `task_targets`, each once (at its first window
/// target), in order.
pub fn resolve(
    ctx: &Ctx,
    window_id: &str,
    task_targets: &Value,
) -> Result<Vec<Resolved>, ApiError> {
    let nodes = ctx.state.store.list_instances(&ctx.region)?;
    let window_targets: HashMap<String, bosun_store::WindowTargetRecord> = ctx
        .state
        .store
        .list_targets(&ctx.region, window_id)?
        .into_iter()
        .map(|t| (t.window_target_id.clone(), t))
        .collect();
    let mut out: Vec<Resolved> = Vec::new();
    let mut add = |ids: Vec<String>, via, window_target_id: &str, order, owner: &str| {
        for id in ids {
            if !out.iter().any(|r| r.node_id == id) {
                out.push(Resolved {
                    node_id: id,
                    via,
                    window_target_id: window_target_id.to_string(),
                    target_order: order,
                    owner_information: owner.to_string(),
                });
            }
        }
    };
    let mut order = 0;
    for t in targets_of(task_targets) {
        let values = t.values.clone().unwrap_or_default();
        match t.key.as_deref() {
            Some("WindowTargetIds") => {
                for id in values {
                    // A window target deregistered since the task was planned selects nothing.
                    if let Some(wt) = window_targets.get(&id) {
                        let list: Value =
                            serde_json::from_str(&wt.targets_json).unwrap_or_default();
                        let (ids, via) = select(ctx, &nodes, &targets_of(&list))?;
                        add(ids, via, &id, order, &wt.owner_information);
                    }
                    order += 1;
                }
            }
            _ => {
                let (ids, via) = select(ctx, &nodes, std::slice::from_ref(&t))?;
                add(ids, via, "", order, "");
                order += 1;
            }
        }
    }
    Ok(out)
}
