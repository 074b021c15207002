//! Automation executions and steps on PostgreSQL ([`bosun_store::AutomationStore`]). Owner
//! checks are part of each write's statement, so a replica that lost an execution writes nothing;
//! the events a driver's write carries are appended in its transaction only when it lands.

use bosun_core::events::envelope::Event;
use bosun_store::{
    AutomationExecutionRecord, AutomationQuery, AutomationStarted, AutomationStepRecord,
    AutomationStore, Result, StoreError,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::PgStore;

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const COLUMNS: &str = "execution_id, region, document_name, document_version, \
     document_content, status, mode, parameters_json, outputs_json, failure_message, \
     executed_by, parent_id, targets_json, target_parameter_name, max_concurrency, max_errors, \
     client_token, request_hash, current_step_name, current_action, start_ms, end_ms, wake_ms, \
     stop_requested, signals_json, owner, lease_until_ms";

const STEP_COLUMNS: &str = "execution_id, seq, step_execution_id, step_index, step_name, \
     action, status, attempt, inputs_json, outputs_json, response_json, failure_message, \
     start_ms, end_ms, wake_ms, command_id, signal_base";

fn execution_from_row(r: &Row) -> RowResult<AutomationExecutionRecord> {
    Ok(AutomationExecutionRecord {
        execution_id: r.try_get(0)?,
        region: r.try_get(1)?,
        document_name: r.try_get(2)?,
        document_version: r.try_get(3)?,
        document_content: r.try_get(4)?,
        status: r.try_get(5)?,
        mode: r.try_get(6)?,
        parameters_json: r.try_get(7)?,
        outputs_json: r.try_get(8)?,
        failure_message: r.try_get(9)?,
        executed_by: r.try_get(10)?,
        parent_id: r.try_get(11)?,
        targets_json: r.try_get(12)?,
        target_parameter_name: r.try_get(13)?,
        max_concurrency: r.try_get(14)?,
        max_errors: r.try_get(15)?,
        client_token: r.try_get(16)?,
        request_hash: r.try_get(17)?,
        current_step_name: r.try_get(18)?,
        current_action: r.try_get(19)?,
        start_ms: r.try_get(20)?,
        end_ms: r.try_get(21)?,
        wake_ms: r.try_get(22)?,
        stop_requested: r.try_get(23)?,
        signals_json: r.try_get(24)?,
        owner: r.try_get(25)?,
        lease_until_ms: r.try_get(26)?,
    })
}

fn step_from_row(r: &Row) -> RowResult<AutomationStepRecord> {
    Ok(AutomationStepRecord {
        execution_id: r.try_get(0)?,
        seq: r.try_get(1)?,
        step_execution_id: r.try_get(2)?,
        step_index: r.try_get(3)?,
        step_name: r.try_get(4)?,
        action: r.try_get(5)?,
        status: r.try_get(6)?,
        attempt: r.try_get(7)?,
        inputs_json: r.try_get(8)?,
        outputs_json: r.try_get(9)?,
        response_json: r.try_get(10)?,
        failure_message: r.try_get(11)?,
        start_ms: r.try_get(12)?,
        end_ms: r.try_get(13)?,
        wake_ms: r.try_get(14)?,
        command_id: r.try_get(15)?,
        signal_base: r.try_get(16)?,
    })
}

fn executions(
    store: &PgStore,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<AutomationExecutionRecord>> {
    Ok(store.with_client(async |client| {
        let statement = client.prepare_cached(sql).await?;
        let rows = client.query(&statement, params).await?;
        Ok(rows
            .iter()
            .map(execution_from_row)
            .collect::<RowResult<Vec<_>>>()?)
    })?)
}

fn changed(store: &PgStore, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<bool> {
    Ok(store.with_client(async |client| Ok(client.execute(sql, params).await? > 0))?)
}

/// Run the owner-checked write `sql` and, when it changed a row, append `events` in the same
/// transaction.
fn changed_with_events(
    store: &PgStore,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    events: &[Event],
) -> Result<bool> {
    let now = bosun_store::now_ms();
    Ok(store.transaction(async |tx| {
        let written = tx.execute(sql, params).await? > 0;
        if written {
            super::event_outbox::append(tx, events, now).await?;
        }
        Ok(written)
    })?)
}

impl AutomationStore for PgStore {
    fn create_automation_execution(
        &self,
        e: &AutomationExecutionRecord,
    ) -> Result<AutomationStarted> {
        Ok(self.transaction(async |tx| {
            if !e.client_token.is_empty() {
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended('bosun.automation:' || $1 \
                     || ':' || $2, 0))",
                    &[&e.region, &e.client_token],
                )
                .await?;
                let earlier = tx
                    .query_opt(
                        "SELECT execution_id, request_hash FROM automation_executions \
                         WHERE region = $1 AND client_token = $2",
                        &[&e.region, &e.client_token],
                    )
                    .await?;
                if let Some(row) = earlier {
                    let id: String = row.try_get(0)?;
                    let hash: String = row.try_get(1)?;
                    return Ok(if hash == e.request_hash {
                        AutomationStarted::Replayed(id)
                    } else {
                        AutomationStarted::TokenMismatch
                    });
                }
            }
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO automation_executions ({COLUMNS}) VALUES ($1, $2, $3, $4, \
                         $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
                         $20, $21, $22, $23, $24, $25, $26, $27) ON CONFLICT DO NOTHING"
                    ),
                    &[
                        &e.execution_id,
                        &e.region,
                        &e.document_name,
                        &e.document_version,
                        &e.document_content,
                        &e.status,
                        &e.mode,
                        &e.parameters_json,
                        &e.outputs_json,
                        &e.failure_message,
                        &e.executed_by,
                        &e.parent_id,
                        &e.targets_json,
                        &e.target_parameter_name,
                        &e.max_concurrency,
                        &e.max_errors,
                        &e.client_token,
                        &e.request_hash,
                        &e.current_step_name,
                        &e.current_action,
                        &e.start_ms,
                        &e.end_ms,
                        &e.wake_ms,
                        &e.stop_requested,
                        &e.signals_json,
                        &e.owner,
                        &e.lease_until_ms,
                    ],
                )
                .await?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!(
                    "automation execution {}",
                    e.execution_id
                ))
                .into());
            }
            Ok(AutomationStarted::Created)
        })?)
    }

    fn get_automation_execution(
        &self,
        execution_id: &str,
    ) -> Result<Option<AutomationExecutionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM automation_executions WHERE execution_id = $1");
        Ok(executions(self, &sql, &[&execution_id])?.into_iter().next())
    }

    fn list_automation_executions(
        &self,
        q: &AutomationQuery,
    ) -> Result<Vec<AutomationExecutionRecord>> {
        let (after_ms, after_id) = match &q.after {
            Some((ms, id)) => (Some(*ms), Some(id.clone())),
            None => (None, None),
        };
        let limit = q.limit as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM automation_executions WHERE region = $1 \
             AND ($2::text IS NULL OR starts_with(document_name, $2)) \
             AND (cardinality($3::text[]) = 0 OR status = ANY($3)) \
             AND ($4::text IS NULL OR execution_id = $4) \
             AND ($5::text IS NULL OR parent_id = $5) \
             AND ($6::int8 IS NULL OR start_ms < $6) AND ($7::int8 IS NULL OR start_ms > $7) \
             AND ($8::int8 IS NULL OR start_ms < $8 OR (start_ms = $8 \
             AND execution_id COLLATE \"C\" > $9::text)) \
             ORDER BY start_ms DESC, execution_id COLLATE \"C\" LIMIT $10"
        );
        executions(
            self,
            &sql,
            &[
                &q.region,
                &q.document_name_prefix,
                &q.statuses,
                &q.execution_id,
                &q.parent_id,
                &q.start_before_ms,
                &q.start_after_ms,
                &after_ms,
                &after_id,
                &limit,
            ],
        )
    }

    fn automation_steps(&self, execution_id: &str) -> Result<Vec<AutomationStepRecord>> {
        let sql = format!(
            "SELECT {STEP_COLUMNS} FROM automation_steps WHERE execution_id = $1 ORDER BY seq"
        );
        Ok(self.with_client(async |client| {
            let statement = client.prepare_cached(&sql).await?;
            let rows = client.query(&statement, &[&execution_id]).await?;
            Ok(rows
                .iter()
                .map(step_from_row)
                .collect::<RowResult<Vec<_>>>()?)
        })?)
    }

    fn claim_automation_executions(
        &self,
        replica_id: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<String>> {
        Ok(self.transaction(async |tx| {
            tx.execute(
                "UPDATE automation_executions SET owner = $1, lease_until_ms = $3 \
                 WHERE end_ms IS NULL AND (owner = $1 OR lease_until_ms < $2)",
                &[&replica_id, &now_ms, &until_ms],
            )
            .await?;
            let rows = tx
                .query(
                    "SELECT execution_id FROM automation_executions WHERE end_ms IS NULL \
                     AND owner = $1 ORDER BY execution_id COLLATE \"C\"",
                    &[&replica_id],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<RowResult<Vec<String>>>()?)
        })?)
    }

    fn update_owned_automation_execution(
        &self,
        replica_id: &str,
        e: &AutomationExecutionRecord,
        events: &[Event],
    ) -> Result<bool> {
        changed_with_events(
            self,
            "UPDATE automation_executions SET status = $3, outputs_json = $4, \
             failure_message = $5, current_step_name = $6, current_action = $7, end_ms = $8, \
             wake_ms = $9 WHERE execution_id = $1 AND owner = $2 AND end_ms IS NULL",
            &[
                &e.execution_id,
                &replica_id,
                &e.status,
                &e.outputs_json,
                &e.failure_message,
                &e.current_step_name,
                &e.current_action,
                &e.end_ms,
                &e.wake_ms,
            ],
            events,
        )
    }

    fn put_owned_automation_step(
        &self,
        replica_id: &str,
        s: &AutomationStepRecord,
        events: &[Event],
    ) -> Result<bool> {
        changed_with_events(
            self,
            &format!(
                "INSERT INTO automation_steps ({STEP_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, \
                 $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM automation_executions \
                 WHERE execution_id = $1 AND owner = $18 AND end_ms IS NULL \
                 ON CONFLICT (execution_id, seq) DO UPDATE SET \
                 step_execution_id = EXCLUDED.step_execution_id, \
                 step_index = EXCLUDED.step_index, step_name = EXCLUDED.step_name, \
                 action = EXCLUDED.action, status = EXCLUDED.status, \
                 attempt = EXCLUDED.attempt, inputs_json = EXCLUDED.inputs_json, \
                 outputs_json = EXCLUDED.outputs_json, response_json = EXCLUDED.response_json, \
                 failure_message = EXCLUDED.failure_message, start_ms = EXCLUDED.start_ms, \
                 end_ms = EXCLUDED.end_ms, wake_ms = EXCLUDED.wake_ms, \
                 command_id = EXCLUDED.command_id, signal_base = EXCLUDED.signal_base"
            ),
            &[
                &s.execution_id,
                &s.seq,
                &s.step_execution_id,
                &s.step_index,
                &s.step_name,
                &s.action,
                &s.status,
                &s.attempt,
                &s.inputs_json,
                &s.outputs_json,
                &s.response_json,
                &s.failure_message,
                &s.start_ms,
                &s.end_ms,
                &s.wake_ms,
                &s.command_id,
                &s.signal_base,
                &replica_id,
            ],
            events,
        )
    }

    fn request_automation_stop(&self, execution_id: &str, kind: &str) -> Result<bool> {
        changed(
            self,
            "UPDATE automation_executions SET stop_requested = $2 \
             WHERE execution_id = $1 AND end_ms IS NULL",
            &[&execution_id, &kind],
        )
    }

    fn set_automation_signals(&self, execution_id: &str, old: &str, new: &str) -> Result<bool> {
        changed(
            self,
            "UPDATE automation_executions SET signals_json = $3 \
             WHERE execution_id = $1 AND end_ms IS NULL AND signals_json = $2",
            &[&execution_id, &old, &new],
        )
    }
}
