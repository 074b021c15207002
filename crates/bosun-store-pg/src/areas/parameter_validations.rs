//! Pending `aws:ec2:image` puts on PostgreSQL ([`bosun_store::ParameterValidationStore`]):
//! claims take rows `FOR UPDATE SKIP LOCKED`, so replicas claiming together get different
//! rows; an apply or failure locks its row and checks the lease's owner before writing.

use bosun_core::events::envelope::Event;
use bosun_store::{
    CallRecords, ParameterValidationStore, ParameterVersion, PendingPut, PutLimits, PutOutcome,
    Result,
};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::calls::write_call_records;
use super::parameters::put_and_emit;
use crate::{PgError, PgStore};

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const COLS: &str =
    "id, region, key, name, principal, request_json, accepted_ms, lease_owner, lease_until_ms";

fn from_row(r: &Row) -> RowResult<PendingPut> {
    Ok(PendingPut {
        id: r.try_get(0)?,
        region: r.try_get(1)?,
        key: r.try_get(2)?,
        name: r.try_get(3)?,
        principal: r.try_get(4)?,
        request_json: r.try_get(5)?,
        accepted_ms: r.try_get(6)?,
        lease_owner: r.try_get(7)?,
        lease_until_ms: r.try_get(8)?,
    })
}

/// Lock the row and check `owner` holds it.
async fn held(tx: &Transaction<'_>, id: i64, owner: &str) -> std::result::Result<bool, PgError> {
    Ok(tx
        .query_opt(
            "SELECT id FROM parameter_pending_puts WHERE id = $1 AND lease_owner = $2 FOR UPDATE",
            &[&id, &owner],
        )
        .await?
        .is_some())
}

async fn delete(tx: &Transaction<'_>, id: i64) -> std::result::Result<(), PgError> {
    tx.execute("DELETE FROM parameter_pending_puts WHERE id = $1", &[&id])
        .await?;
    Ok(())
}

impl ParameterValidationStore for PgStore {
    fn add_pending_put(&self, p: &PendingPut, records: CallRecords) -> Result<i64> {
        Ok(self.transaction(async |tx| {
            let row = tx
                .query_one(
                    "INSERT INTO parameter_pending_puts \
                     (region, key, name, principal, request_json, accepted_ms, lease_owner, lease_until_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, 0) RETURNING id",
                    &[&p.region, &p.key, &p.name, &p.principal, &p.request_json, &p.accepted_ms],
                )
                .await?;
            write_call_records(tx, &records).await?;
            Ok(row.try_get(0)?)
        })?)
    }

    fn pending_puts(&self) -> Result<Vec<PendingPut>> {
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    &format!("SELECT {COLS} FROM parameter_pending_puts ORDER BY id"),
                    &[],
                )
                .await?;
            Ok(rows.iter().map(from_row).collect::<RowResult<_>>()?)
        })?)
    }

    fn claim_pending_puts(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<PendingPut>> {
        let limit = limit as i64;
        let until = now_ms + lease_ms;
        Ok(self.transaction(async |tx| {
            let rows = tx
                .query(
                    &format!(
                        "UPDATE parameter_pending_puts SET lease_owner = $1, lease_until_ms = $2 \
                         WHERE id IN (\
                           SELECT p.id FROM parameter_pending_puts p \
                           WHERE p.id = (SELECT MIN(o.id) FROM parameter_pending_puts o \
                                         WHERE o.region = p.region AND o.key = p.key) \
                             AND p.lease_until_ms <= $3 \
                           ORDER BY p.id LIMIT $4 FOR UPDATE SKIP LOCKED) \
                         RETURNING {COLS}"
                    ),
                    &[&owner, &until, &now_ms, &limit],
                )
                .await?;
            let mut claimed = rows.iter().map(from_row).collect::<RowResult<Vec<_>>>()?;
            claimed.sort_by_key(|p| p.id);
            Ok(claimed)
        })?)
    }

    fn apply_pending_put(
        &self,
        id: i64,
        owner: &str,
        v: &ParameterVersion,
        expected_latest: Option<i64>,
        overwrite: bool,
        tags: &[(String, String)],
        limits: &PutLimits,
    ) -> Result<Option<PutOutcome>> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if !held(tx, id, owner).await? {
                return Ok(None);
            }
            let outcome =
                put_and_emit(tx, &account, v, expected_latest, overwrite, tags, limits).await?;
            if outcome == PutOutcome::Stored {
                delete(tx, id).await?;
            }
            Ok(Some(outcome))
        })?)
    }

    fn fail_pending_put(&self, id: i64, owner: &str, event: &Event, now_ms: i64) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            if !held(tx, id, owner).await? {
                return Ok(false);
            }
            delete(tx, id).await?;
            super::event_outbox::append(tx, std::slice::from_ref(event), now_ms).await?;
            Ok(true)
        })?)
    }
}
