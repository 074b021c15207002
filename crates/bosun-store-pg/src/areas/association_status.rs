//! Per-node association state on PostgreSQL ([`bosun_store::AssociationStatusStore`]).
//!
//! Locking rule: the end of an execution and a status update lock the association's row first
//! (`FOR NO KEY UPDATE`, as firings do: a concurrent deletion waits, and node rows never
//! reference a deleted association), then each touched resource's compliance advisory lock in
//! resource order (the lock uploads take). Newer-wins is a `WHERE` on the upsert's update.

use std::collections::BTreeSet;

use bosun_core::compliance::RESOURCE_TYPE;
use bosun_store::{
    AssociationExecutionRecord, AssociationState, AssociationStatusStore, ComplianceItemRecord,
    NodeAssociationStatus, Result, StatusChange, StatusValue,
};
use tokio_postgres::Row;

use super::association_runs::write_execution;
use super::compliance::COMPLIANCE_LOCK_CLASS;
use crate::{PgError, PgStore, Transaction};

/// The compliance type State Manager writes.
const ASSOCIATION_TYPE: &str = "Association";

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

pub(super) const NODE_COLS: &str = "region, association_id, instance_id, association_version, \
     document_version, execution_id, execution_ms, status, detailed_status, error_code, \
     execution_summary, additional_info";

pub(super) fn node_from_row(r: &Row) -> RowResult<NodeAssociationStatus> {
    Ok(NodeAssociationStatus {
        region: r.try_get(0)?,
        association_id: r.try_get(1)?,
        instance_id: r.try_get(2)?,
        association_version: r.try_get(3)?,
        document_version: r.try_get(4)?,
        execution_id: r.try_get(5)?,
        execution_ms: r.try_get(6)?,
        status: r.try_get(7)?,
        detailed_status: r.try_get(8)?,
        error_code: r.try_get(9)?,
        execution_summary: r.try_get(10)?,
        additional_info: r.try_get(11)?,
    })
}

/// Lock an association's row; `false` when it does not exist.
async fn lock_association(
    tx: &Transaction<'_>,
    region: &str,
    association_id: &str,
) -> std::result::Result<bool, PgError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM associations WHERE region = $1 AND association_id = $2 \
             FOR NO KEY UPDATE",
            &[&region, &association_id],
        )
        .await?
        .is_some())
}

/// Upsert a node's row unless the stored one is newer.
async fn write_node(
    tx: &Transaction<'_>,
    n: &NodeAssociationStatus,
) -> std::result::Result<(), PgError> {
    let stmt = tx
        .prepare_cached(&format!(
            "INSERT INTO association_node_status ({NODE_COLS}) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) \
             ON CONFLICT (region, association_id, instance_id) DO UPDATE SET \
             association_version = excluded.association_version, \
             document_version = excluded.document_version, execution_id = excluded.execution_id, \
             execution_ms = excluded.execution_ms, status = excluded.status, \
             detailed_status = excluded.detailed_status, error_code = excluded.error_code, \
             execution_summary = excluded.execution_summary, \
             additional_info = excluded.additional_info \
             WHERE association_node_status.execution_ms <= excluded.execution_ms"
        ))
        .await?;
    tx.execute(
        &stmt,
        &[
            &n.region,
            &n.association_id,
            &n.instance_id,
            &n.association_version,
            &n.document_version,
            &n.execution_id,
            &n.execution_ms,
            &n.status,
            &n.detailed_status,
            &n.error_code,
            &n.execution_summary,
            &n.additional_info,
        ],
    )
    .await?;
    Ok(())
}

/// Upsert compliance items unless the stored ones are newer, under their resources' locks.
async fn write_items(
    tx: &Transaction<'_>,
    items: &[ComplianceItemRecord],
) -> std::result::Result<(), PgError> {
    let resources: BTreeSet<String> = items
        .iter()
        .map(|i| format!("{} {} {}", i.region, i.resource_type, i.resource_id))
        .collect();
    for resource in &resources {
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&COMPLIANCE_LOCK_CLASS, resource],
        )
        .await?;
    }
    let upsert = tx
        .prepare_cached(
            "INSERT INTO compliance_items (region, resource_type, resource_id, \
             compliance_type, item_id, title, status, severity, details, execution_id, \
             execution_type, execution_time_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) \
             ON CONFLICT (region, resource_type, resource_id, compliance_type, item_id) \
             DO UPDATE SET title = excluded.title, status = excluded.status, \
             severity = excluded.severity, details = excluded.details, \
             execution_id = excluded.execution_id, execution_type = excluded.execution_type, \
             execution_time_ms = excluded.execution_time_ms \
             WHERE compliance_items.execution_time_ms <= excluded.execution_time_ms",
        )
        .await?;
    // The type now has items from a server-side write: a later upload's content hash must not
    // match a hash sent before them.
    let forget_hash = tx
        .prepare_cached(
            "INSERT INTO compliance_uploads (region, resource_type, resource_id, \
             compliance_type, content_hash) VALUES ($1,$2,$3,$4,NULL) ON CONFLICT \
             (region, resource_type, resource_id, compliance_type) DO UPDATE SET \
             content_hash = NULL",
        )
        .await?;
    for i in items {
        tx.execute(
            &upsert,
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
        tx.execute(
            &forget_hash,
            &[
                &i.region,
                &i.resource_type,
                &i.resource_id,
                &i.compliance_type,
            ],
        )
        .await?;
    }
    Ok(())
}

impl AssociationStatusStore for PgStore {
    fn end_association_execution(
        &self,
        e: &AssociationExecutionRecord,
        state: Option<&AssociationState>,
        nodes: &[NodeAssociationStatus],
        compliance: &[ComplianceItemRecord],
    ) -> Result<()> {
        Ok(self.transaction(async |tx| {
            let exists = lock_association(tx, &e.region, &e.association_id).await?;
            let (events, next) = self.execution_end_events(tx, e, state, nodes).await?;
            write_execution(tx, e, next.as_ref().or(state)).await?;
            if exists {
                for n in nodes {
                    write_node(tx, n).await?;
                }
                write_items(tx, compliance).await?;
            }
            super::association_events::append_last(tx, &events).await
        })?)
    }

    fn association_nodes_in_region(&self, region: &str) -> Result<Vec<(String, String)>> {
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    "SELECT association_id, instance_id FROM association_node_status \
                     WHERE region = $1 ORDER BY association_id COLLATE \"C\", \
                     instance_id COLLATE \"C\"",
                    &[&region],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<RowResult<Vec<_>>>()?)
        })?)
    }

    fn forget_association_nodes(
        &self,
        region: &str,
        association_id: &str,
        instance_ids: &[String],
        drop_compliance: bool,
    ) -> Result<usize> {
        Ok(self.transaction(async |tx| {
            if !lock_association(tx, region, association_id).await? {
                return Ok(0);
            }
            let Some((events, next)) = self
                .forget_events(tx, region, association_id, instance_ids)
                .await?
            else {
                return Ok(0);
            };
            let mut removed = 0;
            let mut sorted: Vec<&String> = instance_ids.iter().collect();
            sorted.sort();
            if drop_compliance {
                // The resources' compliance locks, in resource order (as uploads take them).
                for id in &sorted {
                    let resource = format!("{region} {RESOURCE_TYPE} {id}");
                    tx.execute(
                        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                        &[&COMPLIANCE_LOCK_CLASS, &resource],
                    )
                    .await?;
                }
            }
            for id in sorted {
                removed += tx
                    .execute(
                        "DELETE FROM association_node_status \
                         WHERE region = $1 AND association_id = $2 AND instance_id = $3",
                        &[&region, &association_id, id],
                    )
                    .await? as usize;
                tx.execute(
                    "DELETE FROM association_applied_nodes \
                     WHERE region = $1 AND association_id = $2 AND instance_id = $3",
                    &[&region, &association_id, id],
                )
                .await?;
                if drop_compliance {
                    let items = tx
                        .execute(
                            "DELETE FROM compliance_items WHERE region = $1 \
                             AND resource_type = $2 AND resource_id = $3 \
                             AND compliance_type = $4 AND item_id = $5",
                            &[
                                &region,
                                &RESOURCE_TYPE,
                                id,
                                &ASSOCIATION_TYPE,
                                &association_id,
                            ],
                        )
                        .await?;
                    if items > 0 {
                        // A later upload's content hash must not match one sent before.
                        tx.execute(
                            "UPDATE compliance_uploads SET content_hash = NULL \
                             WHERE region = $1 AND resource_type = $2 AND resource_id = $3 \
                             AND compliance_type = $4",
                            &[&region, &RESOURCE_TYPE, id, &ASSOCIATION_TYPE],
                        )
                        .await?;
                    }
                }
            }
            tx.execute(
                "UPDATE associations SET overview_status = $3, overview_detailed_status = $4, \
                 overview_counts_json = $5 WHERE region = $1 AND association_id = $2",
                &[
                    &region,
                    &association_id,
                    &next.overview_status,
                    &next.overview_detailed_status,
                    &next.overview_counts_json,
                ],
            )
            .await?;
            super::association_events::append_last(tx, &events).await?;
            Ok(removed)
        })?)
    }

    fn node_association_statuses(
        &self,
        region: &str,
        instance_id: &str,
    ) -> Result<Vec<NodeAssociationStatus>> {
        Ok(self.with_client(async |client| {
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {NODE_COLS} FROM association_node_status \
                     WHERE region = $1 AND instance_id = $2 ORDER BY association_id COLLATE \"C\""
                ))
                .await?;
            let rows = client.query(&statement, &[&region, &instance_id]).await?;
            Ok(rows
                .iter()
                .map(node_from_row)
                .collect::<RowResult<Vec<_>>>()?)
        })?)
    }

    fn set_association_status(
        &self,
        region: &str,
        association_id: &str,
        expected: &StatusValue,
        new: &StatusValue,
        node: &NodeAssociationStatus,
    ) -> Result<StatusChange> {
        Ok(self.transaction(async |tx| {
            if !lock_association(tx, region, association_id).await? {
                return Ok(StatusChange::NoSuchAssociation);
            }
            let changed = tx
                .execute(
                    "UPDATE associations SET status_name = $6, status_message = $7, \
                     status_date_ms = $8 WHERE region = $1 AND association_id = $2 AND \
                     status_name = $3 AND status_message = $4 AND status_date_ms = $5",
                    &[
                        &region,
                        &association_id,
                        &expected.name,
                        &expected.message,
                        &expected.date_ms,
                        &new.name,
                        &new.message,
                        &new.date_ms,
                    ],
                )
                .await?;
            if changed == 0 {
                return Ok(StatusChange::Conflict);
            }
            let events = self.node_status_events(tx, node).await?;
            write_node(tx, node).await?;
            super::association_events::append_last(tx, &events).await?;
            Ok(StatusChange::Written)
        })?)
    }
}
