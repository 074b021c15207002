//! Rate-limit and dedupe marks of SNS subscriptions on SQLite: each method is one upsert
//! whose `WHERE` decides, so the one writer makes every take or claim atomic.

use rusqlite::params;

use super::SqliteStore;
use crate::delivery_limits::{key_mark, slot_mark, DeliveryLimitStore};
use crate::Result;

impl DeliveryLimitStore for SqliteStore {
    fn take_delivery_slot(
        &self,
        region: &str,
        subscription_id: &str,
        window_start_ms: i64,
        limit: u32,
        expires_ms: i64,
    ) -> Result<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let n = self.conn().execute(
            "INSERT INTO sns_delivery_marks \
                 (region, subscription_id, mark, holder, count, expires_ms) \
             VALUES (?1, ?2, ?3, '', 1, ?5) \
             ON CONFLICT (region, subscription_id, mark) DO UPDATE \
                 SET count = sns_delivery_marks.count + 1 \
                 WHERE sns_delivery_marks.count < ?4",
            params![
                region,
                subscription_id,
                slot_mark(window_start_ms),
                i64::from(limit),
                expires_ms
            ],
        )?;
        Ok(n == 1)
    }

    fn claim_delivery_key(
        &self,
        region: &str,
        subscription_id: &str,
        key: &str,
        holder: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT INTO sns_delivery_marks \
                 (region, subscription_id, mark, holder, count, expires_ms) \
             VALUES (?1, ?2, ?3, ?4, 1, ?6) \
             ON CONFLICT (region, subscription_id, mark) DO UPDATE \
                 SET holder = excluded.holder, expires_ms = excluded.expires_ms \
                 WHERE sns_delivery_marks.expires_ms <= ?5 \
                    OR sns_delivery_marks.holder = excluded.holder",
            params![
                region,
                subscription_id,
                key_mark(key),
                holder,
                now_ms,
                expires_ms
            ],
        )?;
        Ok(n == 1)
    }

    fn prune_delivery_marks(&self, now_ms: i64) -> Result<usize> {
        Ok(self.conn().execute(
            "DELETE FROM sns_delivery_marks WHERE expires_ms <= ?1",
            params![now_ms],
        )?)
    }
}
