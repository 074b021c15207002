//! Associations on SQLite: creations and updates run in `IMMEDIATE` transactions, so their
//! checks (the region's limit, the expected version, the next number) cannot race.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::associations::{
    AssociationDefinition, AssociationFilter, AssociationRecord, AssociationState,
    AssociationStore, AssociationVersionRecord, UpdateAssociation,
};
use crate::{Result, StoreError};

/// The definition's columns, in both tables.
const DEF_COLS: &str = "name, document_version, instance_id, association_name, \
     schedule_expression, apply_only_at_cron_interval, schedule_offset, duration_hours, spec_json";
const STATE_COLS: &str = "status_name, status_message, status_date_ms, overview_status, \
     overview_detailed_status, overview_counts_json, last_execution_ms, \
     last_successful_execution_ms";

pub(super) fn head_cols() -> String {
    format!(
        "region, association_id, latest_version, created_ms, updated_ms, {DEF_COLS}, {STATE_COLS}"
    )
}

fn definition_at(r: &Row, i: usize) -> rusqlite::Result<AssociationDefinition> {
    Ok(AssociationDefinition {
        name: r.get(i)?,
        document_version: r.get(i + 1)?,
        instance_id: r.get(i + 2)?,
        association_name: r.get(i + 3)?,
        schedule_expression: r.get(i + 4)?,
        apply_only_at_cron_interval: r.get(i + 5)?,
        schedule_offset: r.get(i + 6)?,
        duration_hours: r.get(i + 7)?,
        spec_json: r.get(i + 8)?,
    })
}

pub(super) fn record_from_row(r: &Row) -> rusqlite::Result<AssociationRecord> {
    Ok(AssociationRecord {
        region: r.get(0)?,
        association_id: r.get(1)?,
        version: r.get(2)?,
        created_ms: r.get(3)?,
        updated_ms: r.get(4)?,
        definition: definition_at(r, 5)?,
        state: AssociationState {
            status_name: r.get(14)?,
            status_message: r.get(15)?,
            status_date_ms: r.get(16)?,
            overview_status: r.get(17)?,
            overview_detailed_status: r.get(18)?,
            overview_counts_json: r.get(19)?,
            last_execution_ms: r.get(20)?,
            last_successful_execution_ms: r.get(21)?,
        },
    })
}

fn version_from_row(r: &Row) -> rusqlite::Result<AssociationVersionRecord> {
    Ok(AssociationVersionRecord {
        version: r.get(0)?,
        created_ms: r.get(1)?,
        definition: definition_at(r, 2)?,
    })
}

fn insert_version(
    tx: &rusqlite::Connection,
    region: &str,
    id: &str,
    version: i64,
    created_ms: i64,
    d: &AssociationDefinition,
) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO association_versions (region, association_id, version, created_ms, {DEF_COLS}) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
        ),
        params![
            region,
            id,
            version,
            created_ms,
            d.name,
            d.document_version,
            d.instance_id,
            d.association_name,
            d.schedule_expression,
            d.apply_only_at_cron_interval,
            d.schedule_offset,
            d.duration_hours,
            d.spec_json
        ],
    )?;
    Ok(())
}

/// A unique-index violation: the legacy (document, node) pair is taken.
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn pair_taken(d: &AssociationDefinition) -> StoreError {
    StoreError::AlreadyExists(format!(
        "association of document {} with node {}",
        d.name, d.instance_id
    ))
}

impl AssociationStore for SqliteStore {
    fn create_association(
        &self,
        a: &AssociationRecord,
        tags: &[(String, String)],
        max_associations: usize,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let count: i64 = tx.query_row(
            "SELECT COUNT(*) FROM associations WHERE region = ?1",
            [&a.region],
            |r| r.get(0),
        )?;
        if count as usize >= max_associations {
            return Err(StoreError::LimitExceeded(format!(
                "{max_associations} associations"
            )));
        }
        let (d, s) = (&a.definition, &a.state);
        let inserted = tx.execute(
            &format!(
                "INSERT INTO associations ({}) VALUES \
                 (?1,?2,1,?3,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
                head_cols()
            ),
            params![
                a.region,
                a.association_id,
                a.created_ms,
                d.name,
                d.document_version,
                d.instance_id,
                d.association_name,
                d.schedule_expression,
                d.apply_only_at_cron_interval,
                d.schedule_offset,
                d.duration_hours,
                d.spec_json,
                s.status_name,
                s.status_message,
                s.status_date_ms,
                s.overview_status,
                s.overview_detailed_status,
                s.overview_counts_json,
                s.last_execution_ms,
                s.last_successful_execution_ms
            ],
        );
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(pair_taken(d)),
            other => other?,
        };
        insert_version(&tx, &a.region, &a.association_id, 1, a.created_ms, d)?;
        super::tags::put_tags(&tx, &a.region, "Association", &a.association_id, tags)?;
        self.emit_association_event(&tx, &a.region, &a.association_id)?;
        tx.commit()?;
        Ok(())
    }

    fn get_association(
        &self,
        region: &str,
        association_id: &str,
    ) -> Result<Option<AssociationRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {} FROM associations WHERE region = ?1 AND association_id = ?2",
                        head_cols()
                    ),
                    params![region, association_id],
                    record_from_row,
                )
                .optional()?)
        })
    }

    fn association_of_node(
        &self,
        region: &str,
        name: &str,
        instance_id: &str,
    ) -> Result<Option<AssociationRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {} FROM associations WHERE region = ?1 AND name = ?2 \
                         AND instance_id = ?3 AND instance_id <> ''",
                        head_cols()
                    ),
                    params![region, name, instance_id],
                    record_from_row,
                )
                .optional()?)
        })
    }

    fn list_associations(
        &self,
        region: &str,
        filter: &AssociationFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AssociationRecord>> {
        let mut sql = format!("SELECT {} FROM associations WHERE region = ?1", head_cols());
        let mut args: Vec<SqlValue> = vec![SqlValue::Text(region.into())];
        let mut add = |condition: &str, value: SqlValue| {
            args.push(value);
            sql.push_str(&format!(" AND {condition} ?{}", args.len()));
        };
        let text = |s: &String| SqlValue::Text(s.clone());
        if let Some(v) = &filter.name {
            add("name =", text(v));
        }
        if let Some(v) = &filter.association_id {
            add("association_id =", text(v));
        }
        if let Some(v) = &filter.association_name {
            add("association_name =", text(v));
        }
        if let Some(v) = &filter.instance_id {
            add("instance_id <> '' AND instance_id =", text(v));
        }
        if let Some(v) = &filter.overview_status {
            add("overview_status =", text(v));
        }
        if let Some(ms) = filter.last_executed_before_ms {
            add("last_execution_ms <", SqlValue::Integer(ms));
        }
        if let Some(ms) = filter.last_executed_after_ms {
            add("last_execution_ms >", SqlValue::Integer(ms));
        }
        if let Some(a) = after {
            add("association_id >", SqlValue::Text(a.into()));
        }
        sql.push_str(&format!(" ORDER BY association_id LIMIT {limit}"));
        self.read(|conn| {
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), record_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn association_version(
        &self,
        region: &str,
        association_id: &str,
        version: i64,
    ) -> Result<Option<AssociationVersionRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT version, created_ms, {DEF_COLS} FROM association_versions \
                         WHERE region = ?1 AND association_id = ?2 AND version = ?3"
                    ),
                    params![region, association_id, version],
                    version_from_row,
                )
                .optional()?)
        })
    }

    fn association_versions(
        &self,
        region: &str,
        association_id: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AssociationVersionRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT version, created_ms, {DEF_COLS} FROM association_versions \
                 WHERE region = ?1 AND association_id = ?2 AND version > ?3 \
                 ORDER BY version LIMIT ?4"
            ))?;
            let rows = stmt.query_map(
                params![region, association_id, after, limit as i64],
                version_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn update_association(
        &self,
        region: &str,
        association_id: &str,
        expected_version: Option<i64>,
        d: &AssociationDefinition,
        now_ms: i64,
        max_versions: usize,
    ) -> Result<UpdateAssociation> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let latest: Option<i64> = tx
            .query_row(
                "SELECT latest_version FROM associations WHERE region = ?1 AND association_id = ?2",
                params![region, association_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(latest) = latest else {
            return Ok(UpdateAssociation::NoSuchAssociation);
        };
        if expected_version.is_some_and(|e| e != latest) {
            return Ok(UpdateAssociation::VersionMismatch(latest));
        }
        let count: i64 = tx.query_row(
            "SELECT COUNT(*) FROM association_versions WHERE region = ?1 AND association_id = ?2",
            params![region, association_id],
            |r| r.get(0),
        )?;
        if count as usize >= max_versions {
            return Ok(UpdateAssociation::LimitExceeded);
        }
        let version = latest + 1;
        let updated = tx.execute(
            "UPDATE associations SET latest_version = ?3, updated_ms = ?4, name = ?5, \
             document_version = ?6, instance_id = ?7, association_name = ?8, \
             schedule_expression = ?9, apply_only_at_cron_interval = ?10, schedule_offset = ?11, \
             duration_hours = ?12, spec_json = ?13 WHERE region = ?1 AND association_id = ?2",
            params![
                region,
                association_id,
                version,
                now_ms,
                d.name,
                d.document_version,
                d.instance_id,
                d.association_name,
                d.schedule_expression,
                d.apply_only_at_cron_interval,
                d.schedule_offset,
                d.duration_hours,
                d.spec_json
            ],
        );
        match updated {
            Err(e) if is_unique_violation(&e) => return Err(pair_taken(d)),
            other => other?,
        };
        insert_version(&tx, region, association_id, version, now_ms, d)?;
        let record = tx.query_row(
            &format!(
                "SELECT {} FROM associations WHERE region = ?1 AND association_id = ?2",
                head_cols()
            ),
            params![region, association_id],
            record_from_row,
        )?;
        self.emit_association_event(&tx, region, association_id)?;
        tx.commit()?;
        Ok(UpdateAssociation::Updated(Box::new(record)))
    }

    fn delete_association(&self, region: &str, association_id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        self.emit_association_event(&tx, region, association_id)?;
        let n = tx.execute(
            "DELETE FROM associations WHERE region = ?1 AND association_id = ?2",
            params![region, association_id],
        )?;
        tx.execute(
            "DELETE FROM tags WHERE region = ?1 AND resource_type = 'Association' AND resource_id = ?2",
            params![region, association_id],
        )?;
        tx.execute(
            "DELETE FROM compliance_items WHERE region = ?1 AND compliance_type = 'Association' \
             AND item_id = ?2",
            params![region, association_id],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }
}
