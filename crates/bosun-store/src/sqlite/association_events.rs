//! State Manager's events on SQLite ([`crate::association_events`]): read the rows a change
//! reports inside its transaction and append the events there (one writer: any order is
//! commit order).

use rusqlite::{params, OptionalExtension, Transaction};

use super::association_status::{node_from_row, NODE_COLS};
use super::associations::{head_cols, record_from_row};
use super::event_outbox::append;
use super::SqliteStore;
use crate::association_events::{association_event, execution_end_events, node_events};
use crate::event_outbox::now_ms;
use crate::{state_after_end, state_after_forget, NodeAssociationStatus, Result};
use crate::{AssociationExecutionRecord, AssociationRecord, AssociationState};

/// The association as stored in `tx`, if it exists.
pub(super) fn stored_association(
    tx: &Transaction<'_>,
    region: &str,
    association_id: &str,
) -> Result<Option<AssociationRecord>> {
    Ok(tx
        .query_row(
            &format!(
                "SELECT {} FROM associations WHERE region = ?1 AND association_id = ?2",
                head_cols()
            ),
            params![region, association_id],
            record_from_row,
        )
        .optional()?)
}

impl SqliteStore {
    /// `EC2 State Manager Association State Change` for the association as `tx` now holds
    /// it: after a creation or an update, or just before a deletion (as it was last).
    pub(super) fn emit_association_event(
        &self,
        tx: &Transaction<'_>,
        region: &str,
        association_id: &str,
    ) -> Result<()> {
        if let Some(a) = stored_association(tx, region, association_id)? {
            let now = now_ms();
            let event = association_event(&self.event_account.get(), now, &a);
            append(tx, &[event], now)?;
        }
        Ok(())
    }

    /// The events of an execution's end, computed before its rows are written: the nodes
    /// whose status changes, and the association when its overall status changes. Returns
    /// the association's state to write ([`state_after_end`]); `None` when it is gone.
    pub(super) fn emit_execution_end_events(
        &self,
        tx: &Transaction<'_>,
        e: &AssociationExecutionRecord,
        state: Option<&AssociationState>,
        nodes: &[NodeAssociationStatus],
    ) -> Result<Option<AssociationState>> {
        let Some(a) = stored_association(tx, &e.region, &e.association_id)? else {
            return Ok(None);
        };
        let stored = stored_nodes(tx, &e.region, &e.association_id)?;
        let next = state_after_end(&a, state, e, &stored, nodes);
        let now = now_ms();
        let account = self.event_account.get();
        let events = execution_end_events(&account, now, &a, Some(&next), &stored, nodes);
        append(tx, &events, now)?;
        Ok(Some(next))
    }

    /// Forget `gone` of association `a` (rows `stored`) and emit the association's event
    /// when its overall status changes. Returns the state to write ([`state_after_forget`]).
    pub(super) fn emit_forget_events(
        &self,
        tx: &Transaction<'_>,
        a: &AssociationRecord,
        stored: &[NodeAssociationStatus],
        gone: &[String],
    ) -> Result<AssociationState> {
        let left: Vec<NodeAssociationStatus> = stored
            .iter()
            .filter(|n| !gone.contains(&n.instance_id))
            .cloned()
            .collect();
        let next = state_after_forget(a, &left);
        let now = now_ms();
        let account = self.event_account.get();
        let events = execution_end_events(&account, now, a, Some(&next), stored, &[]);
        append(tx, &events, now)?;
        Ok(next)
    }

    /// The instance event of `UpdateAssociationStatus`'s node row, computed before it is
    /// written (none when its status does not change).
    pub(super) fn emit_node_status_event(
        &self,
        tx: &Transaction<'_>,
        node: &NodeAssociationStatus,
    ) -> Result<()> {
        let Some(a) = stored_association(tx, &node.region, &node.association_id)? else {
            return Ok(());
        };
        let stored = stored_nodes(tx, &node.region, &node.association_id)?;
        let now = now_ms();
        let account = self.event_account.get();
        let events = node_events(&account, now, &a, &stored, std::slice::from_ref(node));
        append(tx, &events, now)?;
        Ok(())
    }
}

pub(super) fn stored_nodes(
    tx: &Transaction<'_>,
    region: &str,
    association_id: &str,
) -> Result<Vec<NodeAssociationStatus>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {NODE_COLS} FROM association_node_status \
         WHERE region = ?1 AND association_id = ?2"
    ))?;
    let rows = stmt.query_map(params![region, association_id], node_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
