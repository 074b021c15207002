//! Compliance items on SQLite (the one writer connection serialises each upload).

use rusqlite::{params, OptionalExtension, Transaction};

use super::SqliteStore;
use crate::compliance::{ComplianceItemRecord, ComplianceOutcome, ComplianceStore, UploadMode};
use crate::Result;

const UPSERT_ITEM: &str = "INSERT INTO compliance_items (region, resource_type, resource_id, \
     compliance_type, item_id, title, status, severity, details, execution_id, execution_type, \
     execution_time_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) \
     ON CONFLICT (region, resource_type, resource_id, compliance_type, item_id) DO UPDATE SET \
     title = excluded.title, status = excluded.status, severity = excluded.severity, \
     details = excluded.details, execution_id = excluded.execution_id, \
     execution_type = excluded.execution_type, execution_time_ms = excluded.execution_time_ms";

fn write_items(tx: &Transaction<'_>, items: &[ComplianceItemRecord]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(UPSERT_ITEM)?;
    for i in items {
        stmt.execute(params![
            i.region,
            i.resource_type,
            i.resource_id,
            i.compliance_type,
            i.id,
            i.title,
            i.status,
            i.severity,
            i.details,
            i.execution_id,
            i.execution_type,
            i.execution_time_ms
        ])?;
    }
    Ok(())
}

impl ComplianceStore for SqliteStore {
    fn put_compliance_items(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        compliance_type: &str,
        items: &[ComplianceItemRecord],
        mode: UploadMode,
        content_hash: Option<&str>,
        max_types: usize,
    ) -> Result<ComplianceOutcome> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let key = params![region, resource_type, resource_id, compliance_type];
        let stored: Option<Option<String>> = tx
            .query_row(
                "SELECT content_hash FROM compliance_uploads WHERE region = ?1 AND \
                 resource_type = ?2 AND resource_id = ?3 AND compliance_type = ?4",
                key,
                |r| r.get(0),
            )
            .optional()?;
        if let (Some(hash), Some(Some(previous))) = (content_hash, &stored) {
            if hash == previous {
                return Ok(ComplianceOutcome::Unchanged);
            }
        }
        let clears = mode == UploadMode::Complete && items.is_empty();
        if stored.is_none() && !clears && compliance_type.starts_with("Custom:") {
            let types: i64 = tx.query_row(
                "SELECT COUNT(*) FROM compliance_uploads WHERE region = ?1 AND \
                 resource_type = ?2 AND resource_id = ?3 AND compliance_type LIKE 'Custom:%'",
                params![region, resource_type, resource_id],
                |r| r.get(0),
            )?;
            if types as usize >= max_types {
                return Ok(ComplianceOutcome::TooManyTypes);
            }
        }
        if mode == UploadMode::Complete {
            tx.execute(
                "DELETE FROM compliance_items WHERE region = ?1 AND resource_type = ?2 AND \
                 resource_id = ?3 AND compliance_type = ?4",
                key,
            )?;
        }
        write_items(&tx, items)?;
        if clears {
            tx.execute(
                "DELETE FROM compliance_uploads WHERE region = ?1 AND resource_type = ?2 AND \
                 resource_id = ?3 AND compliance_type = ?4",
                key,
            )?;
        } else {
            tx.execute(
                "INSERT INTO compliance_uploads (region, resource_type, resource_id, \
                 compliance_type, content_hash) VALUES (?1,?2,?3,?4,?5) ON CONFLICT \
                 (region, resource_type, resource_id, compliance_type) DO UPDATE SET \
                 content_hash = excluded.content_hash",
                params![
                    region,
                    resource_type,
                    resource_id,
                    compliance_type,
                    content_hash
                ],
            )?;
        }
        tx.commit()?;
        Ok(ComplianceOutcome::Stored)
    }

    fn compliance_items(&self, region: &str) -> Result<Vec<ComplianceItemRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT region, resource_type, resource_id, compliance_type, item_id, title, \
                 status, severity, details, execution_id, execution_type, execution_time_ms \
                 FROM compliance_items WHERE region = ?1 \
                 ORDER BY resource_type, resource_id, compliance_type, item_id",
            )?;
            let rows = stmt.query_map(params![region], |r| {
                Ok(ComplianceItemRecord {
                    region: r.get(0)?,
                    resource_type: r.get(1)?,
                    resource_id: r.get(2)?,
                    compliance_type: r.get(3)?,
                    id: r.get(4)?,
                    title: r.get(5)?,
                    status: r.get(6)?,
                    severity: r.get(7)?,
                    details: r.get(8)?,
                    execution_id: r.get(9)?,
                    execution_type: r.get(10)?,
                    execution_time_ms: r.get(11)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
