//! Announced node ping statuses on PostgreSQL ([`bosun_store::NodePingStore`]): the node's row
//! is locked (`FOR UPDATE`) before its status is compared, so of concurrent announcements of
//! one change exactly one writes it and its event.

use bosun_core::events::envelope::Event;
use bosun_store::{NodePingStore, ReportedPing, Result};

use crate::PgStore;

impl NodePingStore for PgStore {
    fn reported_pings(&self) -> Result<Vec<ReportedPing>> {
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    "SELECT region, instance_id, reported_ping_status, last_ping_ms, deregistered \
                     FROM instances WHERE reported_ping_status <> 'Inactive' \
                     ORDER BY instance_id COLLATE \"C\"",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    Ok(ReportedPing {
                        region: r.try_get(0)?,
                        instance_id: r.try_get(1)?,
                        reported: r.try_get(2)?,
                        last_ping_ms: r.try_get(3)?,
                        deregistered: r.try_get(4)?,
                    })
                })
                .collect::<std::result::Result<_, tokio_postgres::Error>>()?)
        })?)
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
        // those with a plain read, without a row lock.
        let current: Option<String> = self.with_client(async |client| {
            Ok(client
                .query_opt(
                    "SELECT reported_ping_status FROM instances WHERE instance_id = $1",
                    &[&instance_id],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?)
        })?;
        match current {
            None => return Ok(false),
            Some(c) if c == status || expected.is_some_and(|e| e != c) => return Ok(false),
            Some(_) => {}
        }
        Ok(self.transaction(async |tx| {
            let row = tx
                .query_opt(
                    "SELECT reported_ping_status FROM instances WHERE instance_id = $1 FOR UPDATE",
                    &[&instance_id],
                )
                .await?;
            let Some(row) = row else {
                return Ok(false);
            };
            let previous: String = row.try_get(0)?;
            if previous == status || expected.is_some_and(|e| e != previous) {
                return Ok(false);
            }
            tx.execute(
                "UPDATE instances SET reported_ping_status = $2 WHERE instance_id = $1",
                &[&instance_id, &status],
            )
            .await?;
            if !previous.is_empty() {
                super::event_outbox::append(tx, &[event(&previous)], now_ms).await?;
            }
            Ok(true)
        })?)
    }
}
