//! The append-only, hash-chained audit trail: one record per mutating call and per denial.

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::{Result, Store};

/// One audit record as the caller describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub time_ms: i64,
    pub principal: String,
    pub action: String,
    pub region: String,
    pub resource: String,
    pub request_id: String,
    pub source: String,
    /// `Allowed`, `Denied` or `Failed:<ErrorCode>`.
    pub outcome: String,
    /// Free text with no secret values (parameter names, ids).
    pub detail: String,
}

/// Result of walking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum AuditVerification {
    Intact {
        records: u64,
    },
    /// The first record whose hash does not follow from its content and predecessor.
    BrokenAt {
        seq: i64,
    },
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn chain_hash(prev: &str, seq: i64, r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        &r.time_ms.to_string(),
        &r.principal,
        &r.action,
        &r.region,
        &r.resource,
        &r.request_id,
        &r.source,
        &r.outcome,
        &r.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Append one record inside the caller's transaction, chained to the last record that
/// transaction sees (the caller's transaction must be `IMMEDIATE`, so no other writer can
/// append in between).
pub(crate) fn append_in(tx: &rusqlite::Transaction, r: &AuditRecord) -> Result<()> {
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let hash = chain_hash(&prev, seq, r);
    tx.prepare_cached(
        "INSERT INTO audit (seq, time_ms, principal, action, region, resource, request_id, source, outcome, detail, prev_hash, hash) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
    )?
    .execute(params![seq, r.time_ms, r.principal, r.action, r.region, r.resource, r.request_id, r.source, r.outcome, r.detail, prev, hash])?;
    Ok(())
}

impl Store {
    /// Append one record, chained to the previous one.
    pub fn append_audit(&self, r: &AuditRecord) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        append_in(&tx, r)?;
        tx.commit()?;
        Ok(())
    }

    /// Every record in order (for operators and tests).
    pub fn audit_records(&self) -> Result<Vec<(i64, AuditRecord)>> {
        Ok(self
            .audit_rows()?
            .into_iter()
            .map(|(seq, r, _)| (seq, r))
            .collect())
    }

    fn audit_rows(&self) -> Result<Vec<(i64, AuditRecord, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, time_ms, principal, action, region, resource, request_id, source, outcome, detail, hash \
             FROM audit ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                AuditRecord {
                    time_ms: r.get(1)?,
                    principal: r.get(2)?,
                    action: r.get(3)?,
                    region: r.get(4)?,
                    resource: r.get(5)?,
                    request_id: r.get(6)?,
                    source: r.get(7)?,
                    outcome: r.get(8)?,
                    detail: r.get(9)?,
                },
                r.get(10)?,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Recompute the chain and report the first record that does not verify (an edited
    /// record, or a gap in the sequence).
    pub fn verify_audit(&self) -> Result<AuditVerification> {
        let rows = self.audit_rows()?;
        let mut prev = GENESIS.to_string();
        for (expected_seq, (seq, r, stored)) in (1..).zip(&rows) {
            if *seq != expected_seq || chain_hash(&prev, *seq, r) != *stored {
                return Ok(AuditVerification::BrokenAt { seq: *seq });
            }
            prev.clone_from(stored);
        }
        Ok(AuditVerification::Intact {
            records: rows.len() as u64,
        })
    }
}
