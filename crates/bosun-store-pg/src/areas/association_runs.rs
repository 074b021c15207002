//! Executions of associations on PostgreSQL ([`bosun_store::AssociationRunStore`]).
//!
//! A firing locks the association's row first (`FOR NO KEY UPDATE`: firings of one association
//! queue, a concurrent deletion waits, and the later `last_execution_ms` write needs no lock
//! upgrade, which deadlocked under shared locks) and inserts the execution with
//! `ON CONFLICT DO NOTHING` on the unique (region, association, slot) index: of concurrent
//! firings of one slot exactly one inserts, and only that one creates the command, in the same
//! transaction, with the nodes it applies the association's version to.

use bosun_store::{
    AssociationExecutionRecord, AssociationRunStore, AssociationState, NewCommand, PluginRecord,
    Result, OPEN_EXECUTION_STATUSES,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::command_events::Transitions;
use super::commands::insert_command;
use crate::{PgError, PgStore, Transaction};

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const EXEC_COLS: &str = "region, association_id, execution_id, association_version, slot_ms, \
     command_id, status, detailed_status, created_ms, last_update_ms, resource_counts_json";

fn execution_from_row(r: &Row) -> RowResult<AssociationExecutionRecord> {
    Ok(AssociationExecutionRecord {
        region: r.try_get(0)?,
        association_id: r.try_get(1)?,
        execution_id: r.try_get(2)?,
        association_version: r.try_get(3)?,
        slot_ms: r.try_get(4)?,
        command_id: r.try_get(5)?,
        status: r.try_get(6)?,
        detailed_status: r.try_get(7)?,
        created_ms: r.try_get(8)?,
        last_update_ms: r.try_get(9)?,
        resource_counts_json: r.try_get(10)?,
    })
}

fn select(
    store: &PgStore,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<AssociationExecutionRecord>> {
    Ok(store.with_client(async |client| {
        let statement = client.prepare_cached(sql).await?;
        let rows = client.query(&statement, params).await?;
        Ok(rows
            .iter()
            .map(execution_from_row)
            .collect::<RowResult<Vec<_>>>()?)
    })?)
}

/// What a firing checks before it writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Firing {
    /// A slot of the schedule (or a manual run): fires on whatever nodes it resolved.
    Slot,
    /// Nodes that newly match: fires only for the latest version, on nodes without it.
    NewNodes,
}

/// Write an execution's status and, when given, its association's run state.
pub(super) async fn write_execution(
    tx: &Transaction<'_>,
    e: &AssociationExecutionRecord,
    state: Option<&AssociationState>,
) -> std::result::Result<(), PgError> {
    tx.execute(
        "UPDATE association_executions SET status = $4, detailed_status = $5, \
                 last_update_ms = $6, resource_counts_json = $7 \
                 WHERE region = $1 AND association_id = $2 AND execution_id = $3",
        &[
            &e.region,
            &e.association_id,
            &e.execution_id,
            &e.status,
            &e.detailed_status,
            &e.last_update_ms,
            &e.resource_counts_json,
        ],
    )
    .await?;
    if let Some(s) = state {
        tx.execute(
            "UPDATE associations SET status_name = $3, status_message = $4, \
                     status_date_ms = $5, overview_status = $6, overview_detailed_status = $7, \
                     overview_counts_json = $8, last_execution_ms = $9, \
                     last_successful_execution_ms = $10 \
                     WHERE region = $1 AND association_id = $2",
            &[
                &e.region,
                &e.association_id,
                &s.status_name,
                &s.status_message,
                &s.status_date_ms,
                &s.overview_status,
                &s.overview_detailed_status,
                &s.overview_counts_json,
                &s.last_execution_ms,
                &s.last_successful_execution_ms,
            ],
        )
        .await?;
    }
    Ok(())
}

fn fire(
    store: &PgStore,
    e: &AssociationExecutionRecord,
    c: Option<NewCommand<'_>>,
    firing: Firing,
) -> Result<bool> {
    let account = store.event_account.get();
    Ok(store.transaction(async |tx| {
        let mut transitions = Transitions::default();
        let fired = fire_in(tx, e, c, firing, &mut transitions).await?;
        transitions.emit(tx, &account).await?;
        Ok(fired)
    })?)
}

/// Many slot firings in one transaction, in order; whether each fired. A firing that must not
/// happen returns before writing anything, so the others need no savepoint.
fn fire_batch(
    store: &PgStore,
    firings: &[(AssociationExecutionRecord, Option<NewCommand<'_>>)],
) -> Result<Vec<bool>> {
    let account = store.event_account.get();
    Ok(store.transaction(async |tx| {
        let mut fired = Vec::with_capacity(firings.len());
        // Events are appended once, after every firing: the outbox lock is taken last, never
        // held while the next firing waits for an association's row lock.
        let mut transitions = Transitions::default();
        for (e, c) in firings {
            fired.push(fire_in(tx, e, *c, Firing::Slot, &mut transitions).await?);
        }
        transitions.emit(tx, &account).await?;
        Ok(fired)
    })?)
}

/// One firing's checks and writes in `tx` (its command's events collected in `transitions`,
/// for the caller to append last); `false`, having written nothing, when it must not fire.
async fn fire_in(
    tx: &Transaction<'_>,
    e: &AssociationExecutionRecord,
    c: Option<NewCommand<'_>>,
    firing: Firing,
    transitions: &mut Transitions,
) -> std::result::Result<bool, PgError> {
    let plugins: Vec<&PluginRecord> = c.iter().flat_map(|c| c.plugins.iter()).collect();
    let nodes: Vec<&str> = c
        .iter()
        .flat_map(|c| c.invocations.iter().map(|i| i.instance_id.as_str()))
        .collect();
    let any_version = firing == Firing::Slot;
    // The row lock queues firings of one association, so the checks below see every
    // earlier firing's nodes.
    let exists = tx
        .query_opt(
            "SELECT 1 FROM associations WHERE region = $1 AND association_id = $2 \
             AND ($3 OR latest_version = $4) FOR NO KEY UPDATE",
            &[
                &e.region,
                &e.association_id,
                &any_version,
                &e.association_version,
            ],
        )
        .await?;
    if exists.is_none() {
        return Ok(false);
    }
    if firing == Firing::NewNodes {
        let had = tx
            .query_opt(
                "SELECT 1 FROM association_applied_nodes WHERE region = $1 \
                 AND association_id = $2 AND association_version = $3 \
                 AND instance_id = ANY($4) LIMIT 1",
                &[&e.region, &e.association_id, &e.association_version, &nodes],
            )
            .await?;
        if had.is_some() {
            return Ok(false);
        }
    }
    let inserted = tx
        .execute(
            &format!(
                "INSERT INTO association_executions ({EXEC_COLS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
            ),
            &[
                &e.region,
                &e.association_id,
                &e.execution_id,
                &e.association_version,
                &e.slot_ms,
                &e.command_id,
                &e.status,
                &e.detailed_status,
                &e.created_ms,
                &e.last_update_ms,
                &e.resource_counts_json,
            ],
        )
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    tx.execute(
        "UPDATE associations SET last_execution_ms = $3 \
         WHERE region = $1 AND association_id = $2",
        &[&e.region, &e.association_id, &e.created_ms],
    )
    .await?;
    tx.execute(
        "DELETE FROM association_applied_nodes WHERE region = $1 AND association_id = $2 \
         AND association_version < $3",
        &[&e.region, &e.association_id, &e.association_version],
    )
    .await?;
    if !nodes.is_empty() {
        tx.execute(
            "INSERT INTO association_applied_nodes (region, association_id, \
             association_version, instance_id, execution_id) \
             SELECT $1, $2, $3, node, $5 FROM UNNEST($4::text[]) AS node \
             ON CONFLICT DO NOTHING",
            &[
                &e.region,
                &e.association_id,
                &e.association_version,
                &nodes,
                &e.execution_id,
            ],
        )
        .await?;
    }
    if let Some(c) = c {
        insert_command(tx, c.command, c.invocations, &plugins, transitions).await?;
    }
    Ok(true)
}

impl AssociationRunStore for PgStore {
    fn fire_association(
        &self,
        e: &AssociationExecutionRecord,
        c: Option<NewCommand<'_>>,
    ) -> Result<bool> {
        fire(self, e, c, Firing::Slot)
    }

    fn fire_association_on_new_nodes(
        &self,
        e: &AssociationExecutionRecord,
        c: NewCommand<'_>,
    ) -> Result<bool> {
        fire(self, e, Some(c), Firing::NewNodes)
    }

    fn fire_associations(
        &self,
        firings: &[(AssociationExecutionRecord, Option<NewCommand<'_>>)],
    ) -> Result<Vec<bool>> {
        fire_batch(self, firings)
    }

    fn association_applied_nodes(
        &self,
        region: &str,
        association_id: &str,
        version: i64,
    ) -> Result<Vec<String>> {
        Ok(self.with_client(async |client| {
            let statement = client
                .prepare_cached(
                    "SELECT instance_id FROM association_applied_nodes WHERE region = $1 \
                     AND association_id = $2 AND association_version = $3 \
                     ORDER BY instance_id COLLATE \"C\"",
                )
                .await?;
            let rows = client
                .query(&statement, &[&region, &association_id, &version])
                .await?;
            Ok(rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<RowResult<Vec<String>>>()?)
        })?)
    }

    fn association_executions(
        &self,
        region: &str,
        association_id: &str,
        limit: usize,
    ) -> Result<Vec<AssociationExecutionRecord>> {
        select(
            self,
            &format!(
                "SELECT {EXEC_COLS} FROM association_executions \
                 WHERE region = $1 AND association_id = $2 ORDER BY slot_ms DESC LIMIT $3"
            ),
            &[&region, &association_id, &(limit as i64)],
        )
    }

    fn latest_association_slots(
        &self,
        region: &str,
        from_id: &str,
        to_id: &str,
    ) -> Result<Vec<(String, i64)>> {
        Ok(self.with_client(async |client| {
            let statement = client
                .prepare_cached(
                    "SELECT association_id, MAX(slot_ms) FROM association_executions \
                     WHERE region = $1 AND association_id COLLATE \"C\" >= $2 \
                     AND association_id COLLATE \"C\" <= $3 \
                     GROUP BY association_id ORDER BY association_id COLLATE \"C\"",
                )
                .await?;
            let rows = client
                .query(&statement, &[&region, &from_id, &to_id])
                .await?;
            Ok(rows
                .iter()
                .map(|r| Ok((r.try_get::<_, String>(0)?, r.try_get::<_, i64>(1)?)))
                .collect::<RowResult<Vec<(String, i64)>>>()?)
        })?)
    }

    fn open_association_executions(&self) -> Result<Vec<AssociationExecutionRecord>> {
        let [a, b] = OPEN_EXECUTION_STATUSES;
        select(
            self,
            &format!(
                "SELECT {EXEC_COLS} FROM association_executions WHERE status IN ($1, $2) \
                 ORDER BY created_ms, execution_id COLLATE \"C\""
            ),
            &[&a, &b],
        )
    }

    fn update_association_execution(
        &self,
        e: &AssociationExecutionRecord,
        state: Option<&AssociationState>,
    ) -> Result<()> {
        Ok(self.transaction(async |tx| write_execution(tx, e, state).await)?)
    }
}
