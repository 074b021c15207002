//! The event outbox on SQLite. One writer connection serialises every transaction, so `seq`
//! order is commit order and a reader sees a gap-free prefix; `AUTOINCREMENT` keeps a pruned
//! `seq` from being reused.

use bosun_core::events::envelope::Event;
use rusqlite::{params, Connection, OptionalExtension};

use super::SqliteStore;
use crate::event_outbox::{EventOutboxStore, OutboxEvent};
use crate::{CallRecords, Result};

/// Append `events` inside the caller's transaction (the change they report).
pub(super) fn append(conn: &Connection, events: &[Event], now_ms: i64) -> rusqlite::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO event_outbox (region, event_id, detail_type, envelope, created_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in events {
        stmt.execute(params![
            e.region,
            e.id,
            e.detail_type,
            e.envelope.to_string(),
            now_ms
        ])?;
    }
    Ok(())
}

/// An outbox row read as `seq, region, event_id, detail_type, envelope, created_ms`.
fn event_from_row(r: &rusqlite::Row) -> rusqlite::Result<OutboxEvent> {
    Ok(OutboxEvent {
        seq: r.get(0)?,
        region: r.get(1)?,
        event_id: r.get(2)?,
        detail_type: r.get(3)?,
        envelope: r.get(4)?,
        created_ms: r.get(5)?,
    })
}

impl EventOutboxStore for SqliteStore {
    fn set_event_account(&self, account_id: &str) {
        self.event_account.set(account_id);
    }

    fn event_account(&self) -> String {
        self.event_account.get()
    }

    fn append_events(&self, events: &[Event], now_ms: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        append(&tx, events, now_ms)?;
        tx.commit()?;
        Ok(())
    }

    fn append_events_recorded(
        &self,
        events: &[Event],
        now_ms: i64,
        records: CallRecords<'_>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        super::idempotency::write_call_records(&tx, &records)?;
        append(&tx, events, now_ms)?;
        tx.commit()?;
        Ok(())
    }

    fn events_after(&self, after_seq: i64, limit: usize) -> Result<Vec<OutboxEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, region, event_id, detail_type, envelope, created_ms FROM event_outbox \
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_seq, limit as i64], event_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn region_events_before(
        &self,
        region: &str,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, region, event_id, detail_type, envelope, created_ms FROM event_outbox \
             WHERE region = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        )?;
        let before = before_seq.unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![region, before, limit as i64], event_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn event_cursor(&self, consumer: &str) -> Result<i64> {
        Ok(self
            .conn()
            .query_row(
                "SELECT last_seq FROM event_cursors WHERE consumer = ?1",
                [consumer],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    fn advance_event_cursor(
        &self,
        consumer: &str,
        from_seq: i64,
        to_seq: i64,
        now_ms: i64,
    ) -> Result<bool> {
        Ok(move_cursor(
            &self.conn(),
            consumer,
            from_seq,
            to_seq,
            now_ms,
        )?)
    }

    fn prune_events_before(&self, before_ms: i64) -> Result<u64> {
        Ok(self.conn().execute(
            "DELETE FROM event_outbox WHERE created_ms < ?1",
            [before_ms],
        )? as u64)
    }
}

/// Move `consumer`'s cursor from `from_seq` to `to_seq` if it is still there (see
/// `EventOutboxStore::advance_event_cursor`); also used inside other areas' transactions.
pub(super) fn move_cursor(
    conn: &Connection,
    consumer: &str,
    from_seq: i64,
    to_seq: i64,
    now_ms: i64,
) -> rusqlite::Result<bool> {
    let written = if from_seq == 0 {
        conn.execute(
            "INSERT INTO event_cursors (consumer, last_seq, updated_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT (consumer) DO UPDATE SET last_seq = excluded.last_seq, \
             updated_ms = excluded.updated_ms WHERE event_cursors.last_seq = 0",
            params![consumer, to_seq, now_ms],
        )?
    } else {
        conn.execute(
            "UPDATE event_cursors SET last_seq = ?3, updated_ms = ?4 \
             WHERE consumer = ?1 AND last_seq = ?2",
            params![consumer, from_seq, to_seq, now_ms],
        )?
    };
    Ok(written > 0)
}
