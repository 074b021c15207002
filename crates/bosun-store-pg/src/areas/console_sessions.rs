//! Console sessions on PostgreSQL ([`bosun_store::ConsoleSessionStore`]): each method is one
//! statement; a duplicate token hash is refused by the primary key (`ON CONFLICT DO NOTHING`).

use bosun_store::{ConsoleSessionRecord, ConsoleSessionStore, Result, StoreError};
use tokio_postgres::Row;

use crate::PgStore;

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const COLS: &str = "token_hash, access_key_id, created_ms, expires_ms";

fn from_row(r: &Row) -> RowResult<ConsoleSessionRecord> {
    Ok(ConsoleSessionRecord {
        token_hash: r.try_get(0)?,
        access_key_id: r.try_get(1)?,
        created_ms: r.try_get(2)?,
        expires_ms: r.try_get(3)?,
    })
}

impl ConsoleSessionStore for PgStore {
    fn create_console_session(&self, s: &ConsoleSessionRecord) -> Result<()> {
        let n = self.with_client(async |client| {
            Ok(client
                .execute(
                    &format!(
                        "INSERT INTO console_sessions ({COLS}) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (token_hash) DO NOTHING"
                    ),
                    &[
                        &s.token_hash,
                        &s.access_key_id,
                        &s.created_ms,
                        &s.expires_ms,
                    ],
                )
                .await?)
        })?;
        if n == 0 {
            return Err(StoreError::AlreadyExists("console session".into()));
        }
        Ok(())
    }

    fn live_console_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<ConsoleSessionRecord>> {
        Ok(self.with_client(async |client| {
            let row = client
                .query_opt(
                    &format!(
                        "SELECT {COLS} FROM console_sessions WHERE token_hash = $1 AND expires_ms > $2"
                    ),
                    &[&token_hash, &now_ms],
                )
                .await?;
            Ok(row.as_ref().map(from_row).transpose()?)
        })?)
    }

    fn delete_console_session(&self, token_hash: &str) -> Result<bool> {
        let n = self.with_client(async |client| {
            Ok(client
                .execute(
                    "DELETE FROM console_sessions WHERE token_hash = $1",
                    &[&token_hash],
                )
                .await?)
        })?;
        Ok(n > 0)
    }

    fn prune_console_sessions(&self, now_ms: i64) -> Result<usize> {
        let n = self.with_client(async |client| {
            client
                .execute(
                    "DELETE FROM console_signin_failures WHERE expires_ms <= $1",
                    &[&now_ms],
                )
                .await?;
            Ok(client
                .execute(
                    "DELETE FROM console_sessions WHERE expires_ms <= $1",
                    &[&now_ms],
                )
                .await?)
        })?;
        Ok(n as usize)
    }

    fn note_signin_failure(&self, key: &str, window_start_ms: i64, expires_ms: i64) -> Result<u32> {
        let count: i64 = self.with_client(async |client| {
            let row = client
                .query_one(
                    "INSERT INTO console_signin_failures (key, window_start_ms, count, expires_ms) \
                     VALUES ($1, $2, 1, $3) \
                     ON CONFLICT (key, window_start_ms) \
                     DO UPDATE SET count = console_signin_failures.count + 1 \
                     RETURNING count",
                    &[&key, &window_start_ms, &expires_ms],
                )
                .await?;
            Ok(row.try_get(0)?)
        })?;
        Ok(count as u32)
    }

    fn signin_failures(&self, key: &str, window_start_ms: i64) -> Result<u32> {
        let count: Option<i64> = self.with_client(async |client| {
            let row = client
                .query_opt(
                    "SELECT count FROM console_signin_failures \
                     WHERE key = $1 AND window_start_ms = $2",
                    &[&key, &window_start_ms],
                )
                .await?;
            Ok(match row {
                Some(r) => Some(r.try_get(0)?),
                None => None,
            })
        })?;
        Ok(count.unwrap_or(0) as u32)
    }
}
