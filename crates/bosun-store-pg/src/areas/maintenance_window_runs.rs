//! Maintenance window executions on PostgreSQL ([`bosun_store::MaintenanceWindowRunStore`]).
//!
//! Rules for READ COMMITTED: firing a slot locks the window's row first (`FOR NO KEY UPDATE`),
//! so firings of one window queue and each sees the executions the previous one committed (the
//! overlap check); the unique (region, window, slot) index is the last word on a slot. Every
//! compare-and-set is one `UPDATE … WHERE status/phase = expected`: a concurrent writer of the
//! same row waits for the first and then re-checks the condition, so only one wins; the writes
//! that depend on it (invocations, the command) are in the same transaction, before the
//! command's events, which are appended last. A write that ends an execution, task or
//! invocation appends its event (`bosun_store::maintenance_window_events`) last in the same
//! transaction, only when it lands.

use bosun_store::maintenance_window_events::{
    execution_events, execution_started_events, invocation_events, invocation_started_events,
    task_events, task_started_events,
};
use bosun_store::{
    MaintenanceWindowRunStore, NewCommand, PluginRecord, Result, SlotFired, TaskExecutionRecord,
    TaskInvocationRecord, WindowExecutionRecord,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::command_events::Transitions;
use super::commands::insert_command;
use crate::{PgError, PgStore, Transaction};

const EXEC_COLS: &str = "region, window_id, window_execution_id, slot_ms, status, \
     status_details, start_ms, end_ms, cancel_requested, duration_hours, cutoff_hours";
const TASK_COLS: &str = "region, window_execution_id, task_execution_id, window_task_id, \
     task_arn, task_type, priority, max_concurrency, max_errors, cutoff_behavior, task_json, \
     status, status_details, stopping, start_ms, end_ms";
const INV_COLS: &str = "region, window_execution_id, task_execution_id, invocation_id, seq, \
     node_id, window_target_id, target_order, via, execution_id, parameters, \
     owner_information, phase, outcome, status, status_details, start_ms, end_ms";
const LIVE: &str = "('PENDING', 'IN_PROGRESS', 'CANCELLING')";

fn execution_from(r: &Row) -> WindowExecutionRecord {
    WindowExecutionRecord {
        region: r.get(0),
        window_id: r.get(1),
        window_execution_id: r.get(2),
        slot_ms: r.get(3),
        status: r.get(4),
        status_details: r.get(5),
        start_ms: r.get(6),
        end_ms: r.get(7),
        cancel_requested: r.get(8),
        duration_hours: r.get(9),
        cutoff_hours: r.get(10),
    }
}

fn task_from(r: &Row) -> TaskExecutionRecord {
    TaskExecutionRecord {
        region: r.get(0),
        window_execution_id: r.get(1),
        task_execution_id: r.get(2),
        window_task_id: r.get(3),
        task_arn: r.get(4),
        task_type: r.get(5),
        priority: r.get(6),
        max_concurrency: r.get(7),
        max_errors: r.get(8),
        cutoff_behavior: r.get(9),
        task_json: r.get(10),
        status: r.get(11),
        status_details: r.get(12),
        stopping: r.get(13),
        start_ms: r.get(14),
        end_ms: r.get(15),
    }
}

fn invocation_from(r: &Row) -> TaskInvocationRecord {
    TaskInvocationRecord {
        region: r.get(0),
        window_execution_id: r.get(1),
        task_execution_id: r.get(2),
        invocation_id: r.get(3),
        seq: r.get(4),
        node_id: r.get(5),
        window_target_id: r.get(6),
        target_order: r.get(7),
        via: r.get(8),
        execution_id: r.get(9),
        parameters: r.get(10),
        owner_information: r.get(11),
        phase: r.get(12),
        outcome: r.get(13),
        status: r.get(14),
        status_details: r.get(15),
        start_ms: r.get(16),
        end_ms: r.get(17),
    }
}

fn select<T>(
    store: &PgStore,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    map: fn(&Row) -> T,
) -> Result<Vec<T>> {
    Ok(store.with_client(async |client| {
        let statement = client.prepare_cached(sql).await?;
        let rows = client.query(&statement, params).await?;
        Ok(rows.iter().map(map).collect())
    })?)
}

async fn insert_execution(
    tx: &Transaction<'_>,
    e: &WindowExecutionRecord,
) -> std::result::Result<u64, PgError> {
    Ok(tx
        .execute(
            &format!(
                "INSERT INTO maintenance_window_executions ({EXEC_COLS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
            ),
            &[
                &e.region,
                &e.window_id,
                &e.window_execution_id,
                &e.slot_ms,
                &e.status,
                &e.status_details,
                &e.start_ms,
                &e.end_ms,
                &e.cancel_requested,
                &e.duration_hours,
                &e.cutoff_hours,
            ],
        )
        .await?)
}

async fn insert_task(
    tx: &Transaction<'_>,
    t: &TaskExecutionRecord,
) -> std::result::Result<(), PgError> {
    tx.execute(
        &format!(
            "INSERT INTO maintenance_window_task_executions ({TASK_COLS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ),
        &[
            &t.region,
            &t.window_execution_id,
            &t.task_execution_id,
            &t.window_task_id,
            &t.task_arn,
            &t.task_type,
            &t.priority,
            &t.max_concurrency,
            &t.max_errors,
            &t.cutoff_behavior,
            &t.task_json,
            &t.status,
            &t.status_details,
            &t.stopping,
            &t.start_ms,
            &t.end_ms,
        ],
    )
    .await?;
    Ok(())
}

async fn insert_invocation(
    tx: &Transaction<'_>,
    i: &TaskInvocationRecord,
) -> std::result::Result<(), PgError> {
    tx.execute(
        &format!(
            "INSERT INTO maintenance_window_task_invocations ({INV_COLS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ),
        &[
            &i.region,
            &i.window_execution_id,
            &i.task_execution_id,
            &i.invocation_id,
            &i.seq,
            &i.node_id,
            &i.window_target_id,
            &i.target_order,
            &i.via,
            &i.execution_id,
            &i.parameters,
            &i.owner_information,
            &i.phase,
            &i.outcome,
            &i.status,
            &i.status_details,
            &i.start_ms,
            &i.end_ms,
        ],
    )
    .await?;
    Ok(())
}

const WRITE_INVOCATION: &str = "UPDATE maintenance_window_task_invocations SET \
     execution_id = $5, parameters = $6, phase = $7, outcome = $8, status = $9, \
     status_details = $10, start_ms = $11, end_ms = $12 WHERE region = $1 \
     AND window_execution_id = $2 AND task_execution_id = $3 AND invocation_id = $4 \
     AND phase = $13";

fn invocation_params<'a>(
    i: &'a TaskInvocationRecord,
    expected: &'a &'a str,
) -> [&'a (dyn ToSql + Sync); 13] {
    [
        &i.region,
        &i.window_execution_id,
        &i.task_execution_id,
        &i.invocation_id,
        &i.execution_id,
        &i.parameters,
        &i.phase,
        &i.outcome,
        &i.status,
        &i.status_details,
        &i.start_ms,
        &i.end_ms,
        expected,
    ]
}

fn write_task_sql(statuses: &str) -> String {
    format!(
        "UPDATE maintenance_window_task_executions SET status = $4, status_details = $5, \
         stopping = $6, start_ms = $7, end_ms = $8 WHERE region = $1 \
         AND window_execution_id = $2 AND task_execution_id = $3 AND status IN {statuses}"
    )
}

fn task_params(t: &TaskExecutionRecord) -> [&(dyn ToSql + Sync); 8] {
    [
        &t.region,
        &t.window_execution_id,
        &t.task_execution_id,
        &t.status,
        &t.status_details,
        &t.stopping,
        &t.start_ms,
        &t.end_ms,
    ]
}

/// The window of execution `window_execution_id` (for the events of its tasks and invocations).
async fn window_of(
    tx: &Transaction<'_>,
    region: &str,
    window_execution_id: &str,
) -> std::result::Result<String, PgError> {
    Ok(tx
        .query_opt(
            "SELECT window_id FROM maintenance_window_executions \
             WHERE region = $1 AND window_execution_id = $2",
            &[&region, &window_execution_id],
        )
        .await?
        .map(|r| r.get(0))
        .unwrap_or_default())
}

/// Append the events of task `t`'s write, which landed.
async fn append_task_events(
    tx: &Transaction<'_>,
    account: &str,
    t: &TaskExecutionRecord,
    started: bool,
) -> std::result::Result<(), PgError> {
    let now = bosun_store::now_ms();
    let window_id = window_of(tx, &t.region, &t.window_execution_id).await?;
    let events = if started {
        task_started_events(account, now, &window_id, t)
    } else {
        task_events(account, now, &window_id, t)
    };
    super::event_outbox::append(tx, &events, now).await
}

impl MaintenanceWindowRunStore for PgStore {
    fn fire_window_slot(
        &self,
        run: &WindowExecutionRecord,
        tasks: &[TaskExecutionRecord],
        skipped: &WindowExecutionRecord,
    ) -> Result<SlotFired> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let window = tx
                .query_opt(
                    "SELECT 1 FROM maintenance_windows WHERE region = $1 AND window_id = $2 \
                     FOR NO KEY UPDATE",
                    &[&run.region, &run.window_id],
                )
                .await?;
            if window.is_none() {
                return Ok(SlotFired::SlotTaken);
            }
            let live = tx
                .query_opt(
                    &format!(
                        "SELECT 1 FROM maintenance_window_executions WHERE region = $1 \
                         AND window_id = $2 AND status IN {LIVE} LIMIT 1"
                    ),
                    &[&run.region, &run.window_id],
                )
                .await?
                .is_some();
            let record = if live { skipped } else { run };
            if insert_execution(tx, record).await? == 0 {
                return Ok(SlotFired::SlotTaken);
            }
            if live {
                let now = bosun_store::now_ms();
                let events = execution_events(&account, now, skipped);
                super::event_outbox::append(tx, &events, now).await?;
                return Ok(SlotFired::Skipped);
            }
            for t in tasks {
                insert_task(tx, t).await?;
            }
            let now = bosun_store::now_ms();
            let events = execution_started_events(&account, now, run);
            super::event_outbox::append(tx, &events, now).await?;
            Ok(SlotFired::Started)
        })?)
    }

    fn latest_window_slots(&self, region: &str) -> Result<Vec<(String, i64)>> {
        select(
            self,
            "SELECT window_id, MAX(slot_ms) FROM maintenance_window_executions \
             WHERE region = $1 GROUP BY window_id",
            &[&region],
            |r| (r.get(0), r.get(1)),
        )
    }

    fn open_window_executions(&self) -> Result<Vec<WindowExecutionRecord>> {
        select(
            self,
            &format!(
                "SELECT {EXEC_COLS} FROM maintenance_window_executions WHERE status IN {LIVE} \
                 ORDER BY start_ms, window_execution_id COLLATE \"C\""
            ),
            &[],
            execution_from,
        )
    }

    fn get_window_execution(
        &self,
        region: &str,
        window_execution_id: &str,
    ) -> Result<Option<WindowExecutionRecord>> {
        Ok(select(
            self,
            &format!(
                "SELECT {EXEC_COLS} FROM maintenance_window_executions \
                 WHERE region = $1 AND window_execution_id = $2"
            ),
            &[&region, &window_execution_id],
            execution_from,
        )?
        .pop())
    }

    fn window_executions(
        &self,
        region: &str,
        window_id: &str,
    ) -> Result<Vec<WindowExecutionRecord>> {
        select(
            self,
            &format!(
                "SELECT {EXEC_COLS} FROM maintenance_window_executions \
                 WHERE region = $1 AND window_id = $2 \
                 ORDER BY start_ms DESC, slot_ms DESC, window_execution_id COLLATE \"C\""
            ),
            &[&region, &window_id],
            execution_from,
        )
    }

    fn update_window_execution(&self, e: &WindowExecutionRecord) -> Result<bool> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let n = tx
                .execute(
                    &format!(
                        "UPDATE maintenance_window_executions SET status = $3, \
                         status_details = $4, end_ms = $5 WHERE region = $1 \
                         AND window_execution_id = $2 AND status IN {LIVE}"
                    ),
                    &[
                        &e.region,
                        &e.window_execution_id,
                        &e.status,
                        &e.status_details,
                        &e.end_ms,
                    ],
                )
                .await?;
            if n == 1 {
                let now = bosun_store::now_ms();
                let events = execution_events(&account, now, e);
                super::event_outbox::append(tx, &events, now).await?;
            }
            Ok(n == 1)
        })?)
    }

    fn prune_window_executions(&self, before_ms: i64) -> Result<u64> {
        // Each window's latest slot stays: it anchors the window's next slot.
        let sql = format!(
            "DELETE FROM maintenance_window_executions WHERE status NOT IN {LIVE} \
             AND end_ms < $1 AND slot_ms < (SELECT MAX(l.slot_ms) \
             FROM maintenance_window_executions l \
             WHERE l.region = maintenance_window_executions.region \
             AND l.window_id = maintenance_window_executions.window_id)"
        );
        // Task executions and invocations go with it (ON DELETE CASCADE).
        Ok(self.with_client(async |c| Ok(c.execute(&sql, &[&before_ms]).await?))?)
    }

    fn cancel_window_execution(&self, region: &str, window_execution_id: &str) -> Result<bool> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    &format!(
                        "UPDATE maintenance_window_executions SET cancel_requested = TRUE \
                         WHERE region = $1 AND window_execution_id = $2 AND status IN {LIVE}"
                    ),
                    &[&region, &window_execution_id],
                )
                .await?;
            Ok(n == 1)
        })?)
    }

    fn task_executions(
        &self,
        region: &str,
        window_execution_id: &str,
    ) -> Result<Vec<TaskExecutionRecord>> {
        select(
            self,
            &format!(
                "SELECT {TASK_COLS} FROM maintenance_window_task_executions \
                 WHERE region = $1 AND window_execution_id = $2 \
                 ORDER BY priority, window_task_id COLLATE \"C\""
            ),
            &[&region, &window_execution_id],
            task_from,
        )
    }

    fn start_window_task(
        &self,
        t: &TaskExecutionRecord,
        invocations: &[TaskInvocationRecord],
    ) -> Result<bool> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let n = tx
                .execute(&write_task_sql("('PENDING')"), &task_params(t))
                .await?;
            if n == 0 {
                return Ok(false);
            }
            for i in invocations {
                insert_invocation(tx, i).await?;
            }
            append_task_events(tx, &account, t, true).await?;
            Ok(true)
        })?)
    }

    fn update_window_task(&self, t: &TaskExecutionRecord) -> Result<bool> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if tx.execute(&write_task_sql(LIVE), &task_params(t)).await? != 1 {
                return Ok(false);
            }
            append_task_events(tx, &account, t, false).await?;
            Ok(true)
        })?)
    }

    fn task_invocations(
        &self,
        region: &str,
        window_execution_id: &str,
        task_execution_id: &str,
    ) -> Result<Vec<TaskInvocationRecord>> {
        select(
            self,
            &format!(
                "SELECT {INV_COLS} FROM maintenance_window_task_invocations \
                 WHERE region = $1 AND window_execution_id = $2 AND task_execution_id = $3 \
                 ORDER BY seq"
            ),
            &[&region, &window_execution_id, &task_execution_id],
            invocation_from,
        )
    }

    fn send_task_invocation(
        &self,
        inv: &TaskInvocationRecord,
        command: NewCommand<'_>,
    ) -> Result<bool> {
        let account = self.event_account.get();
        let plugins: Vec<&PluginRecord> = command.plugins.iter().collect();
        Ok(self.transaction(async |tx| {
            let n = tx
                .execute(WRITE_INVOCATION, &invocation_params(inv, &"Waiting"))
                .await?;
            if n == 0 {
                return Ok(false);
            }
            let mut transitions = Transitions::default();
            insert_command(
                tx,
                command.command,
                command.invocations,
                &plugins,
                &mut transitions,
            )
            .await?;
            let now = bosun_store::now_ms();
            let window_id = window_of(tx, &inv.region, &inv.window_execution_id).await?;
            transitions.emit(tx, &account).await?;
            let events = invocation_started_events(&account, now, &window_id, inv);
            super::event_outbox::append(tx, &events, now).await?;
            Ok(true)
        })?)
    }

    fn update_task_invocation(
        &self,
        inv: &TaskInvocationRecord,
        expected_phase: &str,
    ) -> Result<bool> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let n = tx
                .execute(WRITE_INVOCATION, &invocation_params(inv, &expected_phase))
                .await?;
            if n != 1 {
                return Ok(false);
            }
            let now = bosun_store::now_ms();
            let window_id = window_of(tx, &inv.region, &inv.window_execution_id).await?;
            let events = invocation_events(&account, now, &window_id, inv, expected_phase);
            super::event_outbox::append(tx, &events, now).await?;
            Ok(true)
        })?)
    }
}
