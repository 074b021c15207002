//! Stored calls for idempotent retries: a mutating call sent with an SDK invocation id is claimed
//! before it runs and answered after, so a retry of it gets the first answer back instead of
//! acting twice, also across a server restart. Rules in `bosun_core::idempotency`; every engine
//! decides with [`decide`].

use bosun_core::idempotency::{attempt, Attempt, Stored};

use crate::audit::AuditRecord;
use crate::Result;

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
/// [`CallStore::record_call`] right after it).
///
/// An answer completes the call's claim (or stands alone), but never replaces an unexpired
/// answer: then the whole transaction fails with `StoreError::AlreadyExists` naming the call
/// and changes nothing. So of two attempts of a call that was only looked up
/// ([`CallStore::look_up_call`]) and executed concurrently (two replicas), exactly one commits
/// its change; the other can replay the stored answer.
#[derive(Debug, Default, Clone, Copy)]
pub struct CallRecords<'a> {
    pub audit: Option<&'a AuditRecord>,
    pub answer: Option<&'a Answer>,
}

impl CallRecords<'_> {
    /// Nothing to record.
    pub fn is_empty(&self) -> bool {
        self.audit.is_none() && self.answer.is_none()
    }
}

/// What a new attempt of a call found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Execute the call, then record its answer (claimed, when it came from
    /// [`CallStore::claim_call`]).
    Execute,
    /// The first attempt's answer.
    Replay(StoredAnswer),
    /// The first attempt is still running, in this server process or another live replica.
    InProgress,
    /// The first attempt was cut off by a restart and may have taken effect.
    Interrupted,
}

/// A call to claim or look up, by this server process at `now_ms`.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    pub call_id: &'a str,
    pub owner: &'a str,
    /// The other server processes (replicas on one database) alive now: a claim one of them
    /// holds is still running there, any other owner's claim was cut off.
    pub live_owners: &'a [String],
    pub now_ms: i64,
    /// When a claim made now expires.
    pub expires_ms: i64,
}

/// A call's unexpired row as an engine reads it: a claim (`answered = false`) or an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCall {
    pub owner: String,
    pub answered: bool,
    pub status: Option<u16>,
    pub error_type: Option<String>,
    pub sealed_body: Option<Vec<u8>>,
}

/// Claims, look-ups and answers of calls. Rows expire at their `expires_ms`: an expired row
/// is treated as absent, and swept by claims and recorded answers.
pub trait CallStore {
    /// Claim a call before executing it, atomically: of concurrent claims of one call exactly
    /// one gets `Execute` (and stores the claim); later ones get what [`decide`] says of the
    /// stored row. Rows past their expiry are swept here.
    ///
    /// The claim may be committed without its own disk sync, provided it is durable as soon as
    /// anything committed after it is (SQLite: WAL commits reach the log in order), in
    /// particular the call's own change. A claim lost in a crash therefore belongs to a call
    /// that changed nothing, whose retry may run it.
    fn claim_call(&self, c: &ClaimRequest) -> Result<Claim>;

    /// What is stored for a call, without claiming it: for operations that record their answer
    /// in the transaction of their change, where a claim would add nothing (a crash leaves
    /// either no change and no answer, or both). `Execute` means nothing is stored.
    fn look_up_call(&self, c: &ClaimRequest) -> Result<Claim>;

    /// Write a call's records in one transaction (after a change that did not write them): the
    /// audit record chained as by [`crate::AuditStore::append_audit`], the answer replacing the
    /// call's claim. Nothing is written when `records` is empty; nothing at all when the call
    /// is already answered (`AlreadyExists`, see [`CallRecords`]).
    fn record_call(&self, records: CallRecords) -> Result<()>;
}

/// What an attempt of call `c` does, given its unexpired stored row (`None`: nothing stored).
pub fn decide(row: Option<StoredCall>, c: &ClaimRequest) -> Claim {
    let stored = row.as_ref().map(|row| {
        if row.answered {
            Stored::Answered
        } else {
            Stored::InFlight { owner: &row.owner }
        }
    });
    match attempt(stored, c.owner, c.live_owners) {
        Attempt::Execute => Claim::Execute,
        Attempt::Replay => {
            let row = row.expect("an answered row");
            Claim::Replay(StoredAnswer {
                status: row.status.unwrap_or(200),
                error_type: row.error_type,
                sealed_body: row.sealed_body.unwrap_or_default(),
            })
        }
        Attempt::InProgress => Claim::InProgress,
        Attempt::Interrupted => Claim::Interrupted,
    }
}
