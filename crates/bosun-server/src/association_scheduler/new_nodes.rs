//! Nodes that newly match an association's targets get its latest version: for each
//! association that has run that version, the matching nodes the store has not recorded as
//! having it are run in one execution of their own (`execute::fire_on_new_nodes`).
//!
//! An association whose latest version has not run yet is left alone: its first run (at
//! creation or update, or its first cron slot with `ApplyOnlyAtCronInterval`) covers every node
//! that matches then.
//!
//! The same look finds the nodes an association no longer targets (`forget.rs`).

use std::collections::{HashMap, HashSet};

use bosun_store::AssociationFilter;

use super::forget::forget_untargeted;
use crate::api::associations::execute::{fire_on_new_nodes, matching_nodes, Fired};
use crate::state::AppState;

/// Associations read per store call.
const PAGE: usize = 500;

/// What a look for new nodes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewNodes {
    /// Executions started for new nodes.
    pub fired: usize,
    /// A firing lost a race (the slot or a node was taken meanwhile): look again.
    pub retry: bool,
}

/// Run every association on the nodes that newly match it, at `now`.
pub fn apply_to_new_nodes(state: &AppState, now: i64) -> anyhow::Result<NewNodes> {
    let mut found = NewNodes::default();
    for region in state.regions.list() {
        let nodes = state.store.list_instances(region)?;
        let any_live = nodes.iter().any(|n| !n.deregistered);
        let mut with_rows: HashMap<String, Vec<String>> = HashMap::new();
        for (association, node) in state.store.association_nodes_in_region(region)? {
            with_rows.entry(association).or_default().push(node);
        }
        if !any_live && with_rows.is_empty() {
            continue;
        }
        let mut after: Option<String> = None;
        loop {
            let page = state.store.list_associations(
                region,
                &AssociationFilter::default(),
                after.as_deref(),
                PAGE,
            )?;
            for a in &page {
                if crate::api::associations::automation::is_automation(a) {
                    // Runbooks run per slot only (`api/associations/automation.rs`).
                    continue;
                }
                let rows = with_rows.remove(&a.association_id);
                let ran_this_version = any_live
                    && state
                        .store
                        .association_executions(region, &a.association_id, 1)?
                        .first()
                        .is_some_and(|e| e.association_version == a.version);
                if rows.is_none() && !ran_this_version {
                    continue;
                }
                let matching = match matching_nodes(state, a, &nodes, now) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        tracing::warn!(%region, association = %a.association_id, error = %e.message, "association targets could not be resolved");
                        None
                    }
                };
                if let Some(rows) = rows {
                    forget_untargeted(state, a, &rows, &nodes, matching.as_deref())?;
                }
                let Some(matching) = matching.filter(|_| ran_this_version) else {
                    continue;
                };
                if matching.is_empty() {
                    continue;
                }
                let applied: HashSet<String> = state
                    .store
                    .association_applied_nodes(region, &a.association_id, a.version)?
                    .into_iter()
                    .collect();
                let new: Vec<(String, String)> = matching
                    .into_iter()
                    .filter(|(id, _)| !applied.contains(id))
                    .collect();
                if new.is_empty() {
                    continue;
                }
                match fire_on_new_nodes(state, a, &new, now) {
                    Ok(Fired::Started { execution_id }) => {
                        tracing::info!(%region, association = %a.association_id, %execution_id, nodes = new.len(), "association applied to newly matching nodes");
                        found.fired += 1;
                    }
                    Ok(Fired::SlotTaken) => found.retry = true,
                    Ok(Fired::Refused { reason, .. }) => {
                        tracing::warn!(%region, association = %a.association_id, %reason, "association could not run on newly matching nodes");
                    }
                    Err(e) => {
                        tracing::warn!(%region, association = %a.association_id, error = %e.message, "association could not run on newly matching nodes");
                    }
                }
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.association_id.clone()),
                _ => break,
            }
        }
    }
    Ok(found)
}
