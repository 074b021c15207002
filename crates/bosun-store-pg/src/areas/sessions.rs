//! Session Manager sessions on PostgreSQL ([`bosun_store::SessionStore`]). Token claims are one
//! conditional `UPDATE` each, so of two connections presenting one token, one wins. A
//! session's start and end append their event, last in their transaction.

use bosun_store::{
    AgentReport, Result, SessionQuery, SessionRecord, SessionStore, StoreError, TokenClaim,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::PgStore;
use bosun_store::session_events::{session_created_event, session_ended_event, EndedSession};

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const COLUMNS: &str = "session_id, region, target, document_name, owner, reason, \
     status, details, start_ms, end_ms, output_url, max_duration_s, idle_timeout_s, \
     client_token_hash, client_token_expires_ms, agent_token_hash, agent_accepted, replica_id, \
     end_reason, agent_reason, exit_code, signal, escaped_json, agent_error, agent_ended_ms, \
     handoff";

fn session_from_row(r: &Row) -> RowResult<SessionRecord> {
    let agent_reason: Option<String> = r.try_get(19)?;
    Ok(SessionRecord {
        session_id: r.try_get(0)?,
        region: r.try_get(1)?,
        target: r.try_get(2)?,
        document_name: r.try_get(3)?,
        owner: r.try_get(4)?,
        reason: r.try_get(5)?,
        status: r.try_get(6)?,
        details: r.try_get(7)?,
        start_ms: r.try_get(8)?,
        end_ms: r.try_get(9)?,
        output_url: r.try_get(10)?,
        max_duration_s: r.try_get(11)?,
        idle_timeout_s: r.try_get(12)?,
        client_token_hash: r.try_get(13)?,
        client_token_expires_ms: r.try_get(14)?,
        agent_token_hash: r.try_get(15)?,
        agent_accepted: r.try_get(16)?,
        replica_id: r.try_get(17)?,
        end_reason: r.try_get(18)?,
        handoff: r.try_get(25)?,
        agent_report: match agent_reason {
            None => None,
            Some(reason) => Some(AgentReport {
                reason,
                exit_code: r.try_get::<_, Option<i64>>(20)?.map(|c| c as i32),
                signal: r.try_get(21)?,
                escaped_json: r.try_get::<_, Option<String>>(22)?.unwrap_or_default(),
                error: r.try_get(23)?,
                ended_ms: r.try_get::<_, Option<i64>>(24)?.unwrap_or_default(),
            }),
        },
    })
}

fn rows(store: &PgStore, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<SessionRecord>> {
    Ok(store.with_client(async |client| {
        let statement = client.prepare_cached(sql).await?;
        let rows = client.query(&statement, params).await?;
        Ok(rows
            .iter()
            .map(session_from_row)
            .collect::<RowResult<Vec<_>>>()?)
    })?)
}

fn changed(store: &PgStore, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<bool> {
    Ok(store.with_client(async |client| Ok(client.execute(sql, params).await? > 0))?)
}

/// The outcome of a token claim whose `UPDATE` changed `used` rows.
fn claim_outcome(store: &PgStore, session_id: &str, used: bool) -> Result<TokenClaim> {
    Ok(match store.get_session(session_id)? {
        Some(s) if used => TokenClaim::Claimed(Box::new(s)),
        None => TokenClaim::NoSession,
        Some(s) if s.end_ms.is_some() => TokenClaim::Ended,
        Some(_) => TokenClaim::Refused,
    })
}

impl SessionStore for PgStore {
    fn create_session(&self, s: &SessionRecord) -> Result<()> {
        let active = s.end_ms.is_none();
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let inserted = tx.execute(
            "INSERT INTO sessions (session_id, region, target, document_name, owner, reason, \
             status, details, start_ms, end_ms, active, output_url, max_duration_s, \
             idle_timeout_s, client_token_hash, client_token_expires_ms, agent_token_hash, \
             agent_accepted, replica_id, end_reason, handoff) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) ON CONFLICT DO NOTHING",
            &[
                &s.session_id,
                &s.region,
                &s.target,
                &s.document_name,
                &s.owner,
                &s.reason,
                &s.status,
                &s.details,
                &s.start_ms,
                &s.end_ms,
                &active,
                &s.output_url,
                &s.max_duration_s,
                &s.idle_timeout_s,
                &s.client_token_hash,
                &s.client_token_expires_ms,
                &s.agent_token_hash,
                &s.agent_accepted,
                &s.replica_id,
                &s.end_reason,
                &s.handoff,
            ],
        ).await? > 0;
            if !inserted {
                return Err(StoreError::AlreadyExists(format!("session {}", s.session_id)).into());
            }
            let now = bosun_store::now_ms();
            let event = session_created_event(&account, now, s);
            super::event_outbox::append(tx, &[event], now).await?;
            Ok(())
        })?)
    }

    fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE session_id = $1");
        Ok(rows(self, &sql, &[&session_id])?.into_iter().next())
    }

    fn list_sessions(&self, q: &SessionQuery) -> Result<Vec<SessionRecord>> {
        let (after_ms, after_id) = match &q.after {
            Some((ms, id)) => (Some(*ms), Some(id.clone())),
            None => (None, None),
        };
        let limit = q.limit as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE region = $1 AND active = $2 \
             AND ($3::text IS NULL OR session_id = $3) AND ($4::text IS NULL OR target = $4) \
             AND ($5::text IS NULL OR owner = $5) AND ($6::text IS NULL OR status = $6) \
             AND ($7::int8 IS NULL OR start_ms >= $7) AND ($8::int8 IS NULL OR start_ms <= $8) \
             AND ($9::int8 IS NULL OR start_ms < $9 OR (start_ms = $9 \
             AND session_id COLLATE \"C\" > $10::text)) \
             ORDER BY start_ms DESC, session_id COLLATE \"C\" LIMIT $11"
        );
        rows(
            self,
            &sql,
            &[
                &q.region,
                &q.active,
                &q.session_id,
                &q.target,
                &q.owner,
                &q.status,
                &q.started_from_ms,
                &q.started_until_ms,
                &after_ms,
                &after_id,
                &limit,
            ],
        )
    }

    fn active_sessions(&self) -> Result<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE active ORDER BY session_id COLLATE \"C\""
        );
        rows(self, &sql, &[])
    }

    fn claim_client_token(
        &self,
        session_id: &str,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<TokenClaim> {
        let used = changed(
            self,
            "UPDATE sessions SET client_token_hash = '' WHERE session_id = $1 AND active \
             AND client_token_hash <> '' AND client_token_hash = $2 \
             AND client_token_expires_ms >= $3",
            &[&session_id, &token_hash, &now_ms],
        )?;
        claim_outcome(self, session_id, used)
    }

    fn take_over_session(
        &self,
        session_id: &str,
        replica_id: &str,
        token_hash: &str,
    ) -> Result<bool> {
        changed(
            self,
            "UPDATE sessions SET agent_token_hash = $3, handoff = '' WHERE session_id = $1 \
             AND active AND replica_id = $2 AND handoff <> ''",
            &[&session_id, &replica_id, &token_hash],
        )
    }

    fn claim_agent_token(&self, session_id: &str, token_hash: &str) -> Result<TokenClaim> {
        let used = changed(
            self,
            "UPDATE sessions SET agent_token_hash = agent_token_hash WHERE session_id = $1 \
             AND active AND agent_token_hash <> '' AND agent_token_hash = $2",
            &[&session_id, &token_hash],
        )?;
        claim_outcome(self, session_id, used)
    }

    fn set_client_token(
        &self,
        session_id: &str,
        token_hash: &str,
        expires_ms: i64,
    ) -> Result<bool> {
        changed(
            self,
            "UPDATE sessions SET client_token_hash = $2, client_token_expires_ms = $3 \
             WHERE session_id = $1 AND active",
            &[&session_id, &token_hash, &expires_ms],
        )
    }

    fn mark_agent_accepted(&self, session_id: &str) -> Result<bool> {
        changed(
            self,
            "UPDATE sessions SET agent_accepted = TRUE WHERE session_id = $1 AND active \
             AND NOT agent_accepted",
            &[&session_id],
        )
    }

    fn set_session_status(&self, session_id: &str, status: &str, details: &str) -> Result<bool> {
        changed(
            self,
            "UPDATE sessions SET status = $2, details = $3 WHERE session_id = $1 AND active",
            &[&session_id, &status, &details],
        )
    }

    fn set_session_output(&self, session_id: &str, output_url: &str) -> Result<()> {
        changed(
            self,
            "UPDATE sessions SET output_url = $2 WHERE session_id = $1",
            &[&session_id, &output_url],
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
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let row = tx
                .query_opt(
                    "UPDATE sessions SET status = $2, details = $3, end_reason = $4, \
                     end_ms = $5, active = FALSE, client_token_hash = '', agent_token_hash = '' \
                     WHERE session_id = $1 AND active \
                     RETURNING region, target, document_name, owner, start_ms",
                    &[&session_id, &status, &details, &end_reason, &end_ms],
                )
                .await?;
            let Some(row) = row else {
                return Ok(false);
            };
            let ended = EndedSession {
                region: row.get(0),
                target: row.get(1),
                document_name: row.get(2),
                owner: row.get(3),
                start_ms: row.get(4),
            };
            let now = bosun_store::now_ms();
            let event = session_ended_event(
                &account, now, session_id, &ended, status, end_ms, end_reason,
            );
            super::event_outbox::append(tx, &[event], now).await?;
            Ok(true)
        })?)
    }

    fn record_agent_report(&self, session_id: &str, r: &AgentReport) -> Result<bool> {
        let exit_code = r.exit_code.map(i64::from);
        changed(
            self,
            "UPDATE sessions SET agent_reason = $2, exit_code = $3, signal = $4, \
             escaped_json = $5, agent_error = $6, agent_ended_ms = $7 \
             WHERE session_id = $1 AND agent_reason IS NULL",
            &[
                &session_id,
                &r.reason,
                &exit_code,
                &r.signal,
                &r.escaped_json,
                &r.error,
                &r.ended_ms,
            ],
        )
    }
}
