//! Run Command state on SQLite. Invocation updates are conditional on a live stored status
//! (`UPDATE … WHERE status IN (…)`), so a terminal status is never overwritten.

use rusqlite::{params, OptionalExtension, Row};

use super::command_events::{command_status, invocation_status, Emitter};
use super::SqliteStore;
use crate::commands::{
    notification_column, notification_from_column, CommandRecord, CommandStore, InvocationRecord,
    PluginRecord,
};
use crate::{CallRecords, Result};

const CMD_COLS: &str = "region, command_id, document_name, document_version, document_hash, comment, request_json, \
     steps_json, requested_ms, expires_ms, timeout_seconds, max_concurrency, max_errors, status, status_details, \
     target_count, completed_count, error_count, delivery_timed_out_count, cancel_requested, notification";

fn cmd_from_row(r: &Row) -> rusqlite::Result<CommandRecord> {
    Ok(CommandRecord {
        region: r.get(0)?,
        command_id: r.get(1)?,
        document_name: r.get(2)?,
        document_version: r.get(3)?,
        document_hash: r.get(4)?,
        comment: r.get(5)?,
        request_json: r.get(6)?,
        steps_json: r.get(7)?,
        requested_ms: r.get(8)?,
        expires_ms: r.get(9)?,
        timeout_seconds: r.get(10)?,
        max_concurrency: r.get(11)?,
        max_errors: r.get(12)?,
        status: r.get(13)?,
        status_details: r.get(14)?,
        target_count: r.get(15)?,
        completed_count: r.get(16)?,
        error_count: r.get(17)?,
        delivery_timed_out_count: r.get(18)?,
        cancel_requested: r.get(19)?,
        notification: {
            let text: String = r.get(20)?;
            notification_from_column(&text).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    20,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?
        },
    })
}

const INV_COLS: &str =
    "command_id, instance_id, seq, instance_name, status, status_details, dispatched_ms, acked, \
     response_code, start_ms, end_ms";

fn inv_from_row(r: &Row) -> rusqlite::Result<InvocationRecord> {
    Ok(InvocationRecord {
        command_id: r.get(0)?,
        instance_id: r.get(1)?,
        seq: r.get(2)?,
        instance_name: r.get(3)?,
        status: r.get(4)?,
        status_details: r.get(5)?,
        dispatched_ms: r.get(6)?,
        acked: r.get(7)?,
        response_code: r.get(8)?,
        start_ms: r.get(9)?,
        end_ms: r.get(10)?,
    })
}

const PLUGIN_COLS: &str =
    "command_id, instance_id, seq, name, status, status_details, response_code, start_ms, end_ms, \
     stdout, stderr, stdout_bytes, stderr_bytes, detail";

fn plugin_from_row(r: &Row) -> rusqlite::Result<PluginRecord> {
    Ok(PluginRecord {
        command_id: r.get(0)?,
        instance_id: r.get(1)?,
        seq: r.get(2)?,
        name: r.get(3)?,
        status: r.get(4)?,
        status_details: r.get(5)?,
        response_code: r.get(6)?,
        start_ms: r.get(7)?,
        end_ms: r.get(8)?,
        stdout: r.get(9)?,
        stderr: r.get(10)?,
        stdout_bytes: r.get(11)?,
        stderr_bytes: r.get(12)?,
        detail: r.get(13)?,
    })
}

fn insert_plugin(conn: &rusqlite::Connection, p: &PluginRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO plugins ({PLUGIN_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
    ))?
    .execute(params![
        p.command_id, p.instance_id, p.seq, p.name, p.status, p.status_details, p.response_code, p.start_ms,
        p.end_ms, p.stdout, p.stderr, p.stdout_bytes, p.stderr_bytes, p.detail
    ])?;
    Ok(())
}

/// Insert a command with its invocations and plugins (inside the caller's transaction), and
/// the events of their first statuses into the outbox (`account` stamped in them).
pub(super) fn insert_command(
    tx: &rusqlite::Connection,
    c: &CommandRecord,
    invocations: &[InvocationRecord],
    plugins: &[PluginRecord],
    account: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        &format!("INSERT INTO commands ({CMD_COLS}, active) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)"),
        params![
            c.region, c.command_id, c.document_name, c.document_version, c.document_hash, c.comment,
            c.request_json, c.steps_json, c.requested_ms, c.expires_ms, c.timeout_seconds, c.max_concurrency,
            c.max_errors, c.status, c.status_details, c.target_count, c.completed_count, c.error_count,
            c.delivery_timed_out_count, c.cancel_requested, notification_column(&c.notification),
            !invocations.is_empty()
        ],
    )?;
    {
        let mut stmt = tx.prepare_cached(&format!(
            "INSERT INTO invocations ({INV_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
        ))?;
        for i in invocations {
            stmt.execute(params![
                i.command_id,
                i.instance_id,
                i.seq,
                i.instance_name,
                i.status,
                i.status_details,
                i.dispatched_ms,
                i.acked,
                i.response_code,
                i.start_ms,
                i.end_ms
            ])?;
        }
    }
    for p in plugins {
        insert_plugin(tx, p)?;
    }
    let mut events = Emitter::new(account);
    events.command(tx, &c.command_id, None, &c.status)?;
    for i in invocations {
        events.invocation(tx, &i.command_id, &i.instance_id, None, &i.status)?;
    }
    events.flush(tx)
}

/// Write a command's aggregate status and counts (as [`CommandStore::update_command_status`]),
/// only while `owner` (replica, epoch) still owns it when given, with the event of a changed
/// status; whether it was written.
pub(super) fn write_command_status(
    tx: &rusqlite::Transaction<'_>,
    c: &CommandRecord,
    active: bool,
    owner: Option<(&str, i64)>,
    account: &str,
) -> Result<bool> {
    let old = command_status(tx, &c.command_id)?;
    let (replica, epoch) = owner.unzip();
    let written = tx.execute(
        "UPDATE commands SET status = ?2, status_details = ?3, completed_count = ?4, error_count = ?5, \
         delivery_timed_out_count = ?6, active = (cancel_requested AND NOT ?7) OR ?8 \
         WHERE command_id = ?1 AND (?9 IS NULL OR (owner_replica = ?9 AND owner_epoch = ?10))",
        params![
            c.command_id, c.status, c.status_details, c.completed_count, c.error_count,
            c.delivery_timed_out_count, c.cancel_requested, active, replica, epoch
        ],
    )? > 0;
    if written {
        let mut events = Emitter::new(account);
        events.command(tx, &c.command_id, old.as_deref(), &c.status)?;
        events.flush(tx)?;
    }
    Ok(written)
}

impl CommandStore for SqliteStore {
    fn create_command_audited(
        &self,
        c: &CommandRecord,
        invocations: &[InvocationRecord],
        plugins: &[PluginRecord],
        records: CallRecords,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        super::idempotency::write_call_records(&tx, &records)?;
        insert_command(&tx, c, invocations, plugins, &self.event_account.get())?;
        tx.commit()?;
        Ok(())
    }

    fn get_command(&self, region: &str, command_id: &str) -> Result<Option<CommandRecord>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!("SELECT {CMD_COLS} FROM commands WHERE region = ?1 AND command_id = ?2"),
                params![region, command_id],
                cmd_from_row,
            )
            .optional()?)
    }

    fn list_commands(&self, region: &str) -> Result<Vec<CommandRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {CMD_COLS} FROM commands WHERE region = ?1 ORDER BY requested_ms DESC, command_id"
        ))?;
        let rows = stmt.query_map([region], cmd_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn active_commands(&self) -> Result<Vec<CommandRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {CMD_COLS} FROM commands WHERE active = 1 ORDER BY requested_ms"
        ))?;
        let rows = stmt.query_map([], cmd_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn update_command_status(&self, c: &CommandRecord, active: bool) -> Result<()> {
        let account = self.event_account.get();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        write_command_status(&tx, c, active, None, &account)?;
        tx.commit()?;
        Ok(())
    }

    fn request_cancel(&self, command_id: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE commands SET cancel_requested = 1, active = 1 WHERE command_id = ?1",
            [command_id],
        )?;
        Ok(())
    }

    fn invocations(&self, command_id: &str) -> Result<Vec<InvocationRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {INV_COLS} FROM invocations WHERE command_id = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map([command_id], inv_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn invocation(&self, command_id: &str, instance_id: &str) -> Result<Option<InvocationRecord>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!(
                    "SELECT {INV_COLS} FROM invocations WHERE command_id = ?1 AND instance_id = ?2"
                ),
                params![command_id, instance_id],
                inv_from_row,
            )
            .optional()?)
    }

    fn invocations_of_instance(&self, instance_id: &str) -> Result<Vec<InvocationRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {INV_COLS} FROM invocations WHERE instance_id = ?1 ORDER BY command_id"
        ))?;
        let rows = stmt.query_map([instance_id], inv_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn write_results(&self, rows: &[(InvocationRecord, Vec<PluginRecord>)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        write_rows(&tx, rows, &self.event_account.get())?;
        tx.commit()?;
        Ok(())
    }

    fn plugins(&self, command_id: &str, instance_id: &str) -> Result<Vec<PluginRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {PLUGIN_COLS} FROM plugins WHERE command_id = ?1 AND instance_id = ?2 ORDER BY seq"
        ))?;
        let rows = stmt.query_map(params![command_id, instance_id], plugin_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn open_commands_of_instance(&self, instance_id: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT i.command_id FROM invocations i JOIN commands c ON c.command_id = i.command_id \
             WHERE i.instance_id = ?1 AND c.active = 1",
        )?;
        let rows = stmt.query_map([instance_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Write invocations still live, and the plugins of those written, inside `tx`, with an
/// event for each status that changed.
pub(super) fn write_rows(
    tx: &rusqlite::Transaction<'_>,
    rows: &[(InvocationRecord, Vec<PluginRecord>)],
    account: &str,
) -> Result<()> {
    let mut events = Emitter::new(account);
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE invocations SET status = ?3, status_details = ?4, dispatched_ms = ?5, acked = ?6, \
             response_code = ?7, start_ms = ?8, end_ms = ?9 WHERE command_id = ?1 AND instance_id = ?2 AND status IN ('Pending', 'InProgress', 'Delayed', 'Cancelling')",
        )?;
        let mut changed = Vec::with_capacity(rows.len());
        for (i, _) in rows {
            let old = invocation_status(tx, &i.command_id, &i.instance_id)?;
            let written = stmt.execute(params![
                i.command_id,
                i.instance_id,
                i.status,
                i.status_details,
                i.dispatched_ms,
                i.acked,
                i.response_code,
                i.start_ms,
                i.end_ms
            ])? > 0;
            if written {
                events.invocation(tx, &i.command_id, &i.instance_id, old.as_deref(), &i.status)?;
            }
            changed.push(written);
        }
        drop(stmt);
        for ((_, plugins), changed) in rows.iter().zip(changed) {
            // A result for an invocation that is already terminal changes nothing.
            if changed {
                for p in plugins {
                    insert_plugin(tx, p)?;
                }
            }
        }
    }
    events.flush(tx)?;
    Ok(())
}
