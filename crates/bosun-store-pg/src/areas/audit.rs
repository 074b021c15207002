//! The audit area of the store on PostgreSQL ([`bosun_store::AuditStore`]).
//!
//! Appends are serialised cluster-wide through the single row of `audit_head` (the chain's last
//! sequence number and hash), locked `FOR UPDATE` by the appending transaction until it commits:
//! concurrent appends, from any replica and whether alone or with a change, get distinct
//! consecutive numbers, and a transaction that rolls back leaves the head as it was.

use bosun_store::{
    chain_hash, next_link, verify_chain, AuditRecord, AuditStore, AuditVerification, Result,
};
use tokio_postgres::Row;

use crate::{PgError, PgStore, Transaction};

type PgResult<T> = std::result::Result<T, PgError>;

/// Append one record inside the caller's transaction, chained to the last committed record.
///
/// Locks `audit_head` until the transaction ends, which makes every other append wait: call it
/// as the last write of a transaction that changes something else, so the lock is held only
/// until the commit.
pub(crate) async fn append_in(tx: &Transaction<'_>, r: &AuditRecord) -> PgResult<()> {
    let head = tx
        .prepare_cached("SELECT last_seq, last_hash FROM audit_head WHERE id FOR UPDATE")
        .await?;
    let row = tx.query_one(&head, &[]).await?;
    let (last_seq, last_hash): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    // The head starts at 0 with the genesis hash: an empty trail.
    let (seq, prev) = next_link((last_seq > 0).then_some((last_seq, last_hash)));
    let hash = chain_hash(&prev, seq, r);
    let insert = tx
        .prepare_cached(
            "INSERT INTO audit (seq, time_ms, principal, action, region, resource, request_id, \
             source, outcome, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .await?;
    tx.execute(
        &insert,
        &[
            &seq,
            &r.time_ms,
            &r.principal,
            &r.action,
            &r.region,
            &r.resource,
            &r.request_id,
            &r.source,
            &r.outcome,
            &r.detail,
            &prev,
            &hash,
        ],
    )
    .await?;
    let advance = tx
        .prepare_cached("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id")
        .await?;
    tx.execute(&advance, &[&seq, &hash]).await?;
    Ok(())
}

/// (sequence number, record, stored hash) of an `audit` row.
fn audit_row(row: &Row) -> std::result::Result<(i64, AuditRecord, String), tokio_postgres::Error> {
    Ok((
        row.try_get(0)?,
        AuditRecord {
            time_ms: row.try_get(1)?,
            principal: row.try_get(2)?,
            action: row.try_get(3)?,
            region: row.try_get(4)?,
            resource: row.try_get(5)?,
            request_id: row.try_get(6)?,
            source: row.try_get(7)?,
            outcome: row.try_get(8)?,
            detail: row.try_get(9)?,
        },
        row.try_get(10)?,
    ))
}

/// Every stored record in sequence order, read by one statement (one snapshot).
fn audit_rows(store: &PgStore) -> Result<Vec<(i64, AuditRecord, String)>> {
    Ok(store.with_client(async |client| {
        let rows = client
            .query(
                "SELECT seq, time_ms, principal, action, region, resource, request_id, \
                     source, outcome, detail, hash FROM audit ORDER BY seq",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(audit_row)
            .collect::<std::result::Result<Vec<_>, _>>()?)
    })?)
}

impl AuditStore for PgStore {
    fn append_audit(&self, r: &AuditRecord) -> Result<()> {
        Ok(self.transaction(async |tx| append_in(tx, r).await)?)
    }

    fn audit_records(&self) -> Result<Vec<(i64, AuditRecord)>> {
        Ok(audit_rows(self)?
            .into_iter()
            .map(|(seq, r, _)| (seq, r))
            .collect())
    }

    fn audit_records_before(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, AuditRecord)>> {
        let before = before_seq.unwrap_or(i64::MAX);
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    "SELECT seq, time_ms, principal, action, region, resource, request_id, \
                         source, outcome, detail, hash FROM audit WHERE seq < $1 \
                     ORDER BY seq DESC LIMIT $2",
                    &[&before, &(limit as i64)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| audit_row(r).map(|(seq, record, _)| (seq, record)))
                .collect::<std::result::Result<Vec<_>, _>>()?)
        })?)
    }

    fn verify_audit(&self) -> Result<AuditVerification> {
        Ok(verify_chain(&audit_rows(self)?))
    }
}
