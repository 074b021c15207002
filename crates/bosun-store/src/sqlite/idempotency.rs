//! Stored calls on SQLite: the `idempotency` table, claims in `IMMEDIATE` transactions, and
//! the writing of a call's records inside the transaction of its change.

use rusqlite::{params, Connection, OptionalExtension};

use super::audit::append_in;
use super::SqliteStore;
use crate::idempotency::{decide, CallRecords, CallStore, Claim, ClaimRequest, StoredCall};
use crate::{Result, StoreError};

/// Write a call's records inside the caller's `IMMEDIATE` transaction. The answer completes
/// the call's claim; a call already answered keeps its answer and the write fails with
/// `AlreadyExists`, so the caller's change rolls back (a second execution of a call that was
/// only looked up, see [`CallStore::look_up_call`]).
pub(crate) fn write_call_records(tx: &rusqlite::Transaction, records: &CallRecords) -> Result<()> {
    if let Some(r) = records.audit {
        append_in(tx, r)?;
    }
    if let Some(a) = records.answer {
        tx.prepare_cached("DELETE FROM idempotency WHERE expires_ms <= ?1")?
            .execute([a.now_ms])?;
        let written = tx
            .prepare_cached(
                "INSERT INTO idempotency (call_id, owner, answered, status, error_type, sealed_body, expires_ms) \
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (call_id) DO UPDATE SET owner = excluded.owner, answered = 1, \
                 status = excluded.status, error_type = excluded.error_type, \
                 sealed_body = excluded.sealed_body, expires_ms = excluded.expires_ms \
                 WHERE idempotency.answered = 0",
            )?
            .execute(params![
            a.call_id,
            a.owner,
            a.answer.status,
            a.answer.error_type,
            a.answer.sealed_body,
                a.expires_ms
            ])?;
        if written == 0 {
            return Err(StoreError::AlreadyExists(format!(
                "the answer of call {}",
                a.call_id
            )));
        }
    }
    Ok(())
}

impl CallStore for SqliteStore {
    /// Commits the claim with `synchronous=NORMAL` for this one transaction: in WAL mode
    /// commits reach the log in order, so the claim is durable as soon as anything committed
    /// after it is.
    fn claim_call(&self, c: &ClaimRequest) -> Result<Claim> {
        let mut conn = self.conn();
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let claimed = claim_in(&mut conn, c);
        // Every other transaction on this connection must stay fully synchronous.
        let restored = conn.pragma_update(None, "synchronous", "FULL");
        let claimed = claimed?;
        restored?;
        Ok(claimed)
    }

    fn look_up_call(&self, c: &ClaimRequest) -> Result<Claim> {
        let row = self.read(|conn| select(conn, c))?;
        Ok(decide(row, c))
    }

    fn record_call(&self, records: CallRecords) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        write_call_records(&tx, &records)?;
        tx.commit()?;
        Ok(())
    }
}

/// The call's row, unless it expired.
fn select(conn: &Connection, c: &ClaimRequest) -> Result<Option<StoredCall>> {
    Ok(conn
        .prepare_cached(
            "SELECT owner, answered, status, error_type, sealed_body \
             FROM idempotency WHERE call_id = ?1 AND expires_ms > ?2",
        )?
        .query_row(params![c.call_id, c.now_ms], |r| {
            Ok(StoredCall {
                owner: r.get(0)?,
                answered: r.get(1)?,
                status: r.get(2)?,
                error_type: r.get(3)?,
                sealed_body: r.get(4)?,
            })
        })
        .optional()?)
}

fn claim_in(conn: &mut Connection, c: &ClaimRequest) -> Result<Claim> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.prepare_cached("DELETE FROM idempotency WHERE expires_ms <= ?1")?
        .execute([c.now_ms])?;
    let claim = decide(select(&tx, c)?, c);
    if claim == Claim::Execute {
        tx.prepare_cached(
            "INSERT INTO idempotency (call_id, owner, answered, expires_ms) VALUES (?1, ?2, 0, ?3)",
        )?
        .execute(params![c.call_id, c.owner, c.expires_ms])?;
    }
    tx.commit()?;
    Ok(claim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::{Answer, StoredAnswer};

    fn request<'a>(call_id: &'a str, owner: &'a str, now_ms: i64) -> ClaimRequest<'a> {
        ClaimRequest {
            call_id,
            owner,
            live_owners: &[],
            now_ms,
            expires_ms: now_ms + 1000,
        }
    }

    fn record(store: &SqliteStore, call_id: &str, now_ms: i64) {
        let a = Answer {
            call_id: call_id.into(),
            owner: "p1".into(),
            now_ms,
            expires_ms: now_ms + 1000,
            answer: StoredAnswer {
                status: 200,
                error_type: None,
                sealed_body: b"x".to_vec(),
            },
        };
        store
            .record_call(CallRecords {
                audit: None,
                answer: Some(&a),
            })
            .unwrap();
    }

    fn rows(store: &SqliteStore) -> i64 {
        store
            .conn()
            .query_row("SELECT COUNT(*) FROM idempotency", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn expired_rows_are_swept_by_claims_and_answers_and_look_ups_write_nothing() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.look_up_call(&request("a", "p1", 0)).unwrap();
        assert_eq!(rows(&store), 0, "a look-up claims nothing");
        store.claim_call(&request("a", "p1", 0)).unwrap();
        record(&store, "a", 0);
        store.claim_call(&request("b", "p1", 0)).unwrap();
        assert_eq!(rows(&store), 2);
        store.claim_call(&request("a", "p1", 1000)).unwrap();
        assert_eq!(
            rows(&store),
            1,
            "the expired `b` is gone, `a` is claimed afresh"
        );
        record(&store, "c", 5000);
        assert_eq!(rows(&store), 1, "only `c` is left");
    }

    #[test]
    fn claims_leave_the_connection_fully_synchronous() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).unwrap();
        store.claim_call(&request("a", "p1", 0)).unwrap();
        let sync: i64 = store
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
    }
}
