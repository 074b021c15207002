//! Replicas, agent sessions and command ownership on SQLite. One process serves a SQLite file,
//! so these find it alone; they keep the same rules as on PostgreSQL (the single writer
//! connection makes each method atomic).

use rusqlite::{params, OptionalExtension, Row};

use super::command_events::Emitter;
use super::commands::{write_command_status, write_rows};
use super::SqliteStore;
use crate::commands::{CommandRecord, InvocationRecord, PluginRecord};
use crate::replicas::{AgentSession, CommandLease, DeliveryMark, ReplicaRecord, ReplicaStore};
use crate::Result;

fn replica_from_row(r: &Row) -> rusqlite::Result<ReplicaRecord> {
    Ok(ReplicaRecord {
        replica_id: r.get(0)?,
        started_ms: r.get(1)?,
        heartbeat_ms: r.get(2)?,
        keyring_fingerprint: r.get(3)?,
        url: r.get(4)?,
    })
}

fn session_from_row(r: &Row) -> rusqlite::Result<AgentSession> {
    Ok(AgentSession {
        instance_id: r.get(0)?,
        replica_id: r.get(1)?,
        session_epoch: r.get(2)?,
        connected_ms: r.get(3)?,
    })
}

/// Whether `lease` still holds, inside a write transaction.
fn holds(tx: &rusqlite::Transaction<'_>, lease: &CommandLease) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM commands WHERE command_id = ?1 AND owner_replica = ?2 AND owner_epoch = ?3",
            params![lease.command_id, lease.replica_id, lease.epoch],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

impl ReplicaStore for SqliteStore {
    fn heartbeat_replica(&self, r: &ReplicaRecord) -> Result<()> {
        self.conn().execute(
            "INSERT INTO replicas (replica_id, started_ms, heartbeat_ms, keyring_fingerprint, url) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (replica_id) DO UPDATE SET \
             heartbeat_ms = excluded.heartbeat_ms, keyring_fingerprint = excluded.keyring_fingerprint, \
             url = excluded.url",
            params![r.replica_id, r.started_ms, r.heartbeat_ms, r.keyring_fingerprint, r.url],
        )?;
        Ok(())
    }

    fn live_replicas(&self, since_ms: i64) -> Result<Vec<ReplicaRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT replica_id, started_ms, heartbeat_ms, keyring_fingerprint, url FROM replicas \
             WHERE heartbeat_ms >= ?1 ORDER BY replica_id",
        )?;
        let rows = stmt.query_map([since_ms], replica_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn forget_replicas_before(&self, before_ms: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE agent_sessions SET replica_id = '' WHERE replica_id IN \
             (SELECT replica_id FROM replicas WHERE heartbeat_ms < ?1)",
            [before_ms],
        )?;
        tx.execute("DELETE FROM replicas WHERE heartbeat_ms < ?1", [before_ms])?;
        tx.commit()?;
        Ok(())
    }

    fn leave_replica(&self, replica_id: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE commands SET owner_until_ms = -1 WHERE active = 1 AND owner_replica = ?1",
            [replica_id],
        )?;
        tx.execute(
            "UPDATE agent_sessions SET replica_id = '' WHERE replica_id = ?1",
            [replica_id],
        )?;
        tx.execute("DELETE FROM replicas WHERE replica_id = ?1", [replica_id])?;
        tx.commit()?;
        Ok(())
    }

    fn open_agent_session(&self, instance_id: &str, replica_id: &str, now_ms: i64) -> Result<i64> {
        Ok(self.conn().query_row(
            "INSERT INTO agent_sessions (instance_id, replica_id, session_epoch, connected_ms) \
             VALUES (?1, ?2, 1, ?3) ON CONFLICT (instance_id) DO UPDATE SET \
             replica_id = excluded.replica_id, session_epoch = agent_sessions.session_epoch + 1, \
             connected_ms = excluded.connected_ms RETURNING session_epoch",
            params![instance_id, replica_id, now_ms],
            |r| r.get(0),
        )?)
    }

    fn close_agent_session(&self, instance_id: &str, replica_id: &str, epoch: i64) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE agent_sessions SET replica_id = '' WHERE instance_id = ?1 AND replica_id = ?2 \
             AND session_epoch = ?3",
            params![instance_id, replica_id, epoch],
        )? > 0)
    }

    fn live_agent_sessions(&self, since_ms: i64) -> Result<Vec<AgentSession>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT s.instance_id, s.replica_id, s.session_epoch, s.connected_ms \
             FROM agent_sessions s JOIN replicas r ON r.replica_id = s.replica_id \
             WHERE r.heartbeat_ms >= ?1 ORDER BY s.instance_id",
        )?;
        let rows = stmt.query_map([since_ms], session_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn agent_sessions_of_replica(&self, replica_id: &str) -> Result<Vec<AgentSession>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT instance_id, replica_id, session_epoch, connected_ms FROM agent_sessions \
             WHERE replica_id = ?1 ORDER BY instance_id",
        )?;
        let rows = stmt.query_map([replica_id], session_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn claim_commands(
        &self,
        replica_id: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> Result<Vec<CommandLease>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE commands SET owner_until_ms = ?2 WHERE active = 1 AND owner_replica = ?1",
            params![replica_id, until_ms],
        )?;
        tx.execute(
            "UPDATE commands SET owner_replica = ?1, owner_epoch = owner_epoch + 1, \
             owner_until_ms = ?3 WHERE command_id IN (SELECT command_id FROM commands \
             WHERE active = 1 AND (owner_replica IS NULL OR owner_until_ms < ?2) \
             ORDER BY requested_ms, command_id LIMIT ?4)",
            params![replica_id, now_ms, until_ms, limit as i64],
        )?;
        let leases = {
            let mut stmt = tx.prepare_cached(
                "SELECT command_id, owner_epoch FROM commands WHERE active = 1 \
                 AND owner_replica = ?1 ORDER BY requested_ms, command_id",
            )?;
            let rows = stmt.query_map([replica_id], |r| {
                Ok(CommandLease {
                    command_id: r.get(0)?,
                    replica_id: replica_id.to_string(),
                    epoch: r.get(1)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        tx.commit()?;
        Ok(leases)
    }

    fn write_owned_results(
        &self,
        lease: &CommandLease,
        rows: &[(InvocationRecord, Vec<PluginRecord>)],
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if !holds(&tx, lease)? {
            return Ok(false);
        }
        write_rows(&tx, rows, &self.event_account.get())?;
        tx.commit()?;
        Ok(true)
    }

    fn update_owned_command_status(
        &self,
        lease: &CommandLease,
        c: &CommandRecord,
        active: bool,
    ) -> Result<bool> {
        let account = self.event_account.get();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let owner = (lease.replica_id.as_str(), lease.epoch);
        let written = write_command_status(&tx, c, active, Some(owner), &account)?;
        tx.commit()?;
        Ok(written)
    }

    fn mark_deliveries(&self, marks: &[DeliveryMark]) -> Result<Vec<bool>> {
        let account = self.event_account.get();
        let mut events = Emitter::new(&account);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut written = Vec::with_capacity(marks.len());
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE invocations SET status = ?5, status_details = ?6, dispatched_ms = ?7 \
                 WHERE command_id = ?1 AND instance_id = ?2 AND status = ?3 \
                 AND dispatched_ms IS ?4",
            )?;
            for m in marks {
                let done = stmt.execute(params![
                    m.command_id,
                    m.instance_id,
                    m.from_status,
                    m.from_dispatched_ms,
                    m.status,
                    m.status_details,
                    m.dispatched_ms
                ])? > 0;
                if done {
                    let from = Some(m.from_status.as_str());
                    events.invocation(&tx, &m.command_id, &m.instance_id, from, &m.status)?;
                }
                written.push(done);
            }
        }
        events.flush(&tx)?;
        tx.commit()?;
        Ok(written)
    }
}
