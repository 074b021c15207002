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

/// The answer of the call `call_id`, to record (replacing its claim, if it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub call_id: String,
    /// The server process answering.
    pub owner: String,
    /// Now (rows expired by then are swept) and when this answer expires.
    pub now_ms: i64,
    pub expires_ms: i64,
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
            tx.prepare_cached("DELETE FROM idempotency WHERE expires_ms <= ?1")?
                .execute([a.now_ms])?;
            tx.prepare_cached(
                "INSERT INTO idempotency (call_id, owner, answered, status, error_type, sealed_body, expires_ms) \
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (call_id) DO UPDATE SET owner = excluded.owner, answered = 1, \
                 status = excluded.status, error_type = excluded.error_type, \
                 sealed_body = excluded.sealed_body, expires_ms = excluded.expires_ms",
            )?
            .execute(params![
                a.call_id,
                a.owner,
                a.answer.status,
                a.answer.error_type,
                a.answer.sealed_body,
                a.expires_ms
            ])?;
        }
        Ok(())
    }
}

/// What a new attempt of a call found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Execute the call, then record its answer (claimed, when it came from
    /// [`Store::claim_call`]).
    Execute,
    /// The first attempt's answer.
    Replay(StoredAnswer),
    /// The first attempt is still running in this server process.
    InProgress,
    /// The first attempt was cut off by a restart and may have taken effect.
    Interrupted,
}

/// A call to claim or look up, by this server process at `now_ms`.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    pub call_id: &'a str,
    pub owner: &'a str,
    pub now_ms: i64,
    /// When a claim made now expires.
    pub expires_ms: i64,
}

type Row = (String, bool, Option<u16>, Option<String>, Option<Vec<u8>>);

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

    /// What is stored for a call, without claiming it: for operations that record their answer
    /// in the transaction of their change, where a claim would add nothing (a crash leaves
    /// either no change and no answer, or both). `Execute` means nothing is stored.
    pub fn look_up_call(&self, c: &ClaimRequest) -> Result<Claim> {
        let row = self.read(|conn| select(conn, c))?;
        Ok(decide(row, c))
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

/// The call's row, unless it expired.
fn select(conn: &Connection, c: &ClaimRequest) -> Result<Option<Row>> {
    Ok(conn
        .prepare_cached(
            "SELECT owner, answered, status, error_type, sealed_body \
             FROM idempotency WHERE call_id = ?1 AND expires_ms > ?2",
        )?
        .query_row(params![c.call_id, c.now_ms], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?)
}

fn decide(row: Option<Row>, c: &ClaimRequest) -> Claim {
    let stored = row.as_ref().map(|(owner, answered, ..)| {
        if *answered {
            Stored::Answered
        } else {
            Stored::InFlight { owner }
        }
    });
    match attempt(stored, c.owner) {
        Attempt::Execute => Claim::Execute,
        Attempt::Replay => {
            let (_, _, status, error_type, sealed_body) = row.expect("an answered row");
            Claim::Replay(StoredAnswer {
                status: status.unwrap_or(200),
                error_type,
                sealed_body: sealed_body.unwrap_or_default(),
            })
        }
        Attempt::InProgress => Claim::InProgress,
        Attempt::Interrupted => Claim::Interrupted,
    }
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

    fn request<'a>(call_id: &'a str, owner: &'a str, now_ms: i64) -> ClaimRequest<'a> {
        ClaimRequest {
            call_id,
            owner,
            now_ms,
            expires_ms: now_ms + 1000,
        }
    }

    fn answer(call_id: &str, now_ms: i64, body: &[u8]) -> Answer {
        Answer {
            call_id: call_id.into(),
            owner: "p1".into(),
            now_ms,
            expires_ms: now_ms + 1000,
            answer: StoredAnswer {
                status: 200,
                error_type: None,
                sealed_body: body.to_vec(),
            },
        }
    }

    fn record(store: &Store, a: &Answer) {
        store
            .record_call(CallRecords {
                audit: None,
                answer: Some(a),
            })
            .unwrap();
    }

    fn rows(store: &Store) -> i64 {
        store
            .conn()
            .query_row("SELECT COUNT(*) FROM idempotency", [], |r| r.get(0))
            .unwrap()
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
        let a = answer("a", 1, b"sealed");
        record(&store, &a);
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
    fn a_claim_left_by_a_gone_process_is_never_run_again() {
        let store = Store::open_in_memory().unwrap();
        store.claim_call(&request("a", "p1", 0)).unwrap();
        assert_eq!(
            store.claim_call(&request("a", "p2", 1)).unwrap(),
            Claim::Interrupted
        );
        assert_eq!(
            store.look_up_call(&request("a", "p2", 1)).unwrap(),
            Claim::Interrupted
        );
    }

    #[test]
    fn looking_up_a_call_claims_nothing() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(
            store.look_up_call(&request("a", "p1", 0)).unwrap(),
            Claim::Execute
        );
        assert_eq!(rows(&store), 0);
        let a = answer("a", 0, b"x");
        record(&store, &a);
        assert_eq!(
            store.look_up_call(&request("a", "p2", 1)).unwrap(),
            Claim::Replay(a.answer)
        );
    }

    #[test]
    fn expired_calls_are_swept_and_run_as_new() {
        let store = Store::open_in_memory().unwrap();
        store.claim_call(&request("a", "p1", 0)).unwrap();
        record(&store, &answer("a", 0, b"x"));
        store.claim_call(&request("b", "p1", 0)).unwrap();
        assert_eq!(
            store.look_up_call(&request("a", "p1", 1000)).unwrap(),
            Claim::Execute
        );
        assert_eq!(
            store.claim_call(&request("a", "p1", 1000)).unwrap(),
            Claim::Execute
        );
        assert_eq!(
            rows(&store),
            1,
            "the expired `b` is gone, `a` is claimed afresh"
        );
        // Recording an answer sweeps too.
        record(&store, &answer("c", 5000, b"y"));
        assert_eq!(rows(&store), 1, "only `c` is left");
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
        let a = answer("a", 0, b"x");
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
