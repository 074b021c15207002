//! Per-node association state on SQLite: the end of an execution (execution, association,
//! node rows, compliance items) is one `IMMEDIATE` transaction; newer-wins is a `WHERE` on
//! the upsert's update.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::association_events::{stored_association, stored_nodes};
use super::association_runs::write_execution;
use super::SqliteStore;
use crate::association_status::{
    AssociationStatusStore, NodeAssociationStatus, StatusChange, StatusValue,
};
use crate::{AssociationExecutionRecord, AssociationState, ComplianceItemRecord, Result};

use bosun_core::compliance::RESOURCE_TYPE;

/// The compliance type State Manager writes.
const ASSOCIATION_TYPE: &str = "Association";

pub(super) const NODE_COLS: &str = "region, association_id, instance_id, association_version, \
     document_version, execution_id, execution_ms, status, detailed_status, error_code, \
     execution_summary, additional_info";

pub(super) fn node_from_row(r: &Row) -> rusqlite::Result<NodeAssociationStatus> {
    Ok(NodeAssociationStatus {
        region: r.get(0)?,
        association_id: r.get(1)?,
        instance_id: r.get(2)?,
        association_version: r.get(3)?,
        document_version: r.get(4)?,
        execution_id: r.get(5)?,
        execution_ms: r.get(6)?,
        status: r.get(7)?,
        detailed_status: r.get(8)?,
        error_code: r.get(9)?,
        execution_summary: r.get(10)?,
        additional_info: r.get(11)?,
    })
}

/// Upsert a node's row unless the stored one is newer.
fn write_node(tx: &Transaction<'_>, n: &NodeAssociationStatus) -> rusqlite::Result<()> {
    tx.prepare_cached(&format!(
        "INSERT INTO association_node_status ({NODE_COLS}) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) \
         ON CONFLICT (region, association_id, instance_id) DO UPDATE SET \
         association_version = excluded.association_version, \
         document_version = excluded.document_version, execution_id = excluded.execution_id, \
         execution_ms = excluded.execution_ms, status = excluded.status, \
         detailed_status = excluded.detailed_status, error_code = excluded.error_code, \
         execution_summary = excluded.execution_summary, \
         additional_info = excluded.additional_info \
         WHERE association_node_status.execution_ms <= excluded.execution_ms"
    ))?
    .execute(params![
        n.region,
        n.association_id,
        n.instance_id,
        n.association_version,
        n.document_version,
        n.execution_id,
        n.execution_ms,
        n.status,
        n.detailed_status,
        n.error_code,
        n.execution_summary,
        n.additional_info
    ])?;
    Ok(())
}

/// Upsert a compliance item unless the stored one is newer.
fn write_item(tx: &Transaction<'_>, i: &ComplianceItemRecord) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO compliance_items (region, resource_type, resource_id, compliance_type, \
         item_id, title, status, severity, details, execution_id, execution_type, \
         execution_time_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) \
         ON CONFLICT (region, resource_type, resource_id, compliance_type, item_id) DO UPDATE \
         SET title = excluded.title, status = excluded.status, severity = excluded.severity, \
         details = excluded.details, execution_id = excluded.execution_id, \
         execution_type = excluded.execution_type, execution_time_ms = excluded.execution_time_ms \
         WHERE compliance_items.execution_time_ms <= excluded.execution_time_ms",
    )?
    .execute(params![
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
    // The type now has items from a server-side write: a later upload's content hash must not
    // match a hash sent before them.
    tx.prepare_cached(
        "INSERT INTO compliance_uploads (region, resource_type, resource_id, compliance_type, \
         content_hash) VALUES (?1,?2,?3,?4,NULL) ON CONFLICT \
         (region, resource_type, resource_id, compliance_type) DO UPDATE SET content_hash = NULL",
    )?
    .execute(params![
        i.region,
        i.resource_type,
        i.resource_id,
        i.compliance_type
    ])?;
    Ok(())
}

impl AssociationStatusStore for SqliteStore {
    fn end_association_execution(
        &self,
        e: &AssociationExecutionRecord,
        state: Option<&AssociationState>,
        nodes: &[NodeAssociationStatus],
        compliance: &[ComplianceItemRecord],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let next = self.emit_execution_end_events(&tx, e, state, nodes)?;
        write_execution(&tx, e, next.as_ref().or(state))?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM associations WHERE region = ?1 AND association_id = ?2",
                params![e.region, e.association_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if exists {
            for n in nodes {
                write_node(&tx, n)?;
            }
            for i in compliance {
                write_item(&tx, i)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn association_nodes_in_region(&self, region: &str) -> Result<Vec<(String, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT association_id, instance_id FROM association_node_status \
                 WHERE region = ?1 ORDER BY association_id, instance_id",
            )?;
            let rows = stmt.query_map(params![region], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn forget_association_nodes(
        &self,
        region: &str,
        association_id: &str,
        instance_ids: &[String],
        drop_compliance: bool,
    ) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Some(a) = stored_association(&tx, region, association_id)? else {
            return Ok(0);
        };
        let stored = stored_nodes(&tx, region, association_id)?;
        let next = self.emit_forget_events(&tx, &a, &stored, instance_ids)?;
        let mut removed = 0;
        for id in instance_ids {
            removed += tx.execute(
                "DELETE FROM association_node_status \
                 WHERE region = ?1 AND association_id = ?2 AND instance_id = ?3",
                params![region, association_id, id],
            )?;
            tx.execute(
                "DELETE FROM association_applied_nodes \
                 WHERE region = ?1 AND association_id = ?2 AND instance_id = ?3",
                params![region, association_id, id],
            )?;
            if drop_compliance {
                let items = tx.execute(
                    "DELETE FROM compliance_items WHERE region = ?1 AND resource_type = ?2 \
                     AND resource_id = ?3 AND compliance_type = ?4 AND item_id = ?5",
                    params![region, RESOURCE_TYPE, id, ASSOCIATION_TYPE, association_id],
                )?;
                if items > 0 {
                    // A later upload's content hash must not match one sent before.
                    tx.execute(
                        "UPDATE compliance_uploads SET content_hash = NULL WHERE region = ?1 \
                         AND resource_type = ?2 AND resource_id = ?3 AND compliance_type = ?4",
                        params![region, RESOURCE_TYPE, id, ASSOCIATION_TYPE],
                    )?;
                }
            }
        }
        tx.execute(
            "UPDATE associations SET overview_status = ?3, overview_detailed_status = ?4, \
             overview_counts_json = ?5 WHERE region = ?1 AND association_id = ?2",
            params![
                region,
                association_id,
                next.overview_status,
                next.overview_detailed_status,
                next.overview_counts_json
            ],
        )?;
        tx.commit()?;
        Ok(removed)
    }

    fn node_association_statuses(
        &self,
        region: &str,
        instance_id: &str,
    ) -> Result<Vec<NodeAssociationStatus>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {NODE_COLS} FROM association_node_status \
                 WHERE region = ?1 AND instance_id = ?2 ORDER BY association_id"
            ))?;
            let rows = stmt.query_map(params![region, instance_id], node_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn set_association_status(
        &self,
        region: &str,
        association_id: &str,
        expected: &StatusValue,
        new: &StatusValue,
        node: &NodeAssociationStatus,
    ) -> Result<StatusChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE associations SET status_name = ?6, status_message = ?7, \
             status_date_ms = ?8 WHERE region = ?1 AND association_id = ?2 AND \
             status_name = ?3 AND status_message = ?4 AND status_date_ms = ?5",
            params![
                region,
                association_id,
                expected.name,
                expected.message,
                expected.date_ms,
                new.name,
                new.message,
                new.date_ms
            ],
        )?;
        if changed == 0 {
            let exists = tx
                .query_row(
                    "SELECT 1 FROM associations WHERE region = ?1 AND association_id = ?2",
                    params![region, association_id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            return Ok(if exists {
                StatusChange::Conflict
            } else {
                StatusChange::NoSuchAssociation
            });
        }
        self.emit_node_status_event(&tx, node)?;
        write_node(&tx, node)?;
        tx.commit()?;
        Ok(StatusChange::Written)
    }
}
