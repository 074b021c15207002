//! State Manager's events on PostgreSQL ([`bosun_store::association_events`]): the rows a
//! change reports are read inside its transaction before it writes them, and the events are
//! appended as the transaction's last statements (the outbox lock is always taken last; see
//! `event_outbox`).

use bosun_core::events::envelope::Event;
use bosun_store::association_events::{association_event, execution_end_events, node_events};
use bosun_store::{
    now_ms, state_after_end, state_after_forget, AssociationExecutionRecord, AssociationRecord,
    AssociationState, NodeAssociationStatus,
};

use super::association_status::{node_from_row, NODE_COLS};
use super::associations::{record_from_row, HEAD_COLS};
use crate::{PgError, PgStore, Transaction};

type PgResult<T> = std::result::Result<T, PgError>;

/// The association as `tx` holds it, if it exists.
async fn head_in(
    tx: &Transaction<'_>,
    region: &str,
    id: &str,
) -> PgResult<Option<AssociationRecord>> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {HEAD_COLS} FROM associations WHERE region = $1 AND association_id = $2"
            ),
            &[&region, &id],
        )
        .await?;
    Ok(row.as_ref().map(record_from_row).transpose()?)
}

impl PgStore {
    /// `EC2 State Manager Association State Change` for the association as `tx` now holds it
    /// (none when it does not exist): after a creation or an update, or before a deletion.
    pub(super) async fn association_events(
        &self,
        tx: &Transaction<'_>,
        region: &str,
        association_id: &str,
    ) -> PgResult<Vec<Event>> {
        let Some(a) = head_in(tx, region, association_id).await? else {
            return Ok(Vec::new());
        };
        Ok(vec![association_event(
            &self.event_account.get(),
            now_ms(),
            &a,
        )])
    }

    /// The events of an execution's end, computed before its rows are written: the nodes
    /// whose status changes, and the association when its overall status changes; with the
    /// association's state to write ([`state_after_end`]; `None` when it is gone).
    pub(super) async fn execution_end_events(
        &self,
        tx: &Transaction<'_>,
        e: &AssociationExecutionRecord,
        state: Option<&AssociationState>,
        nodes: &[NodeAssociationStatus],
    ) -> PgResult<(Vec<Event>, Option<AssociationState>)> {
        let Some(a) = head_in(tx, &e.region, &e.association_id).await? else {
            return Ok((Vec::new(), None));
        };
        let stored = stored_nodes(tx, &e.region, &e.association_id).await?;
        let next = state_after_end(&a, state, e, &stored, nodes);
        let account = self.event_account.get();
        let events = execution_end_events(&account, now_ms(), &a, Some(&next), &stored, nodes);
        Ok((events, Some(next)))
    }

    /// Forgetting nodes `gone` of an association: the association's event when its overall
    /// status changes, and its state to write ([`state_after_forget`]); `None` when it is
    /// gone.
    pub(super) async fn forget_events(
        &self,
        tx: &Transaction<'_>,
        region: &str,
        association_id: &str,
        gone: &[String],
    ) -> PgResult<Option<(Vec<Event>, AssociationState)>> {
        let Some(a) = head_in(tx, region, association_id).await? else {
            return Ok(None);
        };
        let stored = stored_nodes(tx, region, association_id).await?;
        let left: Vec<NodeAssociationStatus> = stored
            .iter()
            .filter(|n| !gone.contains(&n.instance_id))
            .cloned()
            .collect();
        let next = state_after_forget(&a, &left);
        let account = self.event_account.get();
        let events = execution_end_events(&account, now_ms(), &a, Some(&next), &stored, &[]);
        Ok(Some((events, next)))
    }

    /// The instance event of `UpdateAssociationStatus`'s node row, computed before it is
    /// written (none when its status does not change).
    pub(super) async fn node_status_events(
        &self,
        tx: &Transaction<'_>,
        node: &NodeAssociationStatus,
    ) -> PgResult<Vec<Event>> {
        let Some(a) = head_in(tx, &node.region, &node.association_id).await? else {
            return Ok(Vec::new());
        };
        let stored = stored_nodes(tx, &node.region, &node.association_id).await?;
        let account = self.event_account.get();
        let nodes = std::slice::from_ref(node);
        Ok(node_events(&account, now_ms(), &a, &stored, nodes))
    }
}

/// The association's node rows as `tx` holds them.
async fn stored_nodes(
    tx: &Transaction<'_>,
    region: &str,
    association_id: &str,
) -> PgResult<Vec<NodeAssociationStatus>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {NODE_COLS} FROM association_node_status \
                 WHERE region = $1 AND association_id = $2"
            ),
            &[&region, &association_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(node_from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// Append `events` as the transaction's last statements.
pub(super) async fn append_last(tx: &Transaction<'_>, events: &[Event]) -> PgResult<()> {
    super::event_outbox::append(tx, events, now_ms()).await
}
