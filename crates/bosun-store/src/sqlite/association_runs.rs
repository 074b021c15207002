//! Executions of associations on SQLite: a firing runs in an `IMMEDIATE` transaction whose
//! `INSERT ... ON CONFLICT DO NOTHING` on the unique slot decides whether it creates the
//! command.

use rusqlite::{params, Row};

use super::SqliteStore;
use crate::association_runs::{
    AssociationExecutionRecord, AssociationRunStore, NewCommand, OPEN_EXECUTION_STATUSES,
};
use crate::{AssociationState, Result};

const EXEC_COLS: &str = "region, association_id, execution_id, association_version, slot_ms, \
     command_id, status, detailed_status, created_ms, last_update_ms, resource_counts_json";

fn execution_from_row(r: &Row) -> rusqlite::Result<AssociationExecutionRecord> {
    Ok(AssociationExecutionRecord {
        region: r.get(0)?,
        association_id: r.get(1)?,
        execution_id: r.get(2)?,
        association_version: r.get(3)?,
        slot_ms: r.get(4)?,
        command_id: r.get(5)?,
        status: r.get(6)?,
        detailed_status: r.get(7)?,
        created_ms: r.get(8)?,
        last_update_ms: r.get(9)?,
        resource_counts_json: r.get(10)?,
    })
}

/// Write an execution's status and, when given, its association's run state.
pub(super) fn write_execution(
    tx: &rusqlite::Transaction<'_>,
    e: &AssociationExecutionRecord,
    state: Option<&AssociationState>,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE association_executions SET status = ?4, detailed_status = ?5, \
         last_update_ms = ?6, resource_counts_json = ?7 \
         WHERE region = ?1 AND association_id = ?2 AND execution_id = ?3",
        params![
            e.region,
            e.association_id,
            e.execution_id,
            e.status,
            e.detailed_status,
            e.last_update_ms,
            e.resource_counts_json
        ],
    )?;
    if let Some(s) = state {
        tx.execute(
            "UPDATE associations SET status_name = ?3, status_message = ?4, \
         status_date_ms = ?5, overview_status = ?6, overview_detailed_status = ?7, \
         overview_counts_json = ?8, last_execution_ms = ?9, \
         last_successful_execution_ms = ?10 WHERE region = ?1 AND association_id = ?2",
            params![
                e.region,
                e.association_id,
                s.status_name,
                s.status_message,
                s.status_date_ms,
                s.overview_status,
                s.overview_detailed_status,
                s.overview_counts_json,
                s.last_execution_ms,
                s.last_successful_execution_ms
            ],
        )?;
    }
    Ok(())
}

/// What a firing checks before it writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Firing {
    /// A slot of the schedule (or a manual run): fires on whatever nodes it resolved.
    Slot,
    /// Nodes that newly match: fires only for the latest version, on nodes without it.
    NewNodes,
}

impl SqliteStore {
    fn fire(
        &self,
        e: &AssociationExecutionRecord,
        c: Option<NewCommand<'_>>,
        firing: Firing,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // `false` leaves writes behind: dropping the transaction rolls them back.
        if !self.fire_in(&tx, e, c, firing)? {
            return Ok(false);
        }
        tx.commit()?;
        Ok(true)
    }

    /// One firing's checks and writes on `tx` (a transaction or a savepoint); `false` when it
    /// must not fire, possibly after writes that the caller rolls back.
    fn fire_in(
        &self,
        tx: &rusqlite::Connection,
        e: &AssociationExecutionRecord,
        c: Option<NewCommand<'_>>,
        firing: Firing,
    ) -> Result<bool> {
        let touched = tx.execute(
            "UPDATE associations SET last_execution_ms = ?3 WHERE region = ?1 \
             AND association_id = ?2 AND (?4 OR latest_version = ?5)",
            params![
                e.region,
                e.association_id,
                e.created_ms,
                firing == Firing::Slot,
                e.association_version
            ],
        )?;
        if touched == 0 {
            return Ok(false);
        }
        let nodes: Vec<&str> = c
            .iter()
            .flat_map(|c| c.invocations.iter().map(|i| i.instance_id.as_str()))
            .collect();
        if firing == Firing::NewNodes {
            let mut had = tx.prepare_cached(
                "SELECT 1 FROM association_applied_nodes WHERE region = ?1 \
                 AND association_id = ?2 AND association_version = ?3 AND instance_id = ?4",
            )?;
            for node in &nodes {
                if had.exists(params![
                    e.region,
                    e.association_id,
                    e.association_version,
                    node
                ])? {
                    return Ok(false);
                }
            }
        }
        let inserted = tx.execute(
            &format!(
                "INSERT INTO association_executions ({EXEC_COLS}) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) ON CONFLICT DO NOTHING"
            ),
            params![
                e.region,
                e.association_id,
                e.execution_id,
                e.association_version,
                e.slot_ms,
                e.command_id,
                e.status,
                e.detailed_status,
                e.created_ms,
                e.last_update_ms,
                e.resource_counts_json
            ],
        )?;
        if inserted == 0 {
            // Dropping the transaction rolls back the `last_execution_ms` change.
            return Ok(false);
        }
        tx.execute(
            "DELETE FROM association_applied_nodes WHERE region = ?1 AND association_id = ?2 \
             AND association_version < ?3",
            params![e.region, e.association_id, e.association_version],
        )?;
        {
            let mut applied = tx.prepare_cached(
                "INSERT INTO association_applied_nodes (region, association_id, \
                 association_version, instance_id, execution_id) VALUES (?1,?2,?3,?4,?5) \
                 ON CONFLICT DO NOTHING",
            )?;
            for node in &nodes {
                applied.execute(params![
                    e.region,
                    e.association_id,
                    e.association_version,
                    node,
                    e.execution_id
                ])?;
            }
        }
        if let Some(c) = c {
            let account = self.event_account.get();
            super::commands::insert_command(tx, c.command, c.invocations, c.plugins, &account)?;
        }
        Ok(true)
    }

    /// Many slot firings in one `IMMEDIATE` transaction, each in a savepoint of its own so a
    /// firing that must not happen rolls back alone.
    fn fire_batch(
        &self,
        firings: &[(AssociationExecutionRecord, Option<NewCommand<'_>>)],
    ) -> Result<Vec<bool>> {
        let mut conn = self.conn();
        let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut fired = Vec::with_capacity(firings.len());
        for (e, c) in firings {
            let savepoint = tx.savepoint()?;
            let this = self.fire_in(&savepoint, e, *c, Firing::Slot)?;
            if this {
                savepoint.commit()?;
            }
            fired.push(this);
        }
        tx.commit()?;
        Ok(fired)
    }
}

impl AssociationRunStore for SqliteStore {
    fn fire_association(
        &self,
        e: &AssociationExecutionRecord,
        c: Option<NewCommand<'_>>,
    ) -> Result<bool> {
        self.fire(e, c, Firing::Slot)
    }

    fn fire_association_on_new_nodes(
        &self,
        e: &AssociationExecutionRecord,
        c: NewCommand<'_>,
    ) -> Result<bool> {
        self.fire(e, Some(c), Firing::NewNodes)
    }

    fn fire_associations(
        &self,
        firings: &[(AssociationExecutionRecord, Option<NewCommand<'_>>)],
    ) -> Result<Vec<bool>> {
        self.fire_batch(firings)
    }

    fn association_applied_nodes(
        &self,
        region: &str,
        association_id: &str,
        version: i64,
    ) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT instance_id FROM association_applied_nodes WHERE region = ?1 \
                 AND association_id = ?2 AND association_version = ?3 ORDER BY instance_id",
            )?;
            let rows = stmt.query_map(params![region, association_id, version], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn association_executions(
        &self,
        region: &str,
        association_id: &str,
        limit: usize,
    ) -> Result<Vec<AssociationExecutionRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {EXEC_COLS} FROM association_executions \
                 WHERE region = ?1 AND association_id = ?2 ORDER BY slot_ms DESC LIMIT ?3"
            ))?;
            let rows = stmt.query_map(
                params![region, association_id, limit as i64],
                execution_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn latest_association_slots(
        &self,
        region: &str,
        from_id: &str,
        to_id: &str,
    ) -> Result<Vec<(String, i64)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT association_id, MAX(slot_ms) FROM association_executions \
                 WHERE region = ?1 AND association_id >= ?2 AND association_id <= ?3 \
                 GROUP BY association_id ORDER BY association_id",
            )?;
            let rows = stmt.query_map(params![region, from_id, to_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn open_association_executions(&self) -> Result<Vec<AssociationExecutionRecord>> {
        let [a, b] = OPEN_EXECUTION_STATUSES;
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {EXEC_COLS} FROM association_executions WHERE status IN (?1, ?2) \
                 ORDER BY created_ms, execution_id"
            ))?;
            let rows = stmt.query_map(params![a, b], execution_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn update_association_execution(
        &self,
        e: &AssociationExecutionRecord,
        state: Option<&AssociationState>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        write_execution(&tx, e, state)?;
        tx.commit()?;
        Ok(())
    }
}
