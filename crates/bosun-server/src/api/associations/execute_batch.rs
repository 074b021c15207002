//! Firing the due slots of many associations of one region at once, for the scheduler: the
//! region's nodes and tags are read once, each distinct (document, version, parameters) is
//! resolved once, and the executions with their commands are written a batch per store
//! transaction ([`bosun_store::AssociationRunStore::fire_associations`]), each slot still
//! fired at most once. An association whose command cannot be built goes through
//! [`execute::fire`], which records the refusal as a failed execution.

use std::collections::{BTreeMap, HashMap};

use bosun_store::{AssociationRecord, NewCommand};
use serde_json::{Map, Value};

use super::execute::{self, command_spec, new_execution, targets, Fired, PRINCIPAL};
use crate::api::send_command::{
    build_command, nodes_matching_tagged, resolve_document, ResolvedDocument,
};
use crate::api::{ApiError, Ctx};
use crate::state::AppState;

/// Firings written per store transaction: large enough that commits do not dominate, small
/// enough that API writes do not wait long for the store.
pub const BATCH: usize = 200;

/// What a command's document resolution depends on.
type DocumentKey = (String, Option<String>, BTreeMap<String, Vec<String>>);

/// Fire `due` (associations of `region` with the slot of each) at `now_ms`; what each did,
/// in order.
pub fn fire_many(
    state: &AppState,
    region: &str,
    due: &[(&AssociationRecord, i64)],
    now_ms: i64,
) -> bosun_store::Result<Vec<Fired>> {
    let mut fired: Vec<Option<Fired>> = vec![None; due.len()];
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let ctx = Ctx::internal(state, region, PRINCIPAL, now_ms);
    let nodes = state.store.list_instances(region)?;
    let tags = crate::api::instances::node_tags(&ctx);
    let mut documents: HashMap<DocumentKey, Result<ResolvedDocument, ApiError>> = HashMap::new();
    // (index in `due`, execution, command) of the firings that built a command.
    let mut ready = Vec::new();
    for (index, (a, slot_ms)) in due.iter().enumerate() {
        if super::automation::is_automation(a) {
            // One automation start each, through its own path.
            fired[index] = Some(execute::fire(state, a, *slot_ms, now_ms)?);
            continue;
        }
        let spec: Map<String, Value> =
            serde_json::from_str(&a.definition.spec_json).unwrap_or_default();
        let targets = targets(a, &spec);
        let command = command_spec(a, &spec, &targets);
        let key = (
            command.document_name.clone(),
            command.document_version.clone(),
            command.parameters.clone(),
        );
        let document = documents
            .entry(key)
            .or_insert_with(|| resolve_document(&ctx, &command));
        let prepared = document
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|document| {
                let tags = tags.as_ref().map_err(Clone::clone)?;
                let by_tag = targets
                    .iter()
                    .any(|t| t.key.as_deref() != Some("InstanceIds"));
                let matched = nodes_matching_tagged(&ctx, &nodes, tags, &targets)?;
                build_command(&ctx, &command, document, &matched, by_tag)
            });
        match prepared {
            Ok(p) => {
                let mut execution = new_execution(a, *slot_ms, now_ms);
                execution.command_id = p.record.command_id.clone();
                ready.push((index, execution, p));
            }
            // The single path records why (a failed execution) and reports it.
            Err(_) => fired[index] = Some(execute::fire(state, a, *slot_ms, now_ms)?),
        }
    }
    for chunk in ready.chunks(BATCH) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|(_, execution, p)| {
                (
                    execution.clone(),
                    Some(NewCommand {
                        command: &p.record,
                        invocations: &p.invocations,
                        plugins: &p.plugins,
                    }),
                )
            })
            .collect();
        let outcomes = state.store.fire_associations(&batch)?;
        for ((index, execution, _), started) in chunk.iter().zip(outcomes) {
            fired[*index] = Some(if started {
                Fired::Started {
                    execution_id: execution.execution_id.clone(),
                }
            } else {
                Fired::SlotTaken
            });
        }
        state.orchestrator.kick();
    }
    Ok(fired
        .into_iter()
        .map(|f| f.unwrap_or(Fired::SlotTaken))
        .collect())
}
