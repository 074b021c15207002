//! The calls area of the store on PostgreSQL ([`bosun_store::CallStore`]): claims and answers
//! of idempotent calls in the `idempotency` table, and the writing of a call's records inside
//! the transaction of its change.
//!
//! Atomicity across replicas comes from the primary key on `call_id`: a claim is an
//! `INSERT … ON CONFLICT` (a concurrent claim of the same call waits for the first to commit,
//! then sees its row), and an answer is written only over no row, a claim or an expired row,
//! never over another answer, so two replicas that both looked a call up cannot both store
//! its change.

use bosun_store::{
    decide, Answer, CallRecords, CallStore, Claim, ClaimRequest, Result, StoreError, StoredCall,
};
use tokio_postgres::GenericClient;

use super::audit::append_in;
use crate::{PgError, PgStore, Transaction};

type PgResult<T> = std::result::Result<T, PgError>;

/// How often a claim looks again for a row that vanished between its insert and its read (a
/// replica whose clock runs ahead swept it); once is the practical maximum.
const CLAIM_ATTEMPTS: usize = 3;

/// Write a call's records inside the caller's transaction: its answer (completing its claim,
/// or refused with `AlreadyExists` when the call is already answered), then its audit record.
///
/// Call it as the last write of the transaction: the audit record locks the chain's head until
/// the commit.
pub(crate) async fn write_call_records(
    tx: &Transaction<'_>,
    records: &CallRecords<'_>,
) -> PgResult<()> {
    if let Some(a) = records.answer {
        write_answer(tx, a).await?;
    }
    if let Some(r) = records.audit {
        append_in(tx, r).await?;
    }
    Ok(())
}

/// Store a call's answer over no row, its claim or an expired row; an unexpired answer stays
/// and the write fails, which rolls back the caller's transaction.
async fn write_answer(tx: &Transaction<'_>, a: &Answer) -> PgResult<()> {
    sweep(tx, a.now_ms).await?;
    let upsert = tx
        .prepare_cached(
            "INSERT INTO idempotency (call_id, owner, answered, status, error_type, sealed_body, expires_ms) \
             VALUES ($1, $2, TRUE, $3, $4, $5, $6) \
             ON CONFLICT (call_id) DO UPDATE SET owner = EXCLUDED.owner, answered = TRUE, \
             status = EXCLUDED.status, error_type = EXCLUDED.error_type, \
             sealed_body = EXCLUDED.sealed_body, expires_ms = EXCLUDED.expires_ms \
             WHERE NOT idempotency.answered OR idempotency.expires_ms <= $7",
        )
        .await?;
    let written = tx
        .execute(
            &upsert,
            &[
                &a.call_id,
                &a.owner,
                &i64::from(a.answer.status),
                &a.answer.error_type,
                &a.answer.sealed_body,
                &a.expires_ms,
                &a.now_ms,
            ],
        )
        .await?;
    if written == 0 {
        return Err(StoreError::AlreadyExists(format!("the answer of call {}", a.call_id)).into());
    }
    Ok(())
}

/// Delete rows expired at `now_ms`. Rows another transaction holds are left for a later
/// sweep, so sweeps never wait for each other or deadlock.
async fn sweep(tx: &Transaction<'_>, now_ms: i64) -> PgResult<()> {
    let sweep = tx
        .prepare_cached(
            "DELETE FROM idempotency WHERE call_id IN \
             (SELECT call_id FROM idempotency WHERE expires_ms <= $1 FOR UPDATE SKIP LOCKED)",
        )
        .await?;
    tx.execute(&sweep, &[&now_ms]).await?;
    Ok(())
}

/// The call's row, unless it expired.
async fn select(client: &impl GenericClient, c: &ClaimRequest<'_>) -> PgResult<Option<StoredCall>> {
    let row = client
        .query_opt(
            "SELECT owner, answered, status, error_type, sealed_body \
             FROM idempotency WHERE call_id = $1 AND expires_ms > $2",
            &[&c.call_id, &c.now_ms],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let status: Option<i64> = row.try_get(2)?;
    let status = status
        .map(u16::try_from)
        .transpose()
        .map_err(|_| StoreError::Corrupt(format!("call {}: status out of range", c.call_id)))?;
    Ok(Some(StoredCall {
        owner: row.try_get(0)?,
        answered: row.try_get(1)?,
        status,
        error_type: row.try_get(3)?,
        sealed_body: row.try_get(4)?,
    }))
}

/// Claim `c` in `tx`: store a claim where there is no row or an expired one (`Execute`), or
/// decide from the row a concurrent or earlier attempt stored.
async fn claim_in(tx: &Transaction<'_>, c: &ClaimRequest<'_>) -> PgResult<Claim> {
    // Durable once anything committed after it is: PostgreSQL flushes its WAL in order.
    tx.batch_execute("SET LOCAL synchronous_commit TO OFF")
        .await?;
    sweep(tx, c.now_ms).await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO idempotency (call_id, owner, answered, expires_ms) VALUES ($1, $2, FALSE, $3) \
             ON CONFLICT (call_id) DO UPDATE SET owner = EXCLUDED.owner, answered = FALSE, \
             status = NULL, error_type = NULL, sealed_body = NULL, expires_ms = EXCLUDED.expires_ms \
             WHERE idempotency.expires_ms <= $4",
        )
        .await?;
    for _ in 0..CLAIM_ATTEMPTS {
        let claimed = tx
            .execute(&insert, &[&c.call_id, &c.owner, &c.expires_ms, &c.now_ms])
            .await?;
        if claimed == 1 {
            return Ok(Claim::Execute);
        }
        // An unexpired row was there (committed: the insert waited for its writer).
        if let Some(row) = select(&**tx, c).await? {
            return Ok(decide(Some(row), c));
        }
    }
    Err(StoreError::Io(format!(
        "call {}: its row kept vanishing while being claimed (replicas' clocks disagree?)",
        c.call_id
    ))
    .into())
}

impl CallStore for PgStore {
    /// Commits the claim with `synchronous_commit` off for its transaction only.
    fn claim_call(&self, c: &ClaimRequest) -> Result<Claim> {
        Ok(self.transaction(async |tx| claim_in(tx, c).await)?)
    }

    fn look_up_call(&self, c: &ClaimRequest) -> Result<Claim> {
        let row = self.with_client(async |client| select(&**client, c).await)?;
        Ok(decide(row, c))
    }

    fn record_call(&self, records: CallRecords) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        Ok(self.transaction(async |tx| write_call_records(tx, &records).await)?)
    }
}
