//! The rule failures area of the store on PostgreSQL ([`bosun_store::RuleFailureStore`]): a
//! redrive's delete and publish are one transaction, and the delete's row count decides which
//! of two concurrent redrives publishes.

use bosun_store::{PublishedMessage, Result, RuleFailureStore, RuleTargetFailure};
use tokio_postgres::Row;

use crate::{PgError, PgStore, Transaction};

const COLS: &str = "failure_id, region, rule_name, target_id, target_arn, event_id, event_seq, \
                    envelope, error, attempts, created_ms, updated_ms";

fn failure_from(r: &Row) -> RuleTargetFailure {
    RuleTargetFailure {
        failure_id: r.get(0),
        region: r.get(1),
        rule_name: r.get(2),
        target_id: r.get(3),
        target_arn: r.get(4),
        event_id: r.get(5),
        event_seq: r.get(6),
        envelope: r.get(7),
        error: r.get(8),
        attempts: r.get(9),
        created_ms: r.get(10),
        updated_ms: r.get(11),
    }
}

/// Record a failure in the caller's transaction; one per `failure_id`.
pub(super) async fn insert_in(
    tx: &Transaction<'_>,
    f: &RuleTargetFailure,
) -> std::result::Result<(), PgError> {
    tx.execute(
        &format!(
            "INSERT INTO rule_target_failures ({COLS}) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT DO NOTHING"
        ),
        &[
            &f.failure_id,
            &f.region,
            &f.rule_name,
            &f.target_id,
            &f.target_arn,
            &f.event_id,
            &f.event_seq,
            &f.envelope,
            &f.error,
            &f.attempts,
            &f.created_ms,
            &f.updated_ms,
        ],
    )
    .await?;
    Ok(())
}

impl RuleFailureStore for PgStore {
    fn list_rule_target_failures(
        &self,
        region: &str,
        rule: Option<&str>,
    ) -> Result<Vec<RuleTargetFailure>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {COLS} FROM rule_target_failures \
                         WHERE region = $1 AND ($2::TEXT IS NULL OR rule_name = $2) \
                         ORDER BY created_ms, event_seq, failure_id COLLATE \"C\""
                    ),
                    &[&region, &rule],
                )
                .await?;
            Ok(rows.iter().map(failure_from).collect())
        })?)
    }

    fn redeliver_rule_target_failure(
        &self,
        failure_id: &str,
        message: &PublishedMessage,
    ) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            let n = tx
                .execute(
                    "DELETE FROM rule_target_failures WHERE failure_id = $1",
                    &[&failure_id],
                )
                .await?;
            if n == 0 {
                return Ok(false);
            }
            super::topics::publish_in(tx, message).await?;
            Ok(true)
        })?)
    }

    fn note_rule_target_failure(&self, failure_id: &str, error: &str, now_ms: i64) -> Result<bool> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "UPDATE rule_target_failures SET error = $2, attempts = attempts + 1, \
                     updated_ms = $3 WHERE failure_id = $1",
                    &[&failure_id, &error, &now_ms],
                )
                .await?;
            Ok(n == 1)
        })?)
    }
}
