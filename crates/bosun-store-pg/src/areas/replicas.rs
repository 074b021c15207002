//! Replicas, agent sessions and command ownership on PostgreSQL ([`bosun_store::ReplicaStore`]).
//!
//! Claims take unowned commands with `FOR UPDATE SKIP LOCKED`, so concurrent replicas never
//! block on or take the same command. An owner's writes check its lease in the same transaction:
//! the command row is read `FOR SHARE` (a concurrent claim of it waits for the commit), and a
//! stale epoch writes nothing.

use std::collections::HashSet;

use bosun_store::{
    AgentSession, CommandLease, CommandRecord, DeliveryMark, InvocationRecord, PluginRecord,
    ReplicaRecord, ReplicaStore, Result,
};
use tokio_postgres::Row;

use super::command_events::Transitions;
use super::commands::{runs, write_batch, write_command_status};
use crate::{PgError, PgStore, Transaction};

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

fn replica_from_row(r: &Row) -> RowResult<ReplicaRecord> {
    Ok(ReplicaRecord {
        replica_id: r.try_get(0)?,
        started_ms: r.try_get(1)?,
        heartbeat_ms: r.try_get(2)?,
        keyring_fingerprint: r.try_get(3)?,
        url: r.try_get(4)?,
    })
}

fn session_from_row(r: &Row) -> RowResult<AgentSession> {
    Ok(AgentSession {
        instance_id: r.try_get(0)?,
        replica_id: r.try_get(1)?,
        session_epoch: r.try_get(2)?,
        connected_ms: r.try_get(3)?,
    })
}

fn select<T>(
    store: &PgStore,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    map: fn(&Row) -> RowResult<T>,
) -> Result<Vec<T>> {
    Ok(store.with_client(async |client| {
        let statement = client.prepare_cached(sql).await?;
        let rows = client.query(&statement, params).await?;
        Ok(rows.iter().map(map).collect::<RowResult<Vec<T>>>()?)
    })?)
}

/// Whether `lease` still holds; the command row stays share-locked until the commit.
async fn holds(tx: &Transaction<'_>, lease: &CommandLease) -> std::result::Result<bool, PgError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM commands WHERE command_id = $1 AND owner_replica = $2 \
             AND owner_epoch = $3 FOR SHARE",
            &[&lease.command_id, &lease.replica_id, &lease.epoch],
        )
        .await?
        .is_some())
}

impl ReplicaStore for PgStore {
    fn heartbeat_replica(&self, r: &ReplicaRecord) -> Result<()> {
        Ok(self.with_client(async |client| {
            client
                .execute(
                    "INSERT INTO replicas (replica_id, started_ms, heartbeat_ms, \
                     keyring_fingerprint, url) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (replica_id) DO \
                     UPDATE SET heartbeat_ms = EXCLUDED.heartbeat_ms, \
                     keyring_fingerprint = EXCLUDED.keyring_fingerprint, url = EXCLUDED.url",
                    &[
                        &r.replica_id,
                        &r.started_ms,
                        &r.heartbeat_ms,
                        &r.keyring_fingerprint,
                        &r.url,
                    ],
                )
                .await?;
            Ok(())
        })?)
    }

    fn live_replicas(&self, since_ms: i64) -> Result<Vec<ReplicaRecord>> {
        select(
            self,
            "SELECT replica_id, started_ms, heartbeat_ms, keyring_fingerprint, url FROM replicas \
             WHERE heartbeat_ms >= $1 ORDER BY replica_id COLLATE \"C\"",
            &[&since_ms],
            replica_from_row,
        )
    }

    fn forget_replicas_before(&self, before_ms: i64) -> Result<()> {
        Ok(self.transaction(async |tx| {
            tx.execute(
                "UPDATE agent_sessions SET replica_id = '' WHERE replica_id IN \
                 (SELECT replica_id FROM replicas WHERE heartbeat_ms < $1)",
                &[&before_ms],
            )
            .await?;
            tx.execute(
                "DELETE FROM replicas WHERE heartbeat_ms < $1",
                &[&before_ms],
            )
            .await?;
            Ok(())
        })?)
    }

    fn leave_replica(&self, replica_id: &str) -> Result<()> {
        Ok(self.transaction(async |tx| {
            tx.execute(
                "UPDATE commands SET owner_until_ms = -1 WHERE active AND owner_replica = $1",
                &[&replica_id],
            )
            .await?;
            tx.execute(
                "UPDATE agent_sessions SET replica_id = '' WHERE replica_id = $1",
                &[&replica_id],
            )
            .await?;
            tx.execute("DELETE FROM replicas WHERE replica_id = $1", &[&replica_id])
                .await?;
            Ok(())
        })?)
    }

    fn open_agent_session(&self, instance_id: &str, replica_id: &str, now_ms: i64) -> Result<i64> {
        Ok(self.with_client(async |client| {
            let row = client
                .query_one(
                    "INSERT INTO agent_sessions (instance_id, replica_id, session_epoch, \
                     connected_ms) VALUES ($1, $2, 1, $3) ON CONFLICT (instance_id) DO UPDATE \
                     SET replica_id = EXCLUDED.replica_id, \
                     session_epoch = agent_sessions.session_epoch + 1, \
                     connected_ms = EXCLUDED.connected_ms RETURNING session_epoch",
                    &[&instance_id, &replica_id, &now_ms],
                )
                .await?;
            Ok(row.try_get(0)?)
        })?)
    }

    fn close_agent_session(&self, instance_id: &str, replica_id: &str, epoch: i64) -> Result<bool> {
        Ok(self.with_client(async |client| {
            Ok(client
                .execute(
                    "UPDATE agent_sessions SET replica_id = '' WHERE instance_id = $1 \
                     AND replica_id = $2 AND session_epoch = $3",
                    &[&instance_id, &replica_id, &epoch],
                )
                .await?
                > 0)
        })?)
    }

    fn live_agent_sessions(&self, since_ms: i64) -> Result<Vec<AgentSession>> {
        select(
            self,
            "SELECT s.instance_id, s.replica_id, s.session_epoch, s.connected_ms \
             FROM agent_sessions s JOIN replicas r ON r.replica_id = s.replica_id \
             WHERE r.heartbeat_ms >= $1 ORDER BY s.instance_id COLLATE \"C\"",
            &[&since_ms],
            session_from_row,
        )
    }

    fn agent_sessions_of_replica(&self, replica_id: &str) -> Result<Vec<AgentSession>> {
        select(
            self,
            "SELECT instance_id, replica_id, session_epoch, connected_ms FROM agent_sessions \
             WHERE replica_id = $1 ORDER BY instance_id COLLATE \"C\"",
            &[&replica_id],
            session_from_row,
        )
    }

    fn claim_commands(
        &self,
        replica_id: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> Result<Vec<CommandLease>> {
        let limit = limit as i64;
        Ok(self.transaction(async |tx| {
            tx.execute(
                "UPDATE commands SET owner_until_ms = $2 WHERE active AND owner_replica = $1",
                &[&replica_id, &until_ms],
            )
            .await?;
            tx.execute(
                "UPDATE commands SET owner_replica = $1, owner_epoch = owner_epoch + 1, \
                 owner_until_ms = $3 WHERE command_id IN (SELECT command_id FROM commands \
                 WHERE active AND (owner_replica IS NULL OR owner_until_ms < $2) \
                 ORDER BY requested_ms, command_id COLLATE \"C\" LIMIT $4 \
                 FOR UPDATE SKIP LOCKED) \
                 AND active AND (owner_replica IS NULL OR owner_until_ms < $2)",
                &[&replica_id, &now_ms, &until_ms, &limit],
            )
            .await?;
            let rows = tx
                .query(
                    "SELECT command_id, owner_epoch FROM commands WHERE active \
                     AND owner_replica = $1 ORDER BY requested_ms, command_id COLLATE \"C\"",
                    &[&replica_id],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    Ok(CommandLease {
                        command_id: r.try_get(0)?,
                        replica_id: replica_id.to_string(),
                        epoch: r.try_get(1)?,
                    })
                })
                .collect::<RowResult<Vec<_>>>()?)
        })?)
    }

    fn write_owned_results(
        &self,
        lease: &CommandLease,
        rows: &[(InvocationRecord, Vec<PluginRecord>)],
    ) -> Result<bool> {
        let runs = runs(rows);
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if !holds(tx, lease).await? {
                return Ok(false);
            }
            let mut transitions = Transitions::default();
            for run in &runs {
                write_batch(tx, run, &mut transitions).await?;
            }
            transitions.emit(tx, &account).await?;
            Ok(true)
        })?)
    }

    fn update_owned_command_status(
        &self,
        lease: &CommandLease,
        c: &CommandRecord,
        active: bool,
    ) -> Result<bool> {
        let account = self.event_account.get();
        let owner = (lease.replica_id.as_str(), lease.epoch);
        Ok(self.transaction(async |tx| {
            let mut transitions = Transitions::default();
            let written =
                write_command_status(tx, c, active, Some(owner), &mut transitions).await?;
            transitions.emit(tx, &account).await?;
            Ok(written)
        })?)
    }

    fn mark_deliveries(&self, marks: &[DeliveryMark]) -> Result<Vec<bool>> {
        if marks.is_empty() {
            return Ok(Vec::new());
        }
        let text = |f: fn(&DeliveryMark) -> &str| marks.iter().map(f).collect::<Vec<&str>>();
        let account = self.event_account.get();
        let written = self.transaction(async |client| {
            let statement = client
                .prepare_cached(
                    "UPDATE invocations AS i SET status = m.status, \
                     status_details = m.status_details, dispatched_ms = m.dispatched_ms \
                     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], \
                     $6::text[], $7::int8[]) AS m(command_id, instance_id, from_status, \
                     from_dispatched_ms, status, status_details, dispatched_ms) \
                     WHERE i.command_id = m.command_id AND i.instance_id = m.instance_id \
                     AND i.status = m.from_status \
                     AND i.dispatched_ms IS NOT DISTINCT FROM m.from_dispatched_ms \
                     RETURNING i.command_id, i.instance_id, m.from_status, i.status",
                )
                .await?;
            let rows = client
                .query(
                    &statement,
                    &[
                        &text(|m| &m.command_id),
                        &text(|m| &m.instance_id),
                        &text(|m| &m.from_status),
                        &marks
                            .iter()
                            .map(|m| m.from_dispatched_ms)
                            .collect::<Vec<_>>(),
                        &text(|m| &m.status),
                        &text(|m| &m.status_details),
                        &marks.iter().map(|m| m.dispatched_ms).collect::<Vec<i64>>(),
                    ],
                )
                .await?;
            let mut transitions = Transitions::default();
            let written = rows
                .iter()
                .map(|r| {
                    let key = (r.try_get::<_, String>(0)?, r.try_get::<_, String>(1)?);
                    let (from, to): (&str, &str) = (r.try_get(2)?, r.try_get(3)?);
                    transitions.invocation(&key.0, &key.1, Some(from), to);
                    Ok(key)
                })
                .collect::<RowResult<HashSet<(String, String)>>>()?;
            transitions.emit(client, &account).await?;
            Ok(written)
        })?;
        Ok(marks
            .iter()
            .map(|m| written.contains(&(m.command_id.clone(), m.instance_id.clone())))
            .collect())
    }
}
