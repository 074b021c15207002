//! Compliance items on PostgreSQL ([`bosun_store::ComplianceStore`]).
//!
//! Locking rule: an upload takes a transaction-scoped advisory lock on its resource first, so
//! the compliance-type count check and the write cannot interleave with another upload to the
//! same resource (even when the resource has no rows yet to lock).

use bosun_store::{ComplianceItemRecord, ComplianceOutcome, ComplianceStore, Result, UploadMode};
use deadpool_postgres::Transaction;

use crate::{PgError, PgStore};

/// The first key of the advisory locks on resources' compliance (`"cmpl"` in ASCII).
pub(super) const COMPLIANCE_LOCK_CLASS: i32 = 0x636d_706c;

const UPSERT_ITEM: &str = "INSERT INTO compliance_items (region, resource_type, resource_id, \
     compliance_type, item_id, title, status, severity, details, execution_id, execution_type, \
     execution_time_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) \
     ON CONFLICT (region, resource_type, resource_id, compliance_type, item_id) DO UPDATE SET \
     title = excluded.title, status = excluded.status, severity = excluded.severity, \
     details = excluded.details, execution_id = excluded.execution_id, \
     execution_type = excluded.execution_type, execution_time_ms = excluded.execution_time_ms";

async fn write_items(
    tx: &Transaction<'_>,
    items: &[ComplianceItemRecord],
) -> std::result::Result<(), PgError> {
    let stmt = tx.prepare_cached(UPSERT_ITEM).await?;
    for i in items {
        tx.execute(
            &stmt,
            &[
                &i.region,
                &i.resource_type,
                &i.resource_id,
                &i.compliance_type,
                &i.id,
                &i.title,
                &i.status,
                &i.severity,
                &i.details,
                &i.execution_id,
                &i.execution_type,
                &i.execution_time_ms,
            ],
        )
        .await?;
    }
    Ok(())
}

impl ComplianceStore for PgStore {
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
        Ok(self.transaction(async |tx| {
            let resource = format!("{region} {resource_type} {resource_id}");
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&COMPLIANCE_LOCK_CLASS, &resource],
            )
            .await?;
            let key: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
                [&region, &resource_type, &resource_id, &compliance_type];
            let stored = tx
                .query_opt(
                    "SELECT content_hash FROM compliance_uploads WHERE region = $1 AND \
                     resource_type = $2 AND resource_id = $3 AND compliance_type = $4",
                    &key,
                )
                .await?
                .map(|r| r.get::<_, Option<String>>(0));
            if let (Some(hash), Some(Some(previous))) = (content_hash, &stored) {
                if hash == previous {
                    return Ok(ComplianceOutcome::Unchanged);
                }
            }
            let clears = mode == UploadMode::Complete && items.is_empty();
            if stored.is_none() && !clears && compliance_type.starts_with("Custom:") {
                let types: i64 = tx
                    .query_one(
                        "SELECT COUNT(*) FROM compliance_uploads WHERE region = $1 AND \
                         resource_type = $2 AND resource_id = $3 AND compliance_type LIKE 'Custom:%'",
                        &[&region, &resource_type, &resource_id],
                    )
                    .await?
                    .get(0);
                if types as usize >= max_types {
                    return Ok(ComplianceOutcome::TooManyTypes);
                }
            }
            if mode == UploadMode::Complete {
                tx.execute(
                    "DELETE FROM compliance_items WHERE region = $1 AND resource_type = $2 AND \
                     resource_id = $3 AND compliance_type = $4",
                    &key,
                )
                .await?;
            }
            write_items(tx, items).await?;
            if clears {
                tx.execute(
                    "DELETE FROM compliance_uploads WHERE region = $1 AND resource_type = $2 \
                     AND resource_id = $3 AND compliance_type = $4",
                    &key,
                )
                .await?;
            } else {
                tx.execute(
                    "INSERT INTO compliance_uploads (region, resource_type, resource_id, \
                     compliance_type, content_hash) VALUES ($1,$2,$3,$4,$5) ON CONFLICT \
                     (region, resource_type, resource_id, compliance_type) DO UPDATE SET \
                     content_hash = excluded.content_hash",
                    &[
                        &region,
                        &resource_type,
                        &resource_id,
                        &compliance_type,
                        &content_hash,
                    ],
                )
                .await?;
            }
            Ok(ComplianceOutcome::Stored)
        })?)
    }

    fn compliance_items(&self, region: &str) -> Result<Vec<ComplianceItemRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    "SELECT region, resource_type, resource_id, compliance_type, item_id, title, \
                     status, severity, details, execution_id, execution_type, execution_time_ms \
                     FROM compliance_items WHERE region = $1 ORDER BY resource_type COLLATE \"C\", \
                     resource_id COLLATE \"C\", compliance_type COLLATE \"C\", item_id COLLATE \"C\"",
                    &[&region],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| ComplianceItemRecord {
                    region: r.get(0),
                    resource_type: r.get(1),
                    resource_id: r.get(2),
                    compliance_type: r.get(3),
                    id: r.get(4),
                    title: r.get(5),
                    status: r.get(6),
                    severity: r.get(7),
                    details: r.get(8),
                    execution_id: r.get(9),
                    execution_type: r.get(10),
                    execution_time_ms: r.get(11),
                })
                .collect())
        })?)
    }
}
