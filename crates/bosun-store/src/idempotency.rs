//! Stored calls for idempotent retries: a mutating call sent with an SDK invocation id is claimed
//! before it runs and answered after, so a retry of it gets the first answer back instead of
//! acting twice, also across a server restart. Rules in `bosun_core::idempotency`.

use bosun_core::idempotency::{attempt, Attempt, Stored};
use rusqlite::{params, Connection, OptionalExtension};

use crate::audit::{append_in, AuditRecord};
use crate::{Result, Store};

/// A call's answer as stored: the body is sealed by the API (the store never sees it in clear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    /// The `x-amzn-errortype` of an error answer.
    pub error_type: Option<String>,
    pub sealed_body: Vec<u8>,
}

/// The answer of the call `call_id`, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub call_id: String,
    pub answer: StoredAnswer,
}

/// What the API records about a call besides its change: its audit record and, for a call
/// sent with an invocation id, its answer. Written in one transaction (the change's own, or
/// [`Store::record_call`] right after it).
#[derive(Debug, Default, Clone, Copy)]
pub struct CallRecords<'a> {
    pub audit: Option<&'a AuditRecord>,
    pub answer: Option<&'a Answer>,
}

impl CallRecords<'_> {
    fn is_empty(&self) -> bool {
        self.audit.is_none() && self.answer.is_none()
    }

    /// Write the records inside the caller's `IMMEDIATE` transaction.
    pub(crate) fn write_in(&self, tx: &rusqlite::Transaction) -> Result<()> {
        if let Some(r) = self.audit {
            append_in(tx, r)?;
        }
        if let Some(a) = self.answer {
            tx.prepare_cached(
                "UPDATE idempotency SET answered = 1, status = ?2, error_type = ?3, sealed_body = ?4 \
                 WHERE call_id = ?1",
            )?
            .execute(params![
                a.call_id,
                a.answer.status,
                a.answer.error_type,
                a.answer.sealed_body
            ])?;
        }
        Ok(())
    }
}

/// What claiming a call found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Claimed: execute the call, then record its answer.
    Execute,
    /// The first attempt's answer.
    Replay(StoredAnswer),
    /// The first attempt is still running in this server process.
    InProgress,
    /// The first attempt was cut off by a restart and may have taken effect.
    Interrupted,
}

/// A claim to make: the call, this server process, and whether the call's operation records its
/// answer in the same transaction as its change.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    pub call_id: &'a str,
    pub owner: &'a str,
    pub answers_with_change: bool,
    pub now_ms: i64,
    pub expires_ms: i64,
}

impl Store {
    /// Claim a call before executing it, atomically: the first attempt to claim it executes,
    /// later ones get what [`attempt`] decides. Rows past their expiry are swept here.
    ///
    /// The claim is committed without its own disk sync (`synchronous=NORMAL` for this one
    /// transaction): in WAL mode commits reach the log in order, so the claim is durable as soon
    /// as anything committed after it is, in particular the call's own change. A claim lost in a
    /// crash therefore belongs to a call that changed nothing, whose retry may run it.
    pub fn claim_call(&self, c: &ClaimRequest) -> Result<Claim> {
        let mut conn = self.conn();
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let claimed = claim_in(&mut conn, c);
        // Every other transaction on this connection must stay fully synchronous.
        let restored = conn.pragma_update(None, "synchronous", "FULL");
        let claimed = claimed?;
        restored?;
        Ok(claimed)
    }

    /// Write a call's records in one transaction (after a change that did not write them).
    pub fn record_call(&self, records: CallRecords) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        records.write_in(&tx)?;
        tx.commit()?;
        Ok(())
    }
}

fn claim_in(conn: &mut Connection, c: &ClaimRequest) -> Result<Claim> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.prepare_cached("DELETE FROM idempotency WHERE expires_ms <= ?1")?
        .execute([c.now_ms])?;
    type Row = (
        String,
        bool,
        bool,
        Option<u16>,
        Option<String>,
        Option<Vec<u8>>,
    );
    let row: Option<Row> = tx
        .prepare_cached(
            "SELECT owner, answers_with_change, answered, status, error_type, sealed_body \
             FROM idempotency WHERE call_id = ?1",
        )?
        .query_row([c.call_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let stored = row
        .as_ref()
        .map(|(owner, answers_with_change, answered, ..)| {
            if *answered {
                Stored::Answered
            } else {
                Stored::InFlight {
                    owner,
                    answers_with_change: *answers_with_change,
                }
            }
        });
    let claim = match attempt(stored, c.owner) {
        Attempt::Execute | Attempt::TakeOver => {
            tx.prepare_cached(
                "INSERT INTO idempotency (call_id, owner, answers_with_change, answered, expires_ms) \
                 VALUES (?1, ?2, ?3, 0, ?4) \
                 ON CONFLICT (call_id) DO UPDATE SET owner = excluded.owner, \
                 answers_with_change = excluded.answers_with_change, expires_ms = excluded.expires_ms",
            )?
            .execute(params![c.call_id, c.owner, c.answers_with_change, c.expires_ms])?;
            Claim::Execute
        }
        Attempt::Replay => {
            let (_, _, _, status, error_type, sealed_body) = row.expect("an answered row");
            Claim::Replay(StoredAnswer {
                status: status.unwrap_or(200),
                error_type,
                sealed_body: sealed_body.unwrap_or_default(),
            })
        }
        Attempt::InProgress => Claim::InProgress,
        Attempt::Interrupted => Claim::Interrupted,
    };
    tx.commit()?;
    Ok(claim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(call_id: &'a str, owner: &'a str, now_ms: i64) -> ClaimRequest<'a> {
        ClaimRequest {
            call_id,
            owner,
            answers_with_change: false,
            now_ms,
            expires_ms: now_ms + 1000,
        }
    }

    fn answer(call_id: &str, body: &[u8]) -> Answer {
        Answer {
            call_id: call_id.into(),
            answer: StoredAnswer {
                status: 200,
                error_type: None,
                sealed_body: body.to_vec(),
            },
        }
    }

    #[test]
    fn the_first_attempt_executes_and_retries_get_its_answer() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(
            store.claim_call(&request("a", "p1", 0)).unwrap(),
            Claim::Execute
        );
        assert_eq!(
            store.claim_call(&request("a", "p1", 1)).unwrap(),
            Claim::InProgress
        );
        // Another call is independent.
        assert_eq!(
            store.claim_call(&request("b", "p1", 1)).unwrap(),
            Claim::Execute
        );
        let a = answer("a", b"sealed");
        store
            .record_call(CallRecords {
                audit: None,
                answer: Some(&a),
            })
            .unwrap();
        assert_eq!(
            store.claim_call(&request("a", "p1", 2)).unwrap(),
            Claim::Replay(a.answer.clone())
        );
        // A later server process replays it too.
        assert_eq!(
            store.claim_call(&request("a", "p2", 3)).unwrap(),
            Claim::Replay(a.answer)
        );
    }

    #[test]
    fn an_unanswered_call_of_a_gone_process_is_run_again_only_when_that_changed_nothing() {
        let store = Store::open_in_memory().unwrap();
        store.claim_call(&request("plain", "p1", 0)).unwrap();
        assert_eq!(
            store.claim_call(&request("plain", "p2", 1)).unwrap(),
            Claim::Interrupted
        );
        let atomic = ClaimRequest {
            answers_with_change: true,
            ..request("atomic", "p1", 0)
        };
        store.claim_call(&atomic).unwrap();
        let retry = ClaimRequest {
            owner: "p2",
            now_ms: 1,
            ..atomic
        };
        assert_eq!(store.claim_call(&retry).unwrap(), Claim::Execute);
        // Now p2 holds it.
        assert_eq!(store.claim_call(&retry).unwrap(), Claim::InProgress);
    }

    #[test]
    fn expired_calls_are_swept_and_run_as_new() {
        let store = Store::open_in_memory().unwrap();
        store.claim_call(&request("a", "p1", 0)).unwrap();
        store
            .record_call(CallRecords {
                audit: None,
                answer: Some(&answer("a", b"x")),
            })
            .unwrap();
        store.claim_call(&request("b", "p1", 0)).unwrap();
        assert_eq!(
            store.claim_call(&request("a", "p1", 1000)).unwrap(),
            Claim::Execute
        );
        let rows: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM idempotency", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the expired `b` is gone, `a` is claimed afresh");
    }

    #[test]
    fn claims_leave_the_connection_fully_synchronous() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        store.claim_call(&request("a", "p1", 0)).unwrap();
        let sync: i64 = store
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
    }

    #[test]
    fn records_are_written_together() {
        let store = Store::open_in_memory().unwrap();
        store.claim_call(&request("a", "p1", 0)).unwrap();
        let audit = AuditRecord {
            time_ms: 0,
            principal: "admin".into(),
            action: "ssm:PutParameter".into(),
            region: "us-east-1".into(),
            resource: "*".into(),
            request_id: "r".into(),
            source: "127.0.0.1".into(),
            outcome: "Allowed".into(),
            detail: String::new(),
        };
        let a = answer("a", b"x");
        store
            .record_call(CallRecords {
                audit: Some(&audit),
                answer: Some(&a),
            })
            .unwrap();
        assert_eq!(store.audit_records().unwrap().len(), 1);
        assert_eq!(
            store.claim_call(&request("a", "p1", 1)).unwrap(),
            Claim::Replay(a.answer)
        );
    }
}
