//! The commands area of the store on PostgreSQL ([`bosun_store::CommandStore`]).
//!
//! Invocations and plugins are written in bulk (`UNNEST` of one array per column), so a command
//! to thousands of nodes is a handful of statements. An invocation is updated only while its
//! stored status is live, checked and written by one `UPDATE … WHERE status IN (…)`: under READ
//! COMMITTED a concurrent writer of the same row waits, and the condition is checked again on
//! the row it committed, so a terminal status is never overwritten (compare-and-set).

use std::collections::{HashMap, HashSet};

use bosun_core::command::notification::CommandNotification;
use bosun_store::{notification_column, notification_from_column};
use bosun_store::{
    CallRecords, CommandRecord, CommandStore, EndedInvocations, InvocationDigest, InvocationRecord,
    PluginRecord, Result, StoreError,
};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::IsolationLevel;
use tokio_postgres::Row;

use super::calls::write_call_records;
use super::command_events::Transitions;
use crate::{PgError, PgStore, Transaction};

type PgResult<T> = std::result::Result<T, PgError>;
type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const CMD_COLS: &str = "region, command_id, document_name, document_version, document_hash, \
     comment, request_json, steps_json, requested_ms, expires_ms, timeout_seconds, \
     max_concurrency, max_errors, status, status_details, target_count, completed_count, \
     error_count, delivery_timed_out_count, cancel_requested, notification";

/// The `notification` column (JSON text, `''` for none) read as the settings it holds; text
/// that does not parse is a row error, never a silent "no notifications".
struct NotificationColumn(Option<CommandNotification>);

impl<'a> FromSql<'a> for NotificationColumn {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = <&str as FromSql>::from_sql(ty, raw)?;
        Ok(Self(notification_from_column(text)?))
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty)
    }
}

fn cmd_from_row(r: &Row) -> RowResult<CommandRecord> {
    Ok(CommandRecord {
        region: r.try_get(0)?,
        command_id: r.try_get(1)?,
        document_name: r.try_get(2)?,
        document_version: r.try_get(3)?,
        document_hash: r.try_get(4)?,
        comment: r.try_get(5)?,
        request_json: r.try_get(6)?,
        steps_json: r.try_get(7)?,
        requested_ms: r.try_get(8)?,
        expires_ms: r.try_get(9)?,
        timeout_seconds: r.try_get(10)?,
        max_concurrency: r.try_get(11)?,
        max_errors: r.try_get(12)?,
        status: r.try_get(13)?,
        status_details: r.try_get(14)?,
        target_count: r.try_get(15)?,
        completed_count: r.try_get(16)?,
        error_count: r.try_get(17)?,
        delivery_timed_out_count: r.try_get(18)?,
        cancel_requested: r.try_get(19)?,
        notification: r.try_get::<_, NotificationColumn>(20)?.0,
    })
}

const INV_COLS: &str = "command_id, instance_id, seq, instance_name, status, status_details, \
     dispatched_ms, acked, response_code, start_ms, end_ms";

fn inv_from_row(r: &Row) -> RowResult<InvocationRecord> {
    Ok(InvocationRecord {
        command_id: r.try_get(0)?,
        instance_id: r.try_get(1)?,
        seq: r.try_get(2)?,
        instance_name: r.try_get(3)?,
        status: r.try_get(4)?,
        status_details: r.try_get(5)?,
        dispatched_ms: r.try_get(6)?,
        acked: r.try_get(7)?,
        response_code: r.try_get(8)?,
        start_ms: r.try_get(9)?,
        end_ms: r.try_get(10)?,
    })
}

const PLUGIN_COLS: &str = "command_id, instance_id, seq, name, status, status_details, \
     response_code, start_ms, end_ms, stdout, stderr, stdout_bytes, stderr_bytes, detail";

fn plugin_from_row(r: &Row) -> RowResult<PluginRecord> {
    Ok(PluginRecord {
        command_id: r.try_get(0)?,
        instance_id: r.try_get(1)?,
        seq: r.try_get(2)?,
        name: r.try_get(3)?,
        status: r.try_get(4)?,
        status_details: r.try_get(5)?,
        response_code: r.try_get(6)?,
        start_ms: r.try_get(7)?,
        end_ms: r.try_get(8)?,
        stdout: r.try_get(9)?,
        stderr: r.try_get(10)?,
        stdout_bytes: r.try_get(11)?,
        stderr_bytes: r.try_get(12)?,
        detail: r.try_get(13)?,
    })
}

/// Map rows with `map`, failing on the first that does not fit.
fn map_rows<T>(rows: &[Row], map: fn(&Row) -> RowResult<T>) -> PgResult<Vec<T>> {
    Ok(rows.iter().map(map).collect::<RowResult<Vec<T>>>()?)
}

/// Insert new invocations in one statement.
async fn insert_invocations(tx: &Transaction<'_>, list: &[InvocationRecord]) -> PgResult<()> {
    if list.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&InvocationRecord) -> &str| list.iter().map(f).collect::<Vec<&str>>();
    let numbers = |f: fn(&InvocationRecord) -> i64| list.iter().map(f).collect::<Vec<i64>>();
    let times = |f: fn(&InvocationRecord) -> Option<i64>| list.iter().map(f).collect::<Vec<_>>();
    let statement = tx
        .prepare_cached(&format!(
            "INSERT INTO invocations ({INV_COLS}) SELECT * FROM UNNEST($1::text[], $2::text[], \
             $3::int8[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::bool[], $9::int8[], \
             $10::int8[], $11::int8[])"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &column(|i| &i.command_id),
            &column(|i| &i.instance_id),
            &numbers(|i| i.seq),
            &column(|i| &i.instance_name),
            &column(|i| &i.status),
            &column(|i| &i.status_details),
            &times(|i| i.dispatched_ms),
            &list.iter().map(|i| i.acked).collect::<Vec<bool>>(),
            &numbers(|i| i.response_code),
            &times(|i| i.start_ms),
            &times(|i| i.end_ms),
        ],
    )
    .await?;
    Ok(())
}

/// Insert plugin results, replacing any stored with the same (command, node, seq); of several
/// given with one key, the last counts (as if written one after the other).
async fn upsert_plugins(tx: &Transaction<'_>, plugins: &[&PluginRecord]) -> PgResult<()> {
    let mut seen = HashSet::new();
    let mut list: Vec<&PluginRecord> = plugins
        .iter()
        .rev()
        .filter(|p| seen.insert((&p.command_id, &p.instance_id, p.seq)))
        .copied()
        .collect();
    if list.is_empty() {
        return Ok(());
    }
    list.reverse();
    let column = |f: fn(&PluginRecord) -> &str| list.iter().map(|p| f(p)).collect::<Vec<&str>>();
    let numbers = |f: fn(&PluginRecord) -> i64| list.iter().map(|p| f(p)).collect::<Vec<i64>>();
    let times = |f: fn(&PluginRecord) -> Option<i64>| list.iter().map(|p| f(p)).collect::<Vec<_>>();
    let statement = tx
        .prepare_cached(&format!(
            "INSERT INTO plugins ({PLUGIN_COLS}) SELECT * FROM UNNEST($1::text[], $2::text[], \
             $3::int8[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int8[], $9::int8[], \
             $10::text[], $11::text[], $12::int8[], $13::int8[], $14::text[]) \
             ON CONFLICT (command_id, instance_id, seq) DO UPDATE SET name = EXCLUDED.name, \
             status = EXCLUDED.status, status_details = EXCLUDED.status_details, \
             response_code = EXCLUDED.response_code, start_ms = EXCLUDED.start_ms, \
             end_ms = EXCLUDED.end_ms, stdout = EXCLUDED.stdout, stderr = EXCLUDED.stderr, \
             stdout_bytes = EXCLUDED.stdout_bytes, stderr_bytes = EXCLUDED.stderr_bytes, \
             detail = EXCLUDED.detail"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &column(|p| &p.command_id),
            &column(|p| &p.instance_id),
            &numbers(|p| p.seq),
            &column(|p| &p.name),
            &column(|p| &p.status),
            &column(|p| &p.status_details),
            &numbers(|p| p.response_code),
            &times(|p| p.start_ms),
            &times(|p| p.end_ms),
            &column(|p| &p.stdout),
            &column(|p| &p.stderr),
            &numbers(|p| p.stdout_bytes),
            &numbers(|p| p.stderr_bytes),
            &column(|p| &p.detail),
        ],
    )
    .await?;
    Ok(())
}

/// Write `rows` in order as if one by one: each updates its invocation only while the stored
/// status is still live, and writes its plugins only then. Rows may name an invocation more
/// than once (an acknowledgement and the result after it). The named invocations are locked
/// and their statuses read first, so the rows are applied to them in memory and each
/// invocation's last applied row is written in one statement, its plugins in one more — a batch
/// costs three statements however many reports it holds. An invocation already terminal is
/// left as it is, with its plugins; every status the rows go through is recorded in
/// `transitions`, in order.
pub(super) async fn write_batch(
    tx: &Transaction<'_>,
    rows: &[&(InvocationRecord, Vec<PluginRecord>)],
    transitions: &mut Transitions,
) -> PgResult<()> {
    let mut stored = lock_statuses(tx, rows).await?;
    // (command, node) -> index in `last` of its last applied row.
    let mut written: HashMap<(&str, &str), usize> = HashMap::new();
    let mut last: Vec<&InvocationRecord> = Vec::new();
    let mut plugins: Vec<&PluginRecord> = Vec::new();
    for (i, row_plugins) in rows.iter().map(|r| (&r.0, &r.1)) {
        let key = (i.command_id.clone(), i.instance_id.clone());
        let Some(status) = stored.get_mut(&key) else {
            continue;
        };
        if !is_live(status) {
            continue;
        }
        transitions.invocation(
            &i.command_id,
            &i.instance_id,
            Some(status.as_str()),
            &i.status,
        );
        status.clone_from(&i.status);
        match written.entry((&i.command_id, &i.instance_id)) {
            std::collections::hash_map::Entry::Occupied(at) => last[*at.get()] = i,
            std::collections::hash_map::Entry::Vacant(at) => {
                at.insert(last.len());
                last.push(i);
            }
        }
        plugins.extend(row_plugins);
    }
    if last.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&InvocationRecord) -> &str| last.iter().map(|i| f(i)).collect::<Vec<_>>();
    let numbers = |f: fn(&InvocationRecord) -> i64| last.iter().map(|i| f(i)).collect::<Vec<_>>();
    let times =
        |f: fn(&InvocationRecord) -> Option<i64>| last.iter().map(|i| f(i)).collect::<Vec<_>>();
    // Locked above and live: the status condition holds; it stays as the compare-and-set's
    // statement of what may be overwritten.
    let statement = tx
        .prepare_cached(
            "UPDATE invocations AS i SET status = u.status, status_details = u.status_details, \
             dispatched_ms = u.dispatched_ms, acked = u.acked, response_code = u.response_code, \
             start_ms = u.start_ms, end_ms = u.end_ms \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::bool[], \
             $7::int8[], $8::int8[], $9::int8[]) \
             AS u(command_id, instance_id, status, status_details, dispatched_ms, acked, \
             response_code, start_ms, end_ms) \
             WHERE i.command_id = u.command_id AND i.instance_id = u.instance_id \
             AND i.status IN ('Pending', 'InProgress', 'Delayed', 'Cancelling')",
        )
        .await?;
    tx.execute(
        &statement,
        &[
            &column(|i| &i.command_id),
            &column(|i| &i.instance_id),
            &column(|i| &i.status),
            &column(|i| &i.status_details),
            &times(|i| i.dispatched_ms),
            &last.iter().map(|i| i.acked).collect::<Vec<bool>>(),
            &numbers(|i| i.response_code),
            &times(|i| i.start_ms),
            &times(|i| i.end_ms),
        ],
    )
    .await?;
    // Of several rows' plugins with one key, the last applied counts.
    upsert_plugins(tx, &plugins).await
}

/// Whether an invocation status may still be overwritten (not terminal).
fn is_live(status: &str) -> bool {
    matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling")
}

/// Lock the invocations `rows` name (in key order, so concurrent writers lock alike; `NO KEY
/// UPDATE`, since no key changes, so plugin inserts checking their foreign key do not wait)
/// and read their statuses before the update.
async fn lock_statuses(
    tx: &Transaction<'_>,
    rows: &[&(InvocationRecord, Vec<PluginRecord>)],
) -> PgResult<HashMap<(String, String), String>> {
    let mut seen = HashSet::new();
    let (commands, nodes): (Vec<&str>, Vec<&str>) = rows
        .iter()
        .map(|r| (r.0.command_id.as_str(), r.0.instance_id.as_str()))
        .filter(|key| seen.insert(*key))
        .unzip();
    let statement = tx
        .prepare_cached(
            "SELECT i.command_id, i.instance_id, i.status FROM invocations AS i \
             JOIN UNNEST($1::text[], $2::text[]) AS u(command_id, instance_id) \
             ON i.command_id = u.command_id AND i.instance_id = u.instance_id \
             ORDER BY i.command_id COLLATE \"C\", i.instance_id COLLATE \"C\" \
             FOR NO KEY UPDATE OF i",
        )
        .await?;
    let found = tx.query(&statement, &[&commands, &nodes]).await?;
    found
        .iter()
        .map(|r| Ok(((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?)))
        .collect::<RowResult<_>>()
        .map_err(Into::into)
}

/// Write a command's aggregate status and counts (as
/// [`CommandStore::update_command_status`]), only while `owner` (replica, epoch) still owns it
/// when given; records a changed status in `transitions`. Whether it was written.
pub(super) async fn write_command_status(
    tx: &Transaction<'_>,
    c: &CommandRecord,
    active: bool,
    owner: Option<(&str, i64)>,
    transitions: &mut Transitions,
) -> PgResult<bool> {
    let (replica, epoch) = owner.unzip();
    let old = tx
        .query_opt(
            "SELECT status FROM commands WHERE command_id = $1 FOR NO KEY UPDATE",
            &[&c.command_id],
        )
        .await?;
    let Some(old) = old else {
        return Ok(false);
    };
    let old: String = old.try_get(0)?;
    let statement = tx
        .prepare_cached(
            "UPDATE commands SET status = $2, status_details = $3, completed_count = $4, \
             error_count = $5, delivery_timed_out_count = $6, \
             active = (cancel_requested AND NOT $7) OR $8 WHERE command_id = $1 \
             AND ($9::text IS NULL OR (owner_replica = $9 AND owner_epoch = $10))",
        )
        .await?;
    let written = tx
        .execute(
            &statement,
            &[
                &c.command_id,
                &c.status,
                &c.status_details,
                &c.completed_count,
                &c.error_count,
                &c.delivery_timed_out_count,
                &c.cancel_requested,
                &active,
                &replica,
                &epoch,
            ],
        )
        .await?
        > 0;
    if written {
        transitions.command(&c.command_id, Some(&old), &c.status);
    }
    Ok(written)
}

/// Split `rows` in order into runs that name each invocation at most once. [`write_batch`]
/// takes repeats itself now; a caller whose rows never repeat (an owner's pass) gets one run.
pub(super) fn runs(
    rows: &[(InvocationRecord, Vec<PluginRecord>)],
) -> Vec<Vec<&(InvocationRecord, Vec<PluginRecord>)>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut keys = HashSet::new();
    for row in rows {
        if !keys.insert((&row.0.command_id, &row.0.instance_id)) {
            runs.push(std::mem::take(&mut run));
            keys.clear();
            keys.insert((&row.0.command_id, &row.0.instance_id));
        }
        run.push(row);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// (command, node) pairs as the two text arrays `UNNEST` takes.
fn pair_columns(pairs: &[(String, String)]) -> (Vec<&str>, Vec<&str>) {
    pairs.iter().map(|(c, n)| (c.as_str(), n.as_str())).unzip()
}

/// Run a read statement on `store` and map its rows.
fn select<T>(
    store: &PgStore,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    map: fn(&Row) -> RowResult<T>,
) -> Result<Vec<T>> {
    Ok(store.with_client(async |client| {
        let statement = client.prepare_cached(sql).await?;
        map_rows(&client.query(&statement, params).await?, map)
    })?)
}

/// Insert a command with its invocations and plugins inside `tx`; `AlreadyExists` when its id
/// is taken.
pub(super) async fn insert_command(
    tx: &Transaction<'_>,
    c: &CommandRecord,
    invocations: &[InvocationRecord],
    plugins: &[&PluginRecord],
    transitions: &mut Transitions,
) -> PgResult<()> {
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO commands ({CMD_COLS}, active) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
             ON CONFLICT DO NOTHING"
        ))
        .await?;
    let inserted = tx
        .execute(
            &insert,
            &[
                &c.region,
                &c.command_id,
                &c.document_name,
                &c.document_version,
                &c.document_hash,
                &c.comment,
                &c.request_json,
                &c.steps_json,
                &c.requested_ms,
                &c.expires_ms,
                &c.timeout_seconds,
                &c.max_concurrency,
                &c.max_errors,
                &c.status,
                &c.status_details,
                &c.target_count,
                &c.completed_count,
                &c.error_count,
                &c.delivery_timed_out_count,
                &c.cancel_requested,
                &notification_column(&c.notification),
                &!invocations.is_empty(),
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists(format!("command {}", c.command_id)).into());
    }
    insert_invocations(tx, invocations).await?;
    upsert_plugins(tx, plugins).await?;
    transitions.command(&c.command_id, None, &c.status);
    for i in invocations {
        transitions.invocation(&i.command_id, &i.instance_id, None, &i.status);
    }
    Ok(())
}

impl CommandStore for PgStore {
    fn create_command_audited(
        &self,
        c: &CommandRecord,
        invocations: &[InvocationRecord],
        plugins: &[PluginRecord],
        records: CallRecords,
    ) -> Result<()> {
        let plugins: Vec<&PluginRecord> = plugins.iter().collect();
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let mut transitions = Transitions::default();
            insert_command(tx, c, invocations, &plugins, &mut transitions).await?;
            // The audit record holds the chain's head until the commit; the events come last
            // (their lock is always a transaction's last).
            write_call_records(tx, &records).await?;
            transitions.emit(tx, &account).await
        })?)
    }

    fn get_command(&self, region: &str, command_id: &str) -> Result<Option<CommandRecord>> {
        Ok(select(
            self,
            &format!("SELECT {CMD_COLS} FROM commands WHERE region = $1 AND command_id = $2"),
            &[&region, &command_id],
            cmd_from_row,
        )?
        .pop())
    }

    fn list_commands(&self, region: &str) -> Result<Vec<CommandRecord>> {
        select(
            self,
            &format!(
                "SELECT {CMD_COLS} FROM commands WHERE region = $1 \
                 ORDER BY requested_ms DESC, command_id COLLATE \"C\""
            ),
            &[&region],
            cmd_from_row,
        )
    }

    fn active_commands(&self) -> Result<Vec<CommandRecord>> {
        select(
            self,
            &format!(
                "SELECT {CMD_COLS} FROM commands WHERE active \
                 ORDER BY requested_ms, command_id COLLATE \"C\""
            ),
            &[],
            cmd_from_row,
        )
    }

    fn update_command_status(&self, c: &CommandRecord, active: bool) -> Result<()> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let mut transitions = Transitions::default();
            write_command_status(tx, c, active, None, &mut transitions).await?;
            transitions.emit(tx, &account).await
        })?)
    }

    fn request_cancel(&self, command_id: &str) -> Result<()> {
        Ok(self.with_client(async |client| {
            client
                .execute(
                    "UPDATE commands SET cancel_requested = TRUE, active = TRUE WHERE command_id = $1",
                    &[&command_id],
                )
                .await?;
            Ok(())
        })?)
    }

    fn invocations(&self, command_id: &str) -> Result<Vec<InvocationRecord>> {
        select(
            self,
            &format!("SELECT {INV_COLS} FROM invocations WHERE command_id = $1 ORDER BY seq"),
            &[&command_id],
            inv_from_row,
        )
    }

    fn live_invocations(&self, command_id: &str) -> Result<InvocationDigest> {
        // Two reads in one snapshot (REPEATABLE READ): each invocation is either live or
        // counted. The live filter is written `(…) IS TRUE` so the planner reads the command's
        // rows by its key instead of walking `invocations_by_instance` for the statuses.
        let live = format!(
            "SELECT {INV_COLS} FROM invocations WHERE command_id = $1 \
             AND (status IN ('Pending', 'InProgress', 'Delayed', 'Cancelling')) IS TRUE \
             ORDER BY seq"
        );
        let ended = "SELECT status, status_details, count(*) FROM invocations \
             WHERE command_id = $1 \
             AND status NOT IN ('Pending', 'InProgress', 'Delayed', 'Cancelling') \
             GROUP BY status, status_details";
        let mut digest = self.transaction_at(IsolationLevel::RepeatableRead, async |tx| {
            let statement = tx.prepare_cached(&live).await?;
            let live = map_rows(&tx.query(&statement, &[&command_id]).await?, inv_from_row)?;
            let statement = tx.prepare_cached(ended).await?;
            let ended = map_rows(&tx.query(&statement, &[&command_id]).await?, |r| {
                Ok(EndedInvocations {
                    status: r.try_get(0)?,
                    status_details: r.try_get(1)?,
                    count: r.try_get(2)?,
                })
            })?;
            Ok(InvocationDigest { live, ended })
        })?;
        digest
            .ended
            .sort_by(|a, b| (&a.status, &a.status_details).cmp(&(&b.status, &b.status_details)));
        Ok(digest)
    }

    fn invocation(&self, command_id: &str, instance_id: &str) -> Result<Option<InvocationRecord>> {
        Ok(select(
            self,
            &format!(
                "SELECT {INV_COLS} FROM invocations WHERE command_id = $1 AND instance_id = $2"
            ),
            &[&command_id, &instance_id],
            inv_from_row,
        )?
        .pop())
    }

    fn invocations_of_pairs(&self, pairs: &[(String, String)]) -> Result<Vec<InvocationRecord>> {
        let (commands, nodes) = pair_columns(pairs);
        select(
            self,
            &format!(
                "SELECT {INV_COLS} FROM invocations WHERE (command_id, instance_id) IN \
                 (SELECT * FROM UNNEST($1::text[], $2::text[]))"
            ),
            &[&commands, &nodes],
            inv_from_row,
        )
    }

    fn plugins_of_pairs(&self, pairs: &[(String, String)]) -> Result<Vec<PluginRecord>> {
        let (commands, nodes) = pair_columns(pairs);
        select(
            self,
            &format!(
                "SELECT {PLUGIN_COLS} FROM plugins WHERE (command_id, instance_id) IN \
                 (SELECT * FROM UNNEST($1::text[], $2::text[])) \
                 ORDER BY command_id COLLATE \"C\", instance_id COLLATE \"C\", seq"
            ),
            &[&commands, &nodes],
            plugin_from_row,
        )
    }

    fn invocations_of_instance(&self, instance_id: &str) -> Result<Vec<InvocationRecord>> {
        select(
            self,
            &format!(
                "SELECT {INV_COLS} FROM invocations WHERE instance_id = $1 \
                 ORDER BY command_id COLLATE \"C\""
            ),
            &[&instance_id],
            inv_from_row,
        )
    }

    fn write_results(&self, rows: &[(InvocationRecord, Vec<PluginRecord>)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows: Vec<&(InvocationRecord, Vec<PluginRecord>)> = rows.iter().collect();
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let mut transitions = Transitions::default();
            write_batch(tx, &rows, &mut transitions).await?;
            transitions.emit(tx, &account).await
        })?)
    }

    fn plugins(&self, command_id: &str, instance_id: &str) -> Result<Vec<PluginRecord>> {
        select(
            self,
            &format!(
                "SELECT {PLUGIN_COLS} FROM plugins WHERE command_id = $1 AND instance_id = $2 \
                 ORDER BY seq"
            ),
            &[&command_id, &instance_id],
            plugin_from_row,
        )
    }

    fn open_commands_of_instance(&self, instance_id: &str) -> Result<Vec<String>> {
        select(
            self,
            "SELECT i.command_id FROM invocations i JOIN commands c ON c.command_id = i.command_id \
             WHERE i.instance_id = $1 AND c.active ORDER BY i.command_id COLLATE \"C\"",
            &[&instance_id],
            |r| r.try_get(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(command: &str, node: &str) -> (InvocationRecord, Vec<PluginRecord>) {
        let i = InvocationRecord {
            command_id: command.into(),
            instance_id: node.into(),
            seq: 1,
            instance_name: String::new(),
            status: "Pending".into(),
            status_details: String::new(),
            dispatched_ms: None,
            acked: false,
            response_code: -1,
            start_ms: None,
            end_ms: None,
        };
        (i, Vec::new())
    }

    #[test]
    fn runs_name_each_invocation_once_and_keep_the_order() {
        let rows = [
            row("c", "a"),
            row("c", "b"),
            row("c", "a"),
            row("d", "a"),
            row("c", "a"),
        ];
        let keys: Vec<Vec<(&str, &str)>> = runs(&rows)
            .iter()
            .map(|run| {
                run.iter()
                    .map(|(i, _)| (i.command_id.as_str(), i.instance_id.as_str()))
                    .collect()
            })
            .collect();
        assert_eq!(
            keys,
            [
                vec![("c", "a"), ("c", "b")],
                vec![("c", "a"), ("d", "a")],
                vec![("c", "a")]
            ]
        );
        assert!(runs(&[]).is_empty());
    }
}
