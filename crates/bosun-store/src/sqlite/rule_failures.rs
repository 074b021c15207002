//! Rule targets' failed invocations on SQLite (the one writer connection serialises a
//! redrive's delete-then-publish).

use rusqlite::{params, Connection, Row};

use super::SqliteStore;
use crate::rule_failures::{RuleFailureStore, RuleTargetFailure};
use crate::topics::PublishedMessage;
use crate::Result;

const COLS: &str = "failure_id, region, rule_name, target_id, target_arn, event_id, event_seq, \
                    envelope, error, attempts, created_ms, updated_ms";

fn failure_from(r: &Row<'_>) -> rusqlite::Result<RuleTargetFailure> {
    Ok(RuleTargetFailure {
        failure_id: r.get(0)?,
        region: r.get(1)?,
        rule_name: r.get(2)?,
        target_id: r.get(3)?,
        target_arn: r.get(4)?,
        event_id: r.get(5)?,
        event_seq: r.get(6)?,
        envelope: r.get(7)?,
        error: r.get(8)?,
        attempts: r.get(9)?,
        created_ms: r.get(10)?,
        updated_ms: r.get(11)?,
    })
}

/// Record a failure in the caller's transaction; one per `failure_id`.
pub(super) fn insert_in(conn: &Connection, f: &RuleTargetFailure) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO rule_target_failures ({COLS}) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) ON CONFLICT DO NOTHING"
        ),
        params![
            f.failure_id,
            f.region,
            f.rule_name,
            f.target_id,
            f.target_arn,
            f.event_id,
            f.event_seq,
            f.envelope,
            f.error,
            f.attempts,
            f.created_ms,
            f.updated_ms
        ],
    )?;
    Ok(())
}

impl RuleFailureStore for SqliteStore {
    fn list_rule_target_failures(
        &self,
        region: &str,
        rule: Option<&str>,
    ) -> Result<Vec<RuleTargetFailure>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM rule_target_failures \
                 WHERE region = ?1 AND (?2 IS NULL OR rule_name = ?2) \
                 ORDER BY created_ms, event_seq, failure_id"
            ))?;
            let rows = stmt.query_map(params![region, rule], failure_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn redeliver_rule_target_failure(
        &self,
        failure_id: &str,
        message: &PublishedMessage,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM rule_target_failures WHERE failure_id = ?1",
            params![failure_id],
        )?;
        if n == 0 {
            return Ok(false);
        }
        super::topics::publish_in(&tx, message)?;
        tx.commit()?;
        Ok(true)
    }

    fn note_rule_target_failure(&self, failure_id: &str, error: &str, now_ms: i64) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE rule_target_failures SET error = ?2, attempts = attempts + 1, \
             updated_ms = ?3 WHERE failure_id = ?1",
            params![failure_id, error, now_ms],
        )?;
        Ok(n == 1)
    }
}
