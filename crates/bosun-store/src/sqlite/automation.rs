//! Automation executions and steps on SQLite ([`crate::AutomationStore`]). The single writer
//! connection makes each owner-checked write a compare-and-set; the events a driver's write
//! carries are appended in its transaction.

use bosun_core::events::envelope::Event;
use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::automation::{
    AutomationExecutionRecord, AutomationQuery, AutomationStarted, AutomationStepRecord,
    AutomationStore,
};
use crate::Result;

const COLUMNS: &str = "execution_id, region, document_name, document_version, \
     document_content, status, mode, parameters_json, outputs_json, failure_message, \
     executed_by, parent_id, targets_json, target_parameter_name, max_concurrency, max_errors, \
     client_token, request_hash, current_step_name, current_action, start_ms, end_ms, wake_ms, \
     stop_requested, signals_json, owner, lease_until_ms";

const STEP_COLUMNS: &str = "execution_id, seq, step_execution_id, step_index, step_name, \
     action, status, attempt, inputs_json, outputs_json, response_json, failure_message, \
     start_ms, end_ms, wake_ms, command_id, signal_base";

fn execution_from_row(r: &Row) -> rusqlite::Result<AutomationExecutionRecord> {
    Ok(AutomationExecutionRecord {
        execution_id: r.get(0)?,
        region: r.get(1)?,
        document_name: r.get(2)?,
        document_version: r.get(3)?,
        document_content: r.get(4)?,
        status: r.get(5)?,
        mode: r.get(6)?,
        parameters_json: r.get(7)?,
        outputs_json: r.get(8)?,
        failure_message: r.get(9)?,
        executed_by: r.get(10)?,
        parent_id: r.get(11)?,
        targets_json: r.get(12)?,
        target_parameter_name: r.get(13)?,
        max_concurrency: r.get(14)?,
        max_errors: r.get(15)?,
        client_token: r.get(16)?,
        request_hash: r.get(17)?,
        current_step_name: r.get(18)?,
        current_action: r.get(19)?,
        start_ms: r.get(20)?,
        end_ms: r.get(21)?,
        wake_ms: r.get(22)?,
        stop_requested: r.get(23)?,
        signals_json: r.get(24)?,
        owner: r.get(25)?,
        lease_until_ms: r.get(26)?,
    })
}

fn step_from_row(r: &Row) -> rusqlite::Result<AutomationStepRecord> {
    Ok(AutomationStepRecord {
        execution_id: r.get(0)?,
        seq: r.get(1)?,
        step_execution_id: r.get(2)?,
        step_index: r.get(3)?,
        step_name: r.get(4)?,
        action: r.get(5)?,
        status: r.get(6)?,
        attempt: r.get(7)?,
        inputs_json: r.get(8)?,
        outputs_json: r.get(9)?,
        response_json: r.get(10)?,
        failure_message: r.get(11)?,
        start_ms: r.get(12)?,
        end_ms: r.get(13)?,
        wake_ms: r.get(14)?,
        command_id: r.get(15)?,
        signal_base: r.get(16)?,
    })
}

fn owns(conn: &rusqlite::Connection, replica_id: &str, execution_id: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM automation_executions WHERE execution_id = ?1 AND owner = ?2 \
             AND end_ms IS NULL",
            params![execution_id, replica_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

impl AutomationStore for SqliteStore {
    fn create_automation_execution(
        &self,
        e: &AutomationExecutionRecord,
    ) -> Result<AutomationStarted> {
        let conn = self.conn();
        if !e.client_token.is_empty() {
            let earlier: Option<(String, String)> = conn
                .query_row(
                    "SELECT execution_id, request_hash FROM automation_executions \
                     WHERE region = ?1 AND client_token = ?2",
                    params![e.region, e.client_token],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((id, hash)) = earlier {
                return Ok(if hash == e.request_hash {
                    AutomationStarted::Replayed(id)
                } else {
                    AutomationStarted::TokenMismatch
                });
            }
        }
        let taken = conn
            .query_row(
                "SELECT 1 FROM automation_executions WHERE execution_id = ?1",
                [&e.execution_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if taken {
            return Err(crate::StoreError::AlreadyExists(format!(
                "automation execution {}",
                e.execution_id
            )));
        }
        conn.execute(
            &format!(
                "INSERT INTO automation_executions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
                 ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, \
                 ?23, ?24, ?25, ?26, ?27)"
            ),
            params![
                e.execution_id,
                e.region,
                e.document_name,
                e.document_version,
                e.document_content,
                e.status,
                e.mode,
                e.parameters_json,
                e.outputs_json,
                e.failure_message,
                e.executed_by,
                e.parent_id,
                e.targets_json,
                e.target_parameter_name,
                e.max_concurrency,
                e.max_errors,
                e.client_token,
                e.request_hash,
                e.current_step_name,
                e.current_action,
                e.start_ms,
                e.end_ms,
                e.wake_ms,
                e.stop_requested,
                e.signals_json,
                e.owner,
                e.lease_until_ms,
            ],
        )?;
        Ok(AutomationStarted::Created)
    }

    fn get_automation_execution(
        &self,
        execution_id: &str,
    ) -> Result<Option<AutomationExecutionRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {COLUMNS} FROM automation_executions WHERE execution_id = ?1"),
                    [execution_id],
                    execution_from_row,
                )
                .optional()?)
        })
    }

    fn list_automation_executions(
        &self,
        q: &AutomationQuery,
    ) -> Result<Vec<AutomationExecutionRecord>> {
        let (after_ms, after_id) = match &q.after {
            Some((ms, id)) => (Some(*ms), Some(id.as_str())),
            None => (None, None),
        };
        let statuses = serde_json::to_string(&q.statuses).unwrap_or_else(|_| "[]".into());
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM automation_executions WHERE region = ?1 \
                 AND (?2 IS NULL OR substr(document_name, 1, length(?2)) = ?2) \
                 AND (?3 = '[]' OR status IN (SELECT value FROM json_each(?3))) \
                 AND (?4 IS NULL OR execution_id = ?4) AND (?5 IS NULL OR parent_id = ?5) \
                 AND (?6 IS NULL OR start_ms < ?6) AND (?7 IS NULL OR start_ms > ?7) \
                 AND (?8 IS NULL OR start_ms < ?8 OR (start_ms = ?8 AND execution_id > ?9)) \
                 ORDER BY start_ms DESC, execution_id LIMIT ?10"
            ))?;
            let rows = stmt.query_map(
                params![
                    q.region,
                    q.document_name_prefix,
                    statuses,
                    q.execution_id,
                    q.parent_id,
                    q.start_before_ms,
                    q.start_after_ms,
                    after_ms,
                    after_id,
                    q.limit as i64
                ],
                execution_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn automation_steps(&self, execution_id: &str) -> Result<Vec<AutomationStepRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {STEP_COLUMNS} FROM automation_steps WHERE execution_id = ?1 ORDER BY seq"
            ))?;
            let rows = stmt.query_map([execution_id], step_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn claim_automation_executions(
        &self,
        replica_id: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<String>> {
        let conn = self.conn();
        conn.execute(
            "UPDATE automation_executions SET owner = ?1, lease_until_ms = ?3 \
             WHERE end_ms IS NULL AND (owner = ?1 OR lease_until_ms < ?2)",
            params![replica_id, now_ms, until_ms],
        )?;
        let mut stmt = conn.prepare_cached(
            "SELECT execution_id FROM automation_executions WHERE end_ms IS NULL AND owner = ?1 \
             ORDER BY execution_id",
        )?;
        let rows = stmt.query_map([replica_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn update_owned_automation_execution(
        &self,
        replica_id: &str,
        e: &AutomationExecutionRecord,
        events: &[Event],
    ) -> Result<bool> {
        let now = crate::event_outbox::now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let written = tx.execute(
            "UPDATE automation_executions SET status = ?3, outputs_json = ?4, \
             failure_message = ?5, current_step_name = ?6, current_action = ?7, end_ms = ?8, \
             wake_ms = ?9 WHERE execution_id = ?1 AND owner = ?2 AND end_ms IS NULL",
            params![
                e.execution_id,
                replica_id,
                e.status,
                e.outputs_json,
                e.failure_message,
                e.current_step_name,
                e.current_action,
                e.end_ms,
                e.wake_ms
            ],
        )? > 0;
        if written {
            super::event_outbox::append(&tx, events, now)?;
            tx.commit()?;
        }
        Ok(written)
    }

    fn put_owned_automation_step(
        &self,
        replica_id: &str,
        s: &AutomationStepRecord,
        events: &[Event],
    ) -> Result<bool> {
        let now = crate::event_outbox::now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if !owns(&tx, replica_id, &s.execution_id)? {
            return Ok(false);
        }
        tx.execute(
            &format!(
                "INSERT OR REPLACE INTO automation_steps ({STEP_COLUMNS}) VALUES (?1, ?2, ?3, \
                 ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
            ),
            params![
                s.execution_id,
                s.seq,
                s.step_execution_id,
                s.step_index,
                s.step_name,
                s.action,
                s.status,
                s.attempt,
                s.inputs_json,
                s.outputs_json,
                s.response_json,
                s.failure_message,
                s.start_ms,
                s.end_ms,
                s.wake_ms,
                s.command_id,
                s.signal_base
            ],
        )?;
        super::event_outbox::append(&tx, events, now)?;
        tx.commit()?;
        Ok(true)
    }

    fn request_automation_stop(&self, execution_id: &str, kind: &str) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE automation_executions SET stop_requested = ?2 \
             WHERE execution_id = ?1 AND end_ms IS NULL",
            params![execution_id, kind],
        )? > 0)
    }

    fn set_automation_signals(&self, execution_id: &str, old: &str, new: &str) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE automation_executions SET signals_json = ?3 \
             WHERE execution_id = ?1 AND end_ms IS NULL AND signals_json = ?2",
            params![execution_id, old, new],
        )? > 0)
    }
}
