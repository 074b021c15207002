//! Executions of associations on PostgreSQL ([`bosun_store::AssociationRunStore`]).
//!
//! A firing locks the association's row first (`FOR NO KEY UPDATE`: firings of one association
//! queue, a concurrent deletion waits, and the later `last_execution_ms` write needs no lock
//! upgrade, which deadlocked under shared locks) and inserts the execution with
//! `ON CONFLICT DO NOTHING` on the unique (region, association, slot) index: of concurrent
//! firings of one slot exactly one inserts, and only that one creates the command, in the same
//! transaction.

use bosun_store::{
    AssociationExecutionRecord, AssociationRunStore, AssociationState, NewCommand, PluginRecord,
    Result, OPEN_EXECUTION_STATUSES,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

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

impl AssociationRunStore for PgStore {
    fn fire_association(
        &self,
        e: &AssociationExecutionRecord,
        c: Option<NewCommand<'_>>,
    ) -> Result<bool> {
        let plugins: Vec<&PluginRecord> = c.iter().flat_map(|c| c.plugins.iter()).collect();
        Ok(self.transaction(async |tx| {
            let exists = tx
                .query_opt(
                    "SELECT 1 FROM associations WHERE region = $1 AND association_id = $2 \
                     FOR NO KEY UPDATE",
                    &[&e.region, &e.association_id],
                )
                .await?;
            if exists.is_none() {
                return Ok(false);
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
            if let Some(c) = c {
                insert_command(tx, c.command, c.invocations, &plugins).await?;
            }
            Ok(true)
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
