//! Rate-limit and dedupe marks of SNS subscriptions on PostgreSQL: each method is one
//! `INSERT … ON CONFLICT … DO UPDATE … WHERE` whose row count answers. Under READ COMMITTED a
//! conflicting upsert locks the row and evaluates its `WHERE` on the newest version, so
//! concurrent takers never exceed a limit and one of two holders wins a key.

use bosun_store::{key_mark, slot_mark, DeliveryLimitStore, Result};

use crate::PgStore;

impl DeliveryLimitStore for PgStore {
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
        let mark = slot_mark(window_start_ms);
        let limit = i64::from(limit);
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "INSERT INTO sns_delivery_marks \
                         (region, subscription_id, mark, holder, count, expires_ms) \
                     VALUES ($1, $2, $3, '', 1, $5) \
                     ON CONFLICT (region, subscription_id, mark) DO UPDATE \
                         SET count = sns_delivery_marks.count + 1 \
                         WHERE sns_delivery_marks.count < $4",
                    &[&region, &subscription_id, &mark, &limit, &expires_ms],
                )
                .await?;
            Ok(n == 1)
        })?)
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
        let mark = key_mark(key);
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "INSERT INTO sns_delivery_marks \
                         (region, subscription_id, mark, holder, count, expires_ms) \
                     VALUES ($1, $2, $3, $4, 1, $6) \
                     ON CONFLICT (region, subscription_id, mark) DO UPDATE \
                         SET holder = excluded.holder, expires_ms = excluded.expires_ms \
                         WHERE sns_delivery_marks.expires_ms <= $5 \
                            OR sns_delivery_marks.holder = excluded.holder",
                    &[
                        &region,
                        &subscription_id,
                        &mark,
                        &holder,
                        &now_ms,
                        &expires_ms,
                    ],
                )
                .await?;
            Ok(n == 1)
        })?)
    }

    fn prune_delivery_marks(&self, now_ms: i64) -> Result<usize> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "DELETE FROM sns_delivery_marks WHERE expires_ms <= $1",
                    &[&now_ms],
                )
                .await?;
            Ok(n as usize)
        })?)
    }
}
