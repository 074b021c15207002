//! The event outbox on PostgreSQL ([`bosun_store::EventOutboxStore`]).
//!
//! **Commit order = `seq` order.** A `BIGSERIAL` alone is drawn at insert time, so two
//! transactions can commit out of `seq` order, and a reader that read seq 6 and moved its
//! cursor would never see seq 5 committed just after. So every transaction that writes events
//! takes one transaction-scoped advisory lock ([`OUTBOX_LOCK`]) just before drawing its
//! `seq`s, as its **last** statement, and holds it until its commit is visible: the next
//! writer draws its `seq`s only after that. A reader's snapshot then always holds a gap-free
//! prefix of the committed events (gaps left by rolled-back transactions are never filled), and
//! `events_after` is a plain `seq > cursor` read. The cost is that event-writing transactions
//! commit one at a time (the lock is held for the inserts and the commit only); taking it last
//! means a holder never waits for another lock, so it adds no deadlock.

use bosun_core::events::envelope::Event;
use bosun_store::{CallRecords, EventOutboxStore, OutboxEvent, Result};
use tokio_postgres::Row;

use crate::{PgError, PgStore, Transaction};

/// The advisory lock that orders event writers ("bosunevt").
pub(crate) const OUTBOX_LOCK: i64 = 0x626f_7375_6e65_7674;

/// Append `events` inside `tx`: the transaction's last statements (see the module doc).
pub(crate) async fn append(
    tx: &Transaction<'_>,
    events: &[Event],
    now_ms: i64,
) -> std::result::Result<(), PgError> {
    if events.is_empty() {
        return Ok(());
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&OUTBOX_LOCK])
        .await?;
    let text = |f: fn(&Event) -> String| events.iter().map(f).collect::<Vec<String>>();
    let statement = tx
        .prepare_cached(
            "INSERT INTO event_outbox (region, event_id, detail_type, envelope, created_ms) \
             SELECT region, event_id, detail_type, envelope, $5 FROM UNNEST($1::text[], \
             $2::text[], $3::text[], $4::text[]) WITH ORDINALITY \
             AS e(region, event_id, detail_type, envelope, n) ORDER BY n",
        )
        .await?;
    tx.execute(
        &statement,
        &[
            &text(|e| e.region.clone()),
            &text(|e| e.id.clone()),
            &text(|e| e.detail_type.clone()),
            &text(|e| e.envelope.to_string()),
            &now_ms,
        ],
    )
    .await?;
    Ok(())
}

fn event_from_row(r: &Row) -> std::result::Result<OutboxEvent, tokio_postgres::Error> {
    Ok(OutboxEvent {
        seq: r.try_get(0)?,
        region: r.try_get(1)?,
        event_id: r.try_get(2)?,
        detail_type: r.try_get(3)?,
        envelope: r.try_get(4)?,
        created_ms: r.try_get(5)?,
    })
}

impl EventOutboxStore for PgStore {
    fn set_event_account(&self, account_id: &str) {
        self.event_account.set(account_id);
    }

    fn event_account(&self) -> String {
        self.event_account.get()
    }

    fn append_events(&self, events: &[Event], now_ms: i64) -> Result<()> {
        Ok(self.transaction(async |tx| append(tx, events, now_ms).await)?)
    }

    fn append_events_recorded(
        &self,
        events: &[Event],
        now_ms: i64,
        records: CallRecords<'_>,
    ) -> Result<()> {
        Ok(self.transaction(async |tx| {
            // The audit record holds the chain's head until the commit; the events come last
            // (their lock is always a transaction's last).
            super::calls::write_call_records(tx, &records).await?;
            append(tx, events, now_ms).await
        })?)
    }

    fn events_after(&self, after_seq: i64, limit: usize) -> Result<Vec<OutboxEvent>> {
        Ok(self.with_client(async |client| {
            let statement = client
                .prepare_cached(
                    "SELECT seq, region, event_id, detail_type, envelope, created_ms \
                     FROM event_outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .await?;
            let rows = client
                .query(&statement, &[&after_seq, &(limit as i64)])
                .await?;
            Ok(rows
                .iter()
                .map(event_from_row)
                .collect::<std::result::Result<Vec<_>, _>>()?)
        })?)
    }

    fn region_events_before(
        &self,
        region: &str,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>> {
        let before = before_seq.unwrap_or(i64::MAX);
        Ok(self.with_client(async |client| {
            let statement = client
                .prepare_cached(
                    "SELECT seq, region, event_id, detail_type, envelope, created_ms \
                     FROM event_outbox WHERE region = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                )
                .await?;
            let rows = client
                .query(&statement, &[&region, &before, &(limit as i64)])
                .await?;
            Ok(rows
                .iter()
                .map(event_from_row)
                .collect::<std::result::Result<Vec<_>, _>>()?)
        })?)
    }

    fn event_cursor(&self, consumer: &str) -> Result<i64> {
        Ok(self.with_client(async |client| {
            let row = client
                .query_opt(
                    "SELECT last_seq FROM event_cursors WHERE consumer = $1",
                    &[&consumer],
                )
                .await?;
            Ok(match row {
                Some(r) => r.try_get(0)?,
                None => 0,
            })
        })?)
    }

    fn advance_event_cursor(
        &self,
        consumer: &str,
        from_seq: i64,
        to_seq: i64,
        now_ms: i64,
    ) -> Result<bool> {
        Ok(self.transaction(async |tx| move_cursor(tx, consumer, from_seq, to_seq, now_ms).await)?)
    }

    fn prune_events_before(&self, before_ms: i64) -> Result<u64> {
        Ok(self.with_client(async |client| {
            Ok(client
                .execute(
                    "DELETE FROM event_outbox WHERE created_ms < $1",
                    &[&before_ms],
                )
                .await?)
        })?)
    }
}

/// Move `consumer`'s cursor from `from_seq` to `to_seq` if it is still there (see
/// `EventOutboxStore::advance_event_cursor`); also used inside other areas' transactions.
pub(super) async fn move_cursor(
    client: &impl deadpool_postgres::GenericClient,
    consumer: &str,
    from_seq: i64,
    to_seq: i64,
    now_ms: i64,
) -> std::result::Result<bool, PgError> {
    let written = if from_seq == 0 {
        client
            .execute(
                "INSERT INTO event_cursors (consumer, last_seq, updated_ms) \
                 VALUES ($1, $2, $3) ON CONFLICT (consumer) DO UPDATE SET \
                 last_seq = EXCLUDED.last_seq, updated_ms = EXCLUDED.updated_ms \
                 WHERE event_cursors.last_seq = 0",
                &[&consumer, &to_seq, &now_ms],
            )
            .await?
    } else {
        client
            .execute(
                "UPDATE event_cursors SET last_seq = $3, updated_ms = $4 \
                 WHERE consumer = $1 AND last_seq = $2",
                &[&consumer, &from_seq, &to_seq, &now_ms],
            )
            .await?
    };
    Ok(written > 0)
}
