//! Announced node ping statuses on SQLite: the one writer makes each announcement's read,
//! compare and write one step (after a reader has ruled out the common no-change case).

use bosun_core::events::envelope::Event;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::SqliteStore;
use crate::node_ping::{NodePingStore, ReportedPing};
use crate::Result;

impl NodePingStore for SqliteStore {
    fn reported_pings(&self) -> Result<Vec<ReportedPing>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT region, instance_id, reported_ping_status, last_ping_ms, deregistered \
                 FROM instances WHERE reported_ping_status <> 'Inactive' ORDER BY instance_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ReportedPing {
                    region: r.get(0)?,
                    instance_id: r.get(1)?,
                    reported: r.get(2)?,
                    last_ping_ms: r.get(3)?,
                    deregistered: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn report_ping(
        &self,
        instance_id: &str,
        expected: Option<&str>,
        status: &str,
        now_ms: i64,
        event: &dyn Fn(&str) -> Event,
    ) -> Result<bool> {
        // Most calls change nothing (an agent reconnecting while announced Online): answer
        // those from a reader, without queueing behind the one writer.
        let current: Option<String> = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT reported_ping_status FROM instances WHERE instance_id = ?1",
                    [instance_id],
                    |r| r.get(0),
                )
                .optional()?)
        })?;
        match current {
            None => return Ok(false),
            Some(c) if c == status || expected.is_some_and(|e| e != c) => return Ok(false),
            Some(_) => {}
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let previous: Option<String> = tx
            .query_row(
                "SELECT reported_ping_status FROM instances WHERE instance_id = ?1",
                [instance_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(previous) = previous else {
            return Ok(false);
        };
        if previous == status || expected.is_some_and(|e| e != previous) {
            return Ok(false);
        }
        tx.execute(
            "UPDATE instances SET reported_ping_status = ?2 WHERE instance_id = ?1",
            params![instance_id, status],
        )?;
        if !previous.is_empty() {
            super::event_outbox::append(&tx, &[event(&previous)], now_ms)?;
        }
        tx.commit()?;
        Ok(true)
    }
}
