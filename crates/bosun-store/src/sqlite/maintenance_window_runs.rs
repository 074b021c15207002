//! Maintenance window executions on SQLite: each change is one `IMMEDIATE` transaction on the
//! one writer connection, so a compare-and-set (`WHERE status = 'PENDING'`, `WHERE phase = ?`)
//! and the writes that depend on it cannot interleave with another writer. A write that ends an
//! execution, task or invocation appends its event (`crate::maintenance_window_events`) in the
//! same transaction, only when it lands.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::maintenance_window_events::{
    execution_events, execution_started_events, invocation_events, invocation_started_events,
    task_events, task_started_events,
};
use crate::maintenance_window_runs::{
    MaintenanceWindowRunStore, SlotFired, TaskExecutionRecord, TaskInvocationRecord,
    WindowExecutionRecord,
};
use crate::{NewCommand, Result};

const EXEC_COLS: &str = "region, window_id, window_execution_id, slot_ms, status, \
     status_details, start_ms, end_ms, cancel_requested, duration_hours, cutoff_hours";
const TASK_COLS: &str = "region, window_execution_id, task_execution_id, window_task_id, \
     task_arn, task_type, priority, max_concurrency, max_errors, cutoff_behavior, task_json, \
     status, status_details, stopping, start_ms, end_ms";
const INV_COLS: &str = "region, window_execution_id, task_execution_id, invocation_id, seq, \
     node_id, window_target_id, target_order, via, execution_id, parameters, \
     owner_information, phase, outcome, status, status_details, start_ms, end_ms";
const LIVE: &str = "('PENDING', 'IN_PROGRESS', 'CANCELLING')";

fn execution_from(r: &Row<'_>) -> rusqlite::Result<WindowExecutionRecord> {
    Ok(WindowExecutionRecord {
        region: r.get(0)?,
        window_id: r.get(1)?,
        window_execution_id: r.get(2)?,
        slot_ms: r.get(3)?,
        status: r.get(4)?,
        status_details: r.get(5)?,
        start_ms: r.get(6)?,
        end_ms: r.get(7)?,
        cancel_requested: r.get(8)?,
        duration_hours: r.get(9)?,
        cutoff_hours: r.get(10)?,
    })
}

fn task_from(r: &Row<'_>) -> rusqlite::Result<TaskExecutionRecord> {
    Ok(TaskExecutionRecord {
        region: r.get(0)?,
        window_execution_id: r.get(1)?,
        task_execution_id: r.get(2)?,
        window_task_id: r.get(3)?,
        task_arn: r.get(4)?,
        task_type: r.get(5)?,
        priority: r.get(6)?,
        max_concurrency: r.get(7)?,
        max_errors: r.get(8)?,
        cutoff_behavior: r.get(9)?,
        task_json: r.get(10)?,
        status: r.get(11)?,
        status_details: r.get(12)?,
        stopping: r.get(13)?,
        start_ms: r.get(14)?,
        end_ms: r.get(15)?,
    })
}

fn invocation_from(r: &Row<'_>) -> rusqlite::Result<TaskInvocationRecord> {
    Ok(TaskInvocationRecord {
        region: r.get(0)?,
        window_execution_id: r.get(1)?,
        task_execution_id: r.get(2)?,
        invocation_id: r.get(3)?,
        seq: r.get(4)?,
        node_id: r.get(5)?,
        window_target_id: r.get(6)?,
        target_order: r.get(7)?,
        via: r.get(8)?,
        execution_id: r.get(9)?,
        parameters: r.get(10)?,
        owner_information: r.get(11)?,
        phase: r.get(12)?,
        outcome: r.get(13)?,
        status: r.get(14)?,
        status_details: r.get(15)?,
        start_ms: r.get(16)?,
        end_ms: r.get(17)?,
    })
}

fn insert_execution(tx: &rusqlite::Connection, e: &WindowExecutionRecord) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO maintenance_window_executions ({EXEC_COLS}) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
        ),
        params![
            e.region,
            e.window_id,
            e.window_execution_id,
            e.slot_ms,
            e.status,
            e.status_details,
            e.start_ms,
            e.end_ms,
            e.cancel_requested,
            e.duration_hours,
            e.cutoff_hours
        ],
    )?;
    Ok(())
}

fn insert_task(tx: &rusqlite::Connection, t: &TaskExecutionRecord) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO maintenance_window_task_executions ({TASK_COLS}) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
        ),
        params![
            t.region,
            t.window_execution_id,
            t.task_execution_id,
            t.window_task_id,
            t.task_arn,
            t.task_type,
            t.priority,
            t.max_concurrency,
            t.max_errors,
            t.cutoff_behavior,
            t.task_json,
            t.status,
            t.status_details,
            t.stopping,
            t.start_ms,
            t.end_ms
        ],
    )?;
    Ok(())
}

fn insert_invocation(tx: &rusqlite::Connection, i: &TaskInvocationRecord) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO maintenance_window_task_invocations ({INV_COLS}) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)"
        ),
        params![
            i.region,
            i.window_execution_id,
            i.task_execution_id,
            i.invocation_id,
            i.seq,
            i.node_id,
            i.window_target_id,
            i.target_order,
            i.via,
            i.execution_id,
            i.parameters,
            i.owner_information,
            i.phase,
            i.outcome,
            i.status,
            i.status_details,
            i.start_ms,
            i.end_ms
        ],
    )?;
    Ok(())
}

/// Write an invocation's mutable columns while its phase is `expected`; rows changed.
fn write_invocation(
    tx: &rusqlite::Connection,
    i: &TaskInvocationRecord,
    expected: &str,
) -> rusqlite::Result<usize> {
    tx.execute(
        "UPDATE maintenance_window_task_invocations SET execution_id = ?5, parameters = ?6, \
         phase = ?7, outcome = ?8, status = ?9, status_details = ?10, start_ms = ?11, \
         end_ms = ?12 WHERE region = ?1 AND window_execution_id = ?2 \
         AND task_execution_id = ?3 AND invocation_id = ?4 AND phase = ?13",
        params![
            i.region,
            i.window_execution_id,
            i.task_execution_id,
            i.invocation_id,
            i.execution_id,
            i.parameters,
            i.phase,
            i.outcome,
            i.status,
            i.status_details,
            i.start_ms,
            i.end_ms,
            expected
        ],
    )
}

/// The window of execution `window_execution_id` (for the events of its tasks and invocations).
fn window_of(
    tx: &rusqlite::Connection,
    region: &str,
    window_execution_id: &str,
) -> rusqlite::Result<String> {
    Ok(tx
        .prepare_cached(
            "SELECT window_id FROM maintenance_window_executions \
             WHERE region = ?1 AND window_execution_id = ?2",
        )?
        .query_row(params![region, window_execution_id], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

/// Append the events of task `t`'s write, which landed.
fn append_task_events(
    store: &SqliteStore,
    tx: &rusqlite::Connection,
    t: &TaskExecutionRecord,
    started: bool,
) -> rusqlite::Result<()> {
    let now = crate::event_outbox::now_ms();
    let window_id = window_of(tx, &t.region, &t.window_execution_id)?;
    let account = store.event_account.get();
    let events = if started {
        task_started_events(&account, now, &window_id, t)
    } else {
        task_events(&account, now, &window_id, t)
    };
    super::event_outbox::append(tx, &events, now)
}

/// Write a task's mutable columns while its status is one of `statuses` (SQL list).
fn write_task(
    tx: &rusqlite::Connection,
    t: &TaskExecutionRecord,
    statuses: &str,
) -> rusqlite::Result<usize> {
    tx.execute(
        &format!(
            "UPDATE maintenance_window_task_executions SET status = ?4, status_details = ?5, \
             stopping = ?6, start_ms = ?7, end_ms = ?8 WHERE region = ?1 \
             AND window_execution_id = ?2 AND task_execution_id = ?3 AND status IN {statuses}"
        ),
        params![
            t.region,
            t.window_execution_id,
            t.task_execution_id,
            t.status,
            t.status_details,
            t.stopping,
            t.start_ms,
            t.end_ms
        ],
    )
}

impl MaintenanceWindowRunStore for SqliteStore {
    fn fire_window_slot(
        &self,
        run: &WindowExecutionRecord,
        tasks: &[TaskExecutionRecord],
        skipped: &WindowExecutionRecord,
    ) -> Result<SlotFired> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let window = tx
            .prepare_cached(
                "SELECT 1 FROM maintenance_windows WHERE region = ?1 AND window_id = ?2",
            )?
            .exists(params![run.region, run.window_id])?;
        let taken = !window
            || tx
                .prepare_cached(
                    "SELECT 1 FROM maintenance_window_executions \
                 WHERE region = ?1 AND window_id = ?2 AND slot_ms = ?3",
                )?
                .exists(params![run.region, run.window_id, run.slot_ms])?;
        if taken {
            return Ok(SlotFired::SlotTaken);
        }
        let live = tx
            .prepare_cached(&format!(
                "SELECT 1 FROM maintenance_window_executions \
                 WHERE region = ?1 AND window_id = ?2 AND status IN {LIVE}"
            ))?
            .exists(params![run.region, run.window_id])?;
        let fired = if live {
            insert_execution(&tx, skipped)?;
            let now = crate::event_outbox::now_ms();
            let events = execution_events(&self.event_account.get(), now, skipped);
            super::event_outbox::append(&tx, &events, now)?;
            SlotFired::Skipped
        } else {
            insert_execution(&tx, run)?;
            for t in tasks {
                insert_task(&tx, t)?;
            }
            let now = crate::event_outbox::now_ms();
            let events = execution_started_events(&self.event_account.get(), now, run);
            super::event_outbox::append(&tx, &events, now)?;
            SlotFired::Started
        };
        tx.commit()?;
        Ok(fired)
    }

    fn latest_window_slots(&self, region: &str) -> Result<Vec<(String, i64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT window_id, MAX(slot_ms) FROM maintenance_window_executions \
             WHERE region = ?1 GROUP BY window_id",
        )?;
        let rows = stmt.query_map(params![region], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn open_window_executions(&self) -> Result<Vec<WindowExecutionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EXEC_COLS} FROM maintenance_window_executions WHERE status IN {LIVE} \
             ORDER BY start_ms, window_execution_id"
        ))?;
        let rows = stmt.query_map([], execution_from)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn get_window_execution(
        &self,
        region: &str,
        window_execution_id: &str,
    ) -> Result<Option<WindowExecutionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EXEC_COLS} FROM maintenance_window_executions \
             WHERE region = ?1 AND window_execution_id = ?2"
        ))?;
        Ok(stmt
            .query_row(params![region, window_execution_id], execution_from)
            .optional()?)
    }

    fn window_executions(
        &self,
        region: &str,
        window_id: &str,
    ) -> Result<Vec<WindowExecutionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EXEC_COLS} FROM maintenance_window_executions \
             WHERE region = ?1 AND window_id = ?2 \
             ORDER BY start_ms DESC, slot_ms DESC, window_execution_id"
        ))?;
        let rows = stmt.query_map(params![region, window_id], execution_from)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn update_window_execution(&self, e: &WindowExecutionRecord) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            &format!(
                "UPDATE maintenance_window_executions SET status = ?3, status_details = ?4, \
                 end_ms = ?5 WHERE region = ?1 AND window_execution_id = ?2 \
                 AND status IN {LIVE}"
            ),
            params![
                e.region,
                e.window_execution_id,
                e.status,
                e.status_details,
                e.end_ms
            ],
        )?;
        if n == 1 {
            let now = crate::event_outbox::now_ms();
            let events = execution_events(&self.event_account.get(), now, e);
            super::event_outbox::append(&tx, &events, now)?;
            tx.commit()?;
        }
        Ok(n == 1)
    }

    fn prune_window_executions(&self, before_ms: i64) -> Result<u64> {
        let conn = self.conn();
        // Each window's latest slot stays: it anchors the window's next slot.
        let sql = format!(
            "DELETE FROM maintenance_window_executions WHERE status NOT IN {LIVE} \
             AND end_ms < ?1 AND slot_ms < (SELECT MAX(l.slot_ms) \
             FROM maintenance_window_executions l \
             WHERE l.region = maintenance_window_executions.region \
             AND l.window_id = maintenance_window_executions.window_id)"
        );
        // Task executions and invocations go with it (ON DELETE CASCADE).
        let n = conn.execute(&sql, params![before_ms])?;
        Ok(n as u64)
    }

    fn cancel_window_execution(&self, region: &str, window_execution_id: &str) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute(
            &format!(
                "UPDATE maintenance_window_executions SET cancel_requested = 1 \
                 WHERE region = ?1 AND window_execution_id = ?2 AND status IN {LIVE}"
            ),
            params![region, window_execution_id],
        )?;
        Ok(n == 1)
    }

    fn task_executions(
        &self,
        region: &str,
        window_execution_id: &str,
    ) -> Result<Vec<TaskExecutionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {TASK_COLS} FROM maintenance_window_task_executions \
             WHERE region = ?1 AND window_execution_id = ?2 \
             ORDER BY priority, window_task_id"
        ))?;
        let rows = stmt.query_map(params![region, window_execution_id], task_from)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn start_window_task(
        &self,
        t: &TaskExecutionRecord,
        invocations: &[TaskInvocationRecord],
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if write_task(&tx, t, "('PENDING')")? == 0 {
            return Ok(false);
        }
        for i in invocations {
            insert_invocation(&tx, i)?;
        }
        append_task_events(self, &tx, t, true)?;
        tx.commit()?;
        Ok(true)
    }

    fn update_window_task(&self, t: &TaskExecutionRecord) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if write_task(&tx, t, LIVE)? != 1 {
            return Ok(false);
        }
        append_task_events(self, &tx, t, false)?;
        tx.commit()?;
        Ok(true)
    }

    fn task_invocations(
        &self,
        region: &str,
        window_execution_id: &str,
        task_execution_id: &str,
    ) -> Result<Vec<TaskInvocationRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {INV_COLS} FROM maintenance_window_task_invocations \
             WHERE region = ?1 AND window_execution_id = ?2 AND task_execution_id = ?3 \
             ORDER BY seq"
        ))?;
        let rows = stmt.query_map(
            params![region, window_execution_id, task_execution_id],
            invocation_from,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn send_task_invocation(
        &self,
        inv: &TaskInvocationRecord,
        command: NewCommand<'_>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if write_invocation(&tx, inv, "Waiting")? == 0 {
            return Ok(false);
        }
        let account = self.event_account.get();
        super::commands::insert_command(
            &tx,
            command.command,
            command.invocations,
            command.plugins,
            &account,
        )?;
        let now = crate::event_outbox::now_ms();
        let window_id = window_of(&tx, &inv.region, &inv.window_execution_id)?;
        let events = invocation_started_events(&account, now, &window_id, inv);
        super::event_outbox::append(&tx, &events, now)?;
        tx.commit()?;
        Ok(true)
    }

    fn update_task_invocation(
        &self,
        inv: &TaskInvocationRecord,
        expected_phase: &str,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if write_invocation(&tx, inv, expected_phase)? != 1 {
            return Ok(false);
        }
        let now = crate::event_outbox::now_ms();
        let window_id = window_of(&tx, &inv.region, &inv.window_execution_id)?;
        let events = invocation_events(
            &self.event_account.get(),
            now,
            &window_id,
            inv,
            expected_phase,
        );
        super::event_outbox::append(&tx, &events, now)?;
        tx.commit()?;
        Ok(true)
    }
}
