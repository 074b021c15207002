//! EventBridge rules and their targets on PostgreSQL ([`bosun_store::EventRuleStore`]).
//!
//! Rules for READ COMMITTED: `put_rule` holds a per-region advisory lock for the whole
//! read-count-write, so concurrent creations never exceed the limit and two creations of one
//! name become one creation and one replacement; every change to a rule's targets, and its
//! deletion, first locks the rule's row (`FOR UPDATE`), so the target limit and the
//! targets-exist check cannot interleave with another change. Names and ids sort with
//! `COLLATE "C"` (byte order, as SQLite's `BINARY`).

use bosun_store::{
    EventRuleRecord, EventRuleStore, EventTargetRecord, Result, RuleDeletion, StoreError,
    RULE_TAG_TYPE,
};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::tags::{delete_tags, put_tags};
use crate::{PgError, PgStore};

const COLS: &str = "region, name, event_pattern, state, description, role_arn, created_ms";
const TARGET_COLS: &str = "target_id, arn, definition";

fn rule_from(r: &Row) -> EventRuleRecord {
    EventRuleRecord {
        region: r.get(0),
        name: r.get(1),
        event_pattern: r.get(2),
        state: r.get(3),
        description: r.get(4),
        role_arn: r.get(5),
        created_ms: r.get(6),
    }
}

fn target_from(r: &Row) -> EventTargetRecord {
    EventTargetRecord {
        target_id: r.get(0),
        arn: r.get(1),
        definition: r.get(2),
    }
}

const SELECT_TARGETS: &str = "SELECT target_id, arn, definition FROM event_targets \
     WHERE region = $1 AND rule_name = $2 ORDER BY target_id COLLATE \"C\"";

/// Lock a rule's row; whether it exists.
async fn lock_rule(
    tx: &Transaction<'_>,
    region: &str,
    name: &str,
) -> std::result::Result<bool, PgError> {
    let row = tx
        .query_opt(
            "SELECT 1 FROM event_rules WHERE region = $1 AND name = $2 FOR UPDATE",
            &[&region, &name],
        )
        .await?;
    Ok(row.is_some())
}

async fn target_count(
    tx: &Transaction<'_>,
    region: &str,
    rule: &str,
) -> std::result::Result<usize, PgError> {
    let n: i64 = tx
        .query_one(
            "SELECT COUNT(*) FROM event_targets WHERE region = $1 AND rule_name = $2",
            &[&region, &rule],
        )
        .await?
        .try_get(0)?;
    Ok(n as usize)
}

impl EventRuleStore for PgStore {
    fn put_rule(
        &self,
        rule: &EventRuleRecord,
        tags: &[(String, String)],
        max_rules: usize,
    ) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            // Serialise rule writes in the region until this one commits.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('bosun.event_rules:' || $1, 0))",
                &[&rule.region],
            )
            .await?;
            let updated = tx
                .execute(
                    "UPDATE event_rules SET event_pattern = $3, state = $4, description = $5, \
                     role_arn = $6 WHERE region = $1 AND name = $2",
                    &[
                        &rule.region,
                        &rule.name,
                        &rule.event_pattern,
                        &rule.state,
                        &rule.description,
                        &rule.role_arn,
                    ],
                )
                .await?;
            if updated == 1 {
                return Ok(false);
            }
            let held: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM event_rules WHERE region = $1",
                    &[&rule.region],
                )
                .await?
                .try_get(0)?;
            if held as usize >= max_rules {
                return Err(StoreError::LimitExceeded(format!("{max_rules} rules")).into());
            }
            tx.execute(
                &format!("INSERT INTO event_rules ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7)"),
                &[
                    &rule.region,
                    &rule.name,
                    &rule.event_pattern,
                    &rule.state,
                    &rule.description,
                    &rule.role_arn,
                    &rule.created_ms,
                ],
            )
            .await?;
            put_tags(tx, &rule.region, RULE_TAG_TYPE, &rule.name, tags).await?;
            Ok(true)
        })?)
    }

    fn get_rule(&self, region: &str, name: &str) -> Result<Option<EventRuleRecord>> {
        Ok(self.with_client(async |c| {
            let row = c
                .query_opt(
                    &format!("SELECT {COLS} FROM event_rules WHERE region = $1 AND name = $2"),
                    &[&region, &name],
                )
                .await?;
            Ok(row.as_ref().map(rule_from))
        })?)
    }

    fn list_rules(&self, region: &str) -> Result<Vec<EventRuleRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {COLS} FROM event_rules WHERE region = $1 \
                         ORDER BY name COLLATE \"C\""
                    ),
                    &[&region],
                )
                .await?;
            Ok(rows.iter().map(rule_from).collect())
        })?)
    }

    fn set_rule_state(&self, region: &str, name: &str, state: &str) -> Result<bool> {
        Ok(self.with_client(async |c| {
            let changed = c
                .execute(
                    "UPDATE event_rules SET state = $3 WHERE region = $1 AND name = $2",
                    &[&region, &name, &state],
                )
                .await?;
            Ok(changed == 1)
        })?)
    }

    fn delete_rule(&self, region: &str, name: &str) -> Result<RuleDeletion> {
        Ok(self.transaction(async |tx| {
            if !lock_rule(tx, region, name).await? {
                return Ok(RuleDeletion::NotFound);
            }
            if target_count(tx, region, name).await? > 0 {
                return Ok(RuleDeletion::HasTargets);
            }
            tx.execute(
                "DELETE FROM event_rules WHERE region = $1 AND name = $2",
                &[&region, &name],
            )
            .await?;
            delete_tags(tx, region, RULE_TAG_TYPE, name).await?;
            Ok(RuleDeletion::Deleted)
        })?)
    }

    fn put_targets(
        &self,
        region: &str,
        rule: &str,
        targets: &[EventTargetRecord],
        max_targets: usize,
    ) -> Result<()> {
        Ok(self.transaction(async |tx| {
            if !lock_rule(tx, region, rule).await? {
                return Err(StoreError::NotFound(format!("rule {rule}")).into());
            }
            let upsert = tx
                .prepare_cached(&format!(
                    "INSERT INTO event_targets (region, rule_name, {TARGET_COLS}) \
                     VALUES ($1,$2,$3,$4,$5) ON CONFLICT (region, rule_name, target_id) \
                     DO UPDATE SET arn = EXCLUDED.arn, definition = EXCLUDED.definition"
                ))
                .await?;
            for t in targets {
                tx.execute(
                    &upsert,
                    &[&region, &rule, &t.target_id, &t.arn, &t.definition],
                )
                .await?;
            }
            if target_count(tx, region, rule).await? > max_targets {
                // Returning an error rolls the additions back.
                return Err(StoreError::LimitExceeded(format!("{max_targets} targets")).into());
            }
            Ok(())
        })?)
    }

    fn remove_targets(&self, region: &str, rule: &str, ids: &[String]) -> Result<()> {
        Ok(self.transaction(async |tx| {
            if !lock_rule(tx, region, rule).await? {
                return Err(StoreError::NotFound(format!("rule {rule}")).into());
            }
            tx.execute(
                "DELETE FROM event_targets WHERE region = $1 AND rule_name = $2 \
                 AND target_id = ANY($3)",
                &[&region, &rule, &ids],
            )
            .await?;
            Ok(())
        })?)
    }

    fn rule_targets(&self, region: &str, rule: &str) -> Result<Vec<EventTargetRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c.query(SELECT_TARGETS, &[&region, &rule]).await?;
            Ok(rows.iter().map(target_from).collect())
        })?)
    }

    fn rule_names_by_target(&self, region: &str, arn: &str) -> Result<Vec<String>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    "SELECT DISTINCT rule_name COLLATE \"C\" AS n FROM event_targets \
                     WHERE region = $1 AND arn = $2 ORDER BY n",
                    &[&region, &arn],
                )
                .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })?)
    }

    fn enabled_rules_with_targets(
        &self,
        region: &str,
    ) -> Result<Vec<(EventRuleRecord, Vec<EventTargetRecord>)>> {
        // One snapshot for rules and targets alike.
        Ok(self.transaction(async |tx| {
            let rules = tx
                .query(
                    &format!(
                        "SELECT {COLS} FROM event_rules WHERE region = $1 AND state = 'ENABLED' \
                         ORDER BY name COLLATE \"C\""
                    ),
                    &[&region],
                )
                .await?;
            let targets = tx
                .query(
                    "SELECT t.rule_name, t.target_id, t.arn, t.definition FROM event_targets t \
                     JOIN event_rules r ON r.region = t.region AND r.name = t.rule_name \
                     WHERE t.region = $1 AND r.state = 'ENABLED' \
                     ORDER BY t.rule_name COLLATE \"C\", t.target_id COLLATE \"C\"",
                    &[&region],
                )
                .await?;
            let mut out: Vec<(EventRuleRecord, Vec<EventTargetRecord>)> =
                rules.iter().map(|r| (rule_from(r), Vec::new())).collect();
            for t in &targets {
                let rule: String = t.get(0);
                if let Ok(i) = out.binary_search_by(|(r, _)| r.name.as_bytes().cmp(rule.as_bytes()))
                {
                    out[i].1.push(EventTargetRecord {
                        target_id: t.get(1),
                        arn: t.get(2),
                        definition: t.get(3),
                    });
                }
            }
            Ok(out)
        })?)
    }
}
