//! The audit trail on SQLite: appends run in `IMMEDIATE` transactions, so the last record a
//! transaction reads stays the last until it commits.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::audit::{
    chain_hash, next_link, verify_chain, AuditRecord, AuditStore, AuditVerification,
};
use crate::Result;

/// Append one record inside the caller's transaction, chained to the last record that
/// transaction sees (the caller's transaction must be `IMMEDIATE`, so no other writer can
/// append in between).
pub(crate) fn append_in(tx: &rusqlite::Transaction, r: &AuditRecord) -> Result<()> {
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (seq, prev) = next_link(last);
    let hash = chain_hash(&prev, seq, r);
    tx.prepare_cached(
        "INSERT INTO audit (seq, time_ms, principal, action, region, resource, request_id, source, outcome, detail, prev_hash, hash) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
    )?
    .execute(params![seq, r.time_ms, r.principal, r.action, r.region, r.resource, r.request_id, r.source, r.outcome, r.detail, prev, hash])?;
    Ok(())
}

/// A row read as `seq, time_ms, principal, action, region, resource, request_id, source,
/// outcome, detail[, …]`.
fn audit_from_row(r: &rusqlite::Row) -> rusqlite::Result<(i64, AuditRecord)> {
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
    ))
}

impl SqliteStore {
    fn audit_rows(&self) -> Result<Vec<(i64, AuditRecord, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, time_ms, principal, action, region, resource, request_id, source, outcome, detail, hash \
             FROM audit ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            let (seq, record) = audit_from_row(r)?;
            Ok((seq, record, r.get(10)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl AuditStore for SqliteStore {
    fn append_audit(&self, r: &AuditRecord) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        append_in(&tx, r)?;
        tx.commit()?;
        Ok(())
    }

    fn audit_records(&self) -> Result<Vec<(i64, AuditRecord)>> {
        Ok(self
            .audit_rows()?
            .into_iter()
            .map(|(seq, r, _)| (seq, r))
            .collect())
    }

    fn audit_records_before(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, AuditRecord)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, time_ms, principal, action, region, resource, request_id, source, outcome, detail \
             FROM audit WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
        )?;
        let before = before_seq.unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![before, limit as i64], audit_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn verify_audit(&self) -> Result<AuditVerification> {
        Ok(verify_chain(&self.audit_rows()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_chain_detects_a_record_edited_in_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SqliteStore::open(&path).unwrap();
        for i in 0..5 {
            store
                .append_audit(&AuditRecord {
                    time_ms: i,
                    principal: "admin".into(),
                    action: "ssm:CreateActivation".into(),
                    region: "us-east-1".into(),
                    resource: "*".into(),
                    request_id: format!("r{i}"),
                    source: "127.0.0.1".into(),
                    outcome: "Allowed".into(),
                    detail: String::new(),
                })
                .unwrap();
        }
        assert_eq!(
            store.verify_audit().unwrap(),
            AuditVerification::Intact { records: 5 }
        );
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE audit SET outcome = 'Denied' WHERE seq = 3", [])
            .unwrap();
        drop(conn);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.verify_audit().unwrap(),
            AuditVerification::BrokenAt { seq: 3 }
        );
    }
}
