//! Pending `aws:ec2:image` puts on SQLite ([`crate::ParameterValidationStore`]): claims,
//! applies and failures run in `IMMEDIATE` transactions, so their compare-and-set on the
//! lease cannot race.

use rusqlite::{params, Row, TransactionBehavior};

use super::parameters::put_in;
use super::SqliteStore;
use crate::parameter_validations::{ParameterValidationStore, PendingPut};
use crate::parameters::{ParameterVersion, PutLimits, PutOutcome};
use crate::{CallRecords, Result};
use bosun_core::events::envelope::Event;

const COLS: &str =
    "id, region, key, name, principal, request_json, accepted_ms, lease_owner, lease_until_ms";

fn from_row(r: &Row) -> rusqlite::Result<PendingPut> {
    Ok(PendingPut {
        id: r.get(0)?,
        region: r.get(1)?,
        key: r.get(2)?,
        name: r.get(3)?,
        principal: r.get(4)?,
        request_json: r.get(5)?,
        accepted_ms: r.get(6)?,
        lease_owner: r.get(7)?,
        lease_until_ms: r.get(8)?,
    })
}

/// Delete the row when `owner` holds it; whether it did.
fn take(tx: &rusqlite::Transaction, id: i64, owner: &str) -> rusqlite::Result<bool> {
    Ok(tx.execute(
        "DELETE FROM parameter_pending_puts WHERE id = ?1 AND lease_owner = ?2",
        params![id, owner],
    )? == 1)
}

impl ParameterValidationStore for SqliteStore {
    fn add_pending_put(&self, p: &PendingPut, records: CallRecords) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO parameter_pending_puts \
             (region, key, name, principal, request_json, accepted_ms, lease_owner, lease_until_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, 0)",
            params![p.region, p.key, p.name, p.principal, p.request_json, p.accepted_ms],
        )?;
        let id = tx.last_insert_rowid();
        super::idempotency::write_call_records(&tx, &records)?;
        tx.commit()?;
        Ok(id)
    }

    fn pending_puts(&self) -> Result<Vec<PendingPut>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM parameter_pending_puts ORDER BY id"
            ))?;
            let rows = stmt.query_map([], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn claim_pending_puts(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<PendingPut>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids: Vec<i64> = {
            let mut stmt = tx.prepare_cached(
                "SELECT p.id FROM parameter_pending_puts p \
                 WHERE p.id = (SELECT MIN(o.id) FROM parameter_pending_puts o \
                               WHERE o.region = p.region AND o.key = p.key) \
                   AND p.lease_until_ms <= ?1 \
                 ORDER BY p.id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now_ms, limit as i64], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            tx.execute(
                "UPDATE parameter_pending_puts SET lease_owner = ?2, lease_until_ms = ?3 WHERE id = ?1",
                params![id, owner, now_ms + lease_ms],
            )?;
            claimed.push(tx.query_row(
                &format!("SELECT {COLS} FROM parameter_pending_puts WHERE id = ?1"),
                [id],
                from_row,
            )?);
        }
        tx.commit()?;
        Ok(claimed)
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
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !take(&tx, id, owner)? {
            return Ok(None);
        }
        let outcome = put_in(&tx, &account, v, expected_latest, overwrite, tags, limits)?;
        if outcome == PutOutcome::Stored {
            tx.commit()?;
        }
        Ok(Some(outcome))
    }

    fn fail_pending_put(&self, id: i64, owner: &str, event: &Event, now_ms: i64) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !take(&tx, id, owner)? {
            return Ok(false);
        }
        super::event_outbox::append(&tx, std::slice::from_ref(event), now_ms)?;
        tx.commit()?;
        Ok(true)
    }
}
