//! Console sessions on SQLite ([`crate::ConsoleSessionStore`]).

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::console_sessions::{ConsoleSessionRecord, ConsoleSessionStore};
use crate::{Result, StoreError};

const COLS: &str = "token_hash, access_key_id, created_ms, expires_ms";

fn from_row(r: &Row) -> rusqlite::Result<ConsoleSessionRecord> {
    Ok(ConsoleSessionRecord {
        token_hash: r.get(0)?,
        access_key_id: r.get(1)?,
        created_ms: r.get(2)?,
        expires_ms: r.get(3)?,
    })
}

impl ConsoleSessionStore for SqliteStore {
    fn create_console_session(&self, s: &ConsoleSessionRecord) -> Result<()> {
        let n = self.conn().execute(
            &format!(
                "INSERT INTO console_sessions ({COLS}) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (token_hash) DO NOTHING"
            ),
            params![s.token_hash, s.access_key_id, s.created_ms, s.expires_ms],
        )?;
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
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {COLS} FROM console_sessions WHERE token_hash = ?1 AND expires_ms > ?2"
                    ),
                    params![token_hash, now_ms],
                    from_row,
                )
                .optional()?)
        })
    }

    fn delete_console_session(&self, token_hash: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM console_sessions WHERE token_hash = ?1",
            [token_hash],
        )?;
        Ok(n > 0)
    }

    fn prune_console_sessions(&self, now_ms: i64) -> Result<usize> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM console_signin_failures WHERE expires_ms <= ?1",
            [now_ms],
        )?;
        Ok(conn.execute(
            "DELETE FROM console_sessions WHERE expires_ms <= ?1",
            [now_ms],
        )?)
    }

    fn note_signin_failure(&self, key: &str, window_start_ms: i64, expires_ms: i64) -> Result<u32> {
        let count: i64 = self.conn().query_row(
            "INSERT INTO console_signin_failures (key, window_start_ms, count, expires_ms) \
             VALUES (?1, ?2, 1, ?3) \
             ON CONFLICT (key, window_start_ms) DO UPDATE SET count = count + 1 \
             RETURNING count",
            params![key, window_start_ms, expires_ms],
            |r| r.get(0),
        )?;
        Ok(count as u32)
    }

    fn signin_failures(&self, key: &str, window_start_ms: i64) -> Result<u32> {
        self.read(|conn| {
            let count: Option<i64> = conn
                .query_row(
                    "SELECT count FROM console_signin_failures \
                     WHERE key = ?1 AND window_start_ms = ?2",
                    params![key, window_start_ms],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(count.unwrap_or(0) as u32)
        })
    }
}
