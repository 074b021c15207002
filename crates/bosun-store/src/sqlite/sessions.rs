//! Session Manager sessions on SQLite ([`crate::SessionStore`]). The single writer connection
//! makes each token claim a compare-and-set. A session's start and end append their event in
//! their transaction.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::session_events::{session_created_event, session_ended_event, EndedSession};
use crate::sessions::{AgentReport, SessionQuery, SessionRecord, SessionStore, TokenClaim};
use crate::{Result, StoreError};

/// The columns [`session_from_row`] reads, in order.
pub(crate) const COLUMNS: &str = "session_id, region, target, document_name, owner, reason, \
     status, details, start_ms, end_ms, output_url, max_duration_s, idle_timeout_s, \
     client_token_hash, client_token_expires_ms, agent_token_hash, agent_accepted, replica_id, \
     end_reason, agent_reason, exit_code, signal, escaped_json, agent_error, agent_ended_ms, \
     handoff";

fn session_from_row(r: &Row) -> rusqlite::Result<SessionRecord> {
    let agent_reason: Option<String> = r.get(19)?;
    Ok(SessionRecord {
        session_id: r.get(0)?,
        region: r.get(1)?,
        target: r.get(2)?,
        document_name: r.get(3)?,
        owner: r.get(4)?,
        reason: r.get(5)?,
        status: r.get(6)?,
        details: r.get(7)?,
        start_ms: r.get(8)?,
        end_ms: r.get(9)?,
        output_url: r.get(10)?,
        max_duration_s: r.get(11)?,
        idle_timeout_s: r.get(12)?,
        client_token_hash: r.get(13)?,
        client_token_expires_ms: r.get(14)?,
        agent_token_hash: r.get(15)?,
        agent_accepted: r.get(16)?,
        replica_id: r.get(17)?,
        end_reason: r.get(18)?,
        handoff: r.get(25)?,
        agent_report: match agent_reason {
            None => None,
            Some(reason) => Some(AgentReport {
                reason,
                exit_code: r.get(20)?,
                signal: r.get(21)?,
                escaped_json: r.get::<_, Option<String>>(22)?.unwrap_or_default(),
                error: r.get(23)?,
                ended_ms: r.get::<_, Option<i64>>(24)?.unwrap_or_default(),
            }),
        },
    })
}

fn get(conn: &rusqlite::Connection, session_id: &str) -> Result<Option<SessionRecord>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM sessions WHERE session_id = ?1"),
            [session_id],
            session_from_row,
        )
        .optional()?)
}

/// Why a token claim that changed nothing failed.
fn refusal(found: Option<SessionRecord>) -> TokenClaim {
    match found {
        None => TokenClaim::NoSession,
        Some(s) if s.end_ms.is_some() => TokenClaim::Ended,
        Some(_) => TokenClaim::Refused,
    }
}

impl SessionStore for SqliteStore {
    fn create_session(&self, s: &SessionRecord) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let taken = tx
            .query_row(
                "SELECT 1 FROM sessions WHERE session_id = ?1",
                [&s.session_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if taken {
            return Err(StoreError::AlreadyExists(format!(
                "session {}",
                s.session_id
            )));
        }
        tx.execute(
            "INSERT INTO sessions (session_id, region, target, document_name, owner, reason, \
             status, details, start_ms, end_ms, active, output_url, max_duration_s, \
             idle_timeout_s, client_token_hash, client_token_expires_ms, agent_token_hash, \
             agent_accepted, replica_id, end_reason, handoff) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
             ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
            params![
                s.session_id,
                s.region,
                s.target,
                s.document_name,
                s.owner,
                s.reason,
                s.status,
                s.details,
                s.start_ms,
                s.end_ms,
                s.end_ms.is_none(),
                s.output_url,
                s.max_duration_s,
                s.idle_timeout_s,
                s.client_token_hash,
                s.client_token_expires_ms,
                s.agent_token_hash,
                s.agent_accepted,
                s.replica_id,
                s.end_reason,
                s.handoff,
            ],
        )?;
        let now = crate::event_outbox::now_ms();
        let event = session_created_event(&self.event_account.get(), now, s);
        super::event_outbox::append(&tx, &[event], now)?;
        tx.commit()?;
        Ok(())
    }

    fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>> {
        self.read(|conn| get(conn, session_id))
    }

    fn list_sessions(&self, q: &SessionQuery) -> Result<Vec<SessionRecord>> {
        let (after_ms, after_id) = match &q.after {
            Some((ms, id)) => (Some(*ms), Some(id.as_str())),
            None => (None, None),
        };
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sessions WHERE region = ?1 AND active = ?2 \
                 AND (?3 IS NULL OR session_id = ?3) AND (?4 IS NULL OR target = ?4) \
                 AND (?5 IS NULL OR owner = ?5) AND (?6 IS NULL OR status = ?6) \
                 AND (?7 IS NULL OR start_ms >= ?7) AND (?8 IS NULL OR start_ms <= ?8) \
                 AND (?9 IS NULL OR start_ms < ?9 OR (start_ms = ?9 AND session_id > ?10)) \
                 ORDER BY start_ms DESC, session_id LIMIT ?11"
            ))?;
            let rows = stmt.query_map(
                params![
                    q.region,
                    q.active,
                    q.session_id,
                    q.target,
                    q.owner,
                    q.status,
                    q.started_from_ms,
                    q.started_until_ms,
                    after_ms,
                    after_id,
                    q.limit as i64
                ],
                session_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn active_sessions(&self) -> Result<Vec<SessionRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sessions WHERE active = 1 ORDER BY session_id"
            ))?;
            let rows = stmt.query_map([], session_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn claim_client_token(
        &self,
        session_id: &str,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<TokenClaim> {
        let conn = self.conn();
        let used = conn.execute(
            "UPDATE sessions SET client_token_hash = '' WHERE session_id = ?1 AND active = 1 \
             AND client_token_hash <> '' AND client_token_hash = ?2 \
             AND client_token_expires_ms >= ?3",
            params![session_id, token_hash, now_ms],
        )? > 0;
        let found = get(&conn, session_id)?;
        Ok(match found {
            Some(s) if used => TokenClaim::Claimed(Box::new(s)),
            other => refusal(other),
        })
    }

    fn take_over_session(
        &self,
        session_id: &str,
        replica_id: &str,
        token_hash: &str,
    ) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE sessions SET agent_token_hash = ?3, handoff = '' WHERE session_id = ?1 \
             AND active = 1 AND replica_id = ?2 AND handoff <> ''",
            params![session_id, replica_id, token_hash],
        )? > 0)
    }

    fn claim_agent_token(&self, session_id: &str, token_hash: &str) -> Result<TokenClaim> {
        let conn = self.conn();
        let used = conn.execute(
            "UPDATE sessions SET agent_token_hash = agent_token_hash WHERE session_id = ?1 \
             AND active = 1 AND agent_token_hash <> '' AND agent_token_hash = ?2",
            params![session_id, token_hash],
        )? > 0;
        let found = get(&conn, session_id)?;
        Ok(match found {
            Some(s) if used => TokenClaim::Claimed(Box::new(s)),
            other => refusal(other),
        })
    }

    fn set_client_token(
        &self,
        session_id: &str,
        token_hash: &str,
        expires_ms: i64,
    ) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE sessions SET client_token_hash = ?2, client_token_expires_ms = ?3 \
             WHERE session_id = ?1 AND active = 1",
            params![session_id, token_hash, expires_ms],
        )? > 0)
    }

    fn mark_agent_accepted(&self, session_id: &str) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE sessions SET agent_accepted = 1 WHERE session_id = ?1 AND active = 1 \
             AND agent_accepted = 0",
            [session_id],
        )? > 0)
    }

    fn set_session_status(&self, session_id: &str, status: &str, details: &str) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE sessions SET status = ?2, details = ?3 WHERE session_id = ?1 AND active = 1",
            params![session_id, status, details],
        )? > 0)
    }

    fn set_session_output(&self, session_id: &str, output_url: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE sessions SET output_url = ?2 WHERE session_id = ?1",
            params![session_id, output_url],
        )?;
        Ok(())
    }

    fn end_session(
        &self,
        session_id: &str,
        status: &str,
        details: &str,
        end_reason: &str,
        end_ms: i64,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row = tx
            .query_row(
                "UPDATE sessions SET status = ?2, details = ?3, end_reason = ?4, end_ms = ?5, \
                 active = 0, client_token_hash = '', agent_token_hash = '' \
                 WHERE session_id = ?1 AND active = 1 \
                 RETURNING region, target, document_name, owner, start_ms",
                params![session_id, status, details, end_reason, end_ms],
                |r| {
                    Ok(EndedSession {
                        region: r.get(0)?,
                        target: r.get(1)?,
                        document_name: r.get(2)?,
                        owner: r.get(3)?,
                        start_ms: r.get(4)?,
                    })
                },
            )
            .optional()?;
        let Some(row) = row else {
            return Ok(false);
        };
        let now = crate::event_outbox::now_ms();
        let event = session_ended_event(
            &self.event_account.get(),
            now,
            session_id,
            &row,
            status,
            end_ms,
            end_reason,
        );
        super::event_outbox::append(&tx, &[event], now)?;
        tx.commit()?;
        Ok(true)
    }

    fn record_agent_report(&self, session_id: &str, r: &AgentReport) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE sessions SET agent_reason = ?2, exit_code = ?3, signal = ?4, \
             escaped_json = ?5, agent_error = ?6, agent_ended_ms = ?7 \
             WHERE session_id = ?1 AND agent_reason IS NULL",
            params![
                session_id,
                r.reason,
                r.exit_code,
                r.signal,
                r.escaped_json,
                r.error,
                r.ended_ms
            ],
        )? > 0)
    }
}
