//! One execution of an association: its Run Command command, built as `SendCommand` builds
//! one (same document resolution, parameters, targets and records), stored together with the
//! execution's unique slot so the slot runs at most once.
//!
//! An execution for nodes that newly match the targets ([`fire_on_new_nodes`]) is a command
//! whose targets are just those nodes (`InstanceIds`), stored only if none of them has the
//! association's version yet; the nodes it already ran on are not run again.

use std::collections::BTreeMap;

use bosun_core::ids;
use bosun_store::{AssociationExecutionRecord, AssociationRecord, InstanceRecord, NewCommand};
use serde_json::{json, Map, Value};

use crate::api::send_command::{
    nodes_matching, nodes_matching_tagged, prepare_command, CommandSpec, Target,
};
use crate::api::{ApiError, Ctx};
use crate::state::{random_bytes, AppState};

/// The principal of commands State Manager starts.
pub(super) const PRINCIPAL: &str = "bosun:state-manager";

/// What firing a slot did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// The execution and its command are stored.
    Started { execution_id: String },
    /// The command could not be built (document gone, parameters no longer valid...): the
    /// execution is stored as `Failed` with this reason.
    Refused {
        execution_id: String,
        reason: String,
    },
    /// The slot already ran (another scheduler, an earlier start) or the association is gone.
    SlotTaken,
}

/// The association's `Targets`, or its legacy node as an `InstanceIds` target.
pub(super) fn targets(a: &AssociationRecord, spec: &Map<String, Value>) -> Vec<Target> {
    if !a.definition.instance_id.is_empty() {
        return vec![Target {
            key: Some("InstanceIds".into()),
            values: Some(vec![a.definition.instance_id.clone()]),
        }];
    }
    spec.get("Targets")
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default()
}

/// The association's command as its definition asks for it, with `targets` (the
/// association's own, or the new nodes).
pub(super) fn command_spec(
    a: &AssociationRecord,
    spec: &Map<String, Value>,
    targets: &[Target],
) -> CommandSpec {
    let text = |key: &str, default: &str| {
        spec.get(key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let parameters: BTreeMap<String, Vec<String>> = spec
        .get("Parameters")
        .and_then(|p| serde_json::from_value(p.clone()).ok())
        .unwrap_or_default();
    let mut echo = Map::new();
    echo.insert("Parameters".into(), json!(parameters));
    echo.insert(
        "Targets".into(),
        json!(targets
            .iter()
            .map(|t| json!({"Key": t.key, "Values": t.values}))
            .collect::<Vec<_>>()),
    );
    CommandSpec {
        document_name: a.definition.name.clone(),
        document_version: Some(a.definition.document_version.clone()).filter(|v| !v.is_empty()),
        document_hash: None,
        parameters,
        timeout_seconds: 3600,
        comment: String::new(),
        // AWS's defaults for associations: every target at once, never stop on errors.
        max_concurrency: text("MaxConcurrency", "100%"),
        max_errors: text("MaxErrors", "100%"),
        echo,
        notification: None,
    }
}

pub(super) fn new_execution(
    a: &AssociationRecord,
    slot_ms: i64,
    now_ms: i64,
) -> AssociationExecutionRecord {
    AssociationExecutionRecord {
        region: a.region.clone(),
        association_id: a.association_id.clone(),
        execution_id: ids::uuid_v4(random_bytes()),
        association_version: a.version,
        slot_ms,
        command_id: String::new(),
        status: "Pending".into(),
        detailed_status: "Pending".into(),
        created_ms: now_ms,
        last_update_ms: now_ms,
        resource_counts_json: "{}".into(),
    }
}

/// The nodes of `nodes` (the region's) that `a`'s targets match, as (id, name).
pub fn matching_nodes(
    state: &AppState,
    a: &AssociationRecord,
    nodes: &[InstanceRecord],
    now_ms: i64,
) -> Result<Vec<(String, String)>, ApiError> {
    let ctx = Ctx::internal(state, &a.region, PRINCIPAL, now_ms);
    let spec: Map<String, Value> =
        serde_json::from_str(&a.definition.spec_json).unwrap_or_default();
    nodes_matching(&ctx, nodes, &targets(a, &spec))
}

/// The region's nodes and their tags, read once for many [`matching_nodes_among`] calls.
pub struct RegionNodes {
    pub nodes: Vec<InstanceRecord>,
    pub tags: std::collections::HashMap<String, Vec<(String, String)>>,
}

impl RegionNodes {
    pub fn read(state: &AppState, region: &str, now_ms: i64) -> Result<Self, ApiError> {
        let ctx = Ctx::internal(state, region, PRINCIPAL, now_ms);
        Ok(RegionNodes {
            nodes: state.store.list_instances(region)?,
            tags: crate::api::instances::node_tags(&ctx)?,
        })
    }
}

/// [`matching_nodes`] over nodes and tags already read.
pub fn matching_nodes_among(
    state: &AppState,
    a: &AssociationRecord,
    region: &RegionNodes,
    now_ms: i64,
) -> Result<Vec<(String, String)>, ApiError> {
    let ctx = Ctx::internal(state, &a.region, PRINCIPAL, now_ms);
    let spec: Map<String, Value> =
        serde_json::from_str(&a.definition.spec_json).unwrap_or_default();
    nodes_matching_tagged(&ctx, &region.nodes, &region.tags, &targets(a, &spec))
}

/// Run the latest version of `a` at `now_ms` on `nodes` (nodes that newly match its targets),
/// as an execution whose slot is `now_ms`. `SlotTaken` when any of them already has this
/// version, the association changed or the slot is taken; nothing is stored then. A command
/// that cannot be built is not recorded (the association's scheduled runs record it).
pub fn fire_on_new_nodes(
    state: &AppState,
    a: &AssociationRecord,
    nodes: &[(String, String)],
    now_ms: i64,
) -> Result<Fired, ApiError> {
    if super::automation::is_automation(a) {
        // A runbook's association waits for its next slot (see `automation.rs`).
        return Ok(Fired::SlotTaken);
    }
    let ctx = Ctx::internal(state, &a.region, PRINCIPAL, now_ms);
    let spec: Map<String, Value> =
        serde_json::from_str(&a.definition.spec_json).unwrap_or_default();
    let targets = vec![Target {
        key: Some("InstanceIds".into()),
        values: Some(nodes.iter().map(|(id, _)| id.clone()).collect()),
    }];
    let prepared = prepare_command(&ctx, &command_spec(a, &spec, &targets), || {
        Ok((nodes.to_vec(), false))
    })?;
    let mut execution = new_execution(a, now_ms, now_ms);
    execution.command_id = prepared.record.command_id.clone();
    let fired = state.store.fire_association_on_new_nodes(
        &execution,
        NewCommand {
            command: &prepared.record,
            invocations: &prepared.invocations,
            plugins: &prepared.plugins,
        },
    )?;
    if !fired {
        return Ok(Fired::SlotTaken);
    }
    state.orchestrator.kick();
    Ok(Fired::Started {
        execution_id: execution.execution_id,
    })
}

/// Fire `a`'s slot `slot_ms` at `now_ms`: store a new execution and its command at once.
pub fn fire(
    state: &AppState,
    a: &AssociationRecord,
    slot_ms: i64,
    now_ms: i64,
) -> bosun_store::Result<Fired> {
    if super::automation::is_automation(a) {
        return super::automation::fire(state, a, slot_ms, now_ms);
    }
    let ctx = Ctx::internal(state, &a.region, PRINCIPAL, now_ms);
    let spec: Map<String, Value> =
        serde_json::from_str(&a.definition.spec_json).unwrap_or_default();
    let targets = targets(a, &spec);
    let prepared = prepare_command(&ctx, &command_spec(a, &spec, &targets), || {
        let nodes = state.store.list_instances(&a.region)?;
        let by_tag = targets
            .iter()
            .any(|t| t.key.as_deref() != Some("InstanceIds"));
        Ok((nodes_matching(&ctx, &nodes, &targets)?, by_tag))
    });
    let mut execution = new_execution(a, slot_ms, now_ms);
    let execution_id = execution.execution_id.clone();
    match prepared {
        Ok(p) => {
            execution.command_id = p.record.command_id.clone();
            let fired = state.store.fire_association(
                &execution,
                Some(NewCommand {
                    command: &p.record,
                    invocations: &p.invocations,
                    plugins: &p.plugins,
                }),
            )?;
            if !fired {
                return Ok(Fired::SlotTaken);
            }
            state.orchestrator.kick();
            Ok(Fired::Started { execution_id })
        }
        Err(e) => {
            let reason = format!("{}: {}", e.code, e.message);
            execution.status = "Failed".into();
            execution.detailed_status = e.code.to_string();
            if !state.store.fire_association(&execution, None)? {
                return Ok(Fired::SlotTaken);
            }
            let mut run_state = a.state.clone();
            run_state.overview_status = "Failed".into();
            run_state.overview_detailed_status = e.code.to_string();
            run_state.overview_counts_json = "{}".into();
            run_state.last_execution_ms = Some(now_ms);
            state
                .store
                .update_association_execution(&execution, Some(&run_state))?;
            Ok(Fired::Refused {
                execution_id,
                reason,
            })
        }
    }
}
