//! The append-only, hash-chained audit trail: one record per mutating call and per denial.
//!
//! The chain is engine-neutral: every engine stores, per record, its sequence number (1, 2, …
//! without gaps) and [`chain_hash`] of its predecessor's hash (or [`GENESIS`]) and its content,
//! and verifies with [`verify_chain`].

use sha2::{Digest, Sha256};

use crate::Result;

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

/// The audit trail.
pub trait AuditStore {
    /// Append one record, chained to the previous one.
    ///
    /// Atomic and serialised with every other append (including those made with a change,
    /// see [`crate::CallRecords`]): concurrent appends get distinct consecutive sequence
    /// numbers and the chain still verifies.
    fn append_audit(&self, r: &AuditRecord) -> Result<()>;

    /// Every record in order (for operators and tests).
    fn audit_records(&self) -> Result<Vec<(i64, AuditRecord)>>;

    /// Up to `limit` records with `seq < before_seq` (every one when `None`), newest first:
    /// the trail a viewer pages back through (`BosunAudit.ListAuditRecords`, the console).
    fn audit_records_before(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, AuditRecord)>>;

    /// Recompute the chain ([`verify_chain`]) and report the first record that does not verify
    /// (an edited record, or a gap in the sequence). Reads one consistent snapshot.
    fn verify_audit(&self) -> Result<AuditVerification>;
}

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of record `seq` with content `r`, following the record whose hash is `prev`.
pub fn chain_hash(prev: &str, seq: i64, r: &AuditRecord) -> String {
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

/// The sequence number and `prev_hash` of the record appended after the last one, `last`
/// being that record's (sequence number, hash), `None` for an empty trail.
pub fn next_link(last: Option<(i64, String)>) -> (i64, String) {
    match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    }
}

/// Verify stored rows, in sequence order: (sequence number, content, stored hash).
pub fn verify_chain(rows: &[(i64, AuditRecord, String)]) -> AuditVerification {
    let mut prev = GENESIS.to_string();
    for (expected_seq, (seq, r, stored)) in (1..).zip(rows) {
        if *seq != expected_seq || chain_hash(&prev, *seq, r) != *stored {
            return AuditVerification::BrokenAt { seq: *seq };
        }
        prev.clone_from(stored);
    }
    AuditVerification::Intact {
        records: rows.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: i64) -> AuditRecord {
        AuditRecord {
            time_ms: i,
            principal: "admin".into(),
            action: "ssm:CreateActivation".into(),
            region: "us-east-1".into(),
            resource: "*".into(),
            request_id: format!("r{i}"),
            source: "127.0.0.1".into(),
            outcome: "Allowed".into(),
            detail: String::new(),
        }
    }

    fn chain(n: i64) -> Vec<(i64, AuditRecord, String)> {
        let mut rows = Vec::new();
        let mut last = None;
        for i in 0..n {
            let (seq, prev) = next_link(last);
            let hash = chain_hash(&prev, seq, &record(i));
            rows.push((seq, record(i), hash.clone()));
            last = Some((seq, hash));
        }
        rows
    }

    #[test]
    fn a_chain_verifies_until_a_record_is_edited_or_missing() {
        assert_eq!(verify_chain(&[]), AuditVerification::Intact { records: 0 });
        assert_eq!(
            verify_chain(&chain(5)),
            AuditVerification::Intact { records: 5 }
        );
        let mut edited = chain(5);
        edited[2].1.outcome = "Denied".into();
        assert_eq!(
            verify_chain(&edited),
            AuditVerification::BrokenAt { seq: 3 }
        );
        let mut gap = chain(5);
        gap.remove(1);
        assert_eq!(verify_chain(&gap), AuditVerification::BrokenAt { seq: 3 });
    }
}
