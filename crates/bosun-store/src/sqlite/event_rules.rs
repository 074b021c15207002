//! EventBridge rules and their targets on SQLite (the one writer connection serialises every
//! change, so the limit checks and the targets-exist check hold under concurrency).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::tags::put_tags;
use super::SqliteStore;
use crate::event_rules::{
    EventRuleRecord, EventRuleStore, EventTargetRecord, RuleDeletion, RULE_TAG_TYPE,
};
use crate::{Result, StoreError};

const COLS: &str = "region, name, event_pattern, state, description, role_arn, created_ms";
const TARGET_COLS: &str = "target_id, arn, definition";

fn rule_from(r: &Row<'_>) -> rusqlite::Result<EventRuleRecord> {
    Ok(EventRuleRecord {
        region: r.get(0)?,
        name: r.get(1)?,
        event_pattern: r.get(2)?,
        state: r.get(3)?,
        description: r.get(4)?,
        role_arn: r.get(5)?,
        created_ms: r.get(6)?,
    })
}

fn target_from(r: &Row<'_>) -> rusqlite::Result<EventTargetRecord> {
    Ok(EventTargetRecord {
        target_id: r.get(0)?,
        arn: r.get(1)?,
        definition: r.get(2)?,
    })
}

fn rule_in(
    conn: &Connection,
    region: &str,
    name: &str,
) -> rusqlite::Result<Option<EventRuleRecord>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM event_rules WHERE region = ?1 AND name = ?2"),
        params![region, name],
        rule_from,
    )
    .optional()
}

fn targets_in(
    conn: &Connection,
    region: &str,
    rule: &str,
) -> rusqlite::Result<Vec<EventTargetRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TARGET_COLS} FROM event_targets WHERE region = ?1 AND rule_name = ?2 \
         ORDER BY target_id"
    ))?;
    let rows = stmt.query_map(params![region, rule], target_from)?;
    rows.collect()
}

fn count(conn: &Connection, sql: &str, region: &str, name: &str) -> rusqlite::Result<usize> {
    conn.query_row(sql, params![region, name], |r| r.get::<_, i64>(0))
        .map(|n| n as usize)
}

impl EventRuleStore for SqliteStore {
    fn put_rule(
        &self,
        rule: &EventRuleRecord,
        tags: &[(String, String)],
        max_rules: usize,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let created = rule_in(&tx, &rule.region, &rule.name)?.is_none();
        if created {
            let held: i64 = tx.query_row(
                "SELECT COUNT(*) FROM event_rules WHERE region = ?1",
                params![rule.region],
                |r| r.get(0),
            )?;
            if held as usize >= max_rules {
                return Err(StoreError::LimitExceeded(format!("{max_rules} rules")));
            }
            tx.execute(
                &format!("INSERT INTO event_rules ({COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7)"),
                params![
                    rule.region,
                    rule.name,
                    rule.event_pattern,
                    rule.state,
                    rule.description,
                    rule.role_arn,
                    rule.created_ms
                ],
            )?;
            put_tags(&tx, &rule.region, RULE_TAG_TYPE, &rule.name, tags)?;
        } else {
            tx.execute(
                "UPDATE event_rules SET event_pattern = ?3, state = ?4, description = ?5, \
                 role_arn = ?6 WHERE region = ?1 AND name = ?2",
                params![
                    rule.region,
                    rule.name,
                    rule.event_pattern,
                    rule.state,
                    rule.description,
                    rule.role_arn
                ],
            )?;
        }
        tx.commit()?;
        Ok(created)
    }

    fn get_rule(&self, region: &str, name: &str) -> Result<Option<EventRuleRecord>> {
        self.read(|conn| Ok(rule_in(conn, region, name)?))
    }

    fn list_rules(&self, region: &str) -> Result<Vec<EventRuleRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM event_rules WHERE region = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map(params![region], rule_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn set_rule_state(&self, region: &str, name: &str, state: &str) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE event_rules SET state = ?3 WHERE region = ?1 AND name = ?2",
            params![region, name, state],
        )?;
        Ok(changed == 1)
    }

    fn delete_rule(&self, region: &str, name: &str) -> Result<RuleDeletion> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if rule_in(&tx, region, name)?.is_none() {
            return Ok(RuleDeletion::NotFound);
        }
        let targets = count(
            &tx,
            "SELECT COUNT(*) FROM event_targets WHERE region = ?1 AND rule_name = ?2",
            region,
            name,
        )?;
        if targets > 0 {
            return Ok(RuleDeletion::HasTargets);
        }
        tx.execute(
            "DELETE FROM event_rules WHERE region = ?1 AND name = ?2",
            params![region, name],
        )?;
        tx.execute(
            "DELETE FROM tags WHERE region = ?1 AND resource_type = ?2 AND resource_id = ?3",
            params![region, RULE_TAG_TYPE, name],
        )?;
        tx.commit()?;
        Ok(RuleDeletion::Deleted)
    }

    fn put_targets(
        &self,
        region: &str,
        rule: &str,
        targets: &[EventTargetRecord],
        max_targets: usize,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if rule_in(&tx, region, rule)?.is_none() {
            return Err(StoreError::NotFound(format!("rule {rule}")));
        }
        {
            let mut upsert = tx.prepare_cached(&format!(
                "INSERT INTO event_targets (region, rule_name, {TARGET_COLS}) \
                 VALUES (?1,?2,?3,?4,?5) ON CONFLICT (region, rule_name, target_id) \
                 DO UPDATE SET arn = excluded.arn, definition = excluded.definition"
            ))?;
            for t in targets {
                upsert.execute(params![region, rule, t.target_id, t.arn, t.definition])?;
            }
        }
        let held = count(
            &tx,
            "SELECT COUNT(*) FROM event_targets WHERE region = ?1 AND rule_name = ?2",
            region,
            rule,
        )?;
        if held > max_targets {
            // Dropping the transaction rolls the additions back.
            return Err(StoreError::LimitExceeded(format!("{max_targets} targets")));
        }
        tx.commit()?;
        Ok(())
    }

    fn remove_targets(&self, region: &str, rule: &str, ids: &[String]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if rule_in(&tx, region, rule)?.is_none() {
            return Err(StoreError::NotFound(format!("rule {rule}")));
        }
        {
            let mut delete = tx.prepare_cached(
                "DELETE FROM event_targets WHERE region = ?1 AND rule_name = ?2 AND target_id = ?3",
            )?;
            for id in ids {
                delete.execute(params![region, rule, id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn rule_targets(&self, region: &str, rule: &str) -> Result<Vec<EventTargetRecord>> {
        self.read(|conn| Ok(targets_in(conn, region, rule)?))
    }

    fn rule_names_by_target(&self, region: &str, arn: &str) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT rule_name FROM event_targets WHERE region = ?1 AND arn = ?2 \
                 ORDER BY rule_name",
            )?;
            let rows = stmt.query_map(params![region, arn], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn enabled_rules_with_targets(
        &self,
        region: &str,
    ) -> Result<Vec<(EventRuleRecord, Vec<EventTargetRecord>)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM event_rules WHERE region = ?1 AND state = 'ENABLED' \
                 ORDER BY name"
            ))?;
            let rules = stmt
                .query_map(params![region], rule_from)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(rules.len());
            for rule in rules {
                let targets = targets_in(conn, region, &rule.name)?;
                out.push((rule, targets));
            }
            Ok(out)
        })
    }
}
