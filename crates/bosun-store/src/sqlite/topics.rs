//! SNS-compatible topics on SQLite (the one writer connection serialises every change, so a
//! claim's read-then-lease is atomic).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::tags::put_tags;
use super::SqliteStore;
use crate::topics::{
    DeliveryRecord, PublishedMessage, SubscriptionRecord, TopicAttribute, TopicRecord, TopicStore,
    NOTIFICATION, TOPIC_TAG_TYPE,
};
use crate::{Result, RuleTargetFailure, StoreError};

const TOPIC_COLS: &str = "region, name, display_name, policy, delivery_policy, created_ms";
const SUB_COLS: &str = "region, subscription_id, topic_name, protocol, endpoint, confirmed, \
                        token, raw_message_delivery, base_url, created_ms, delivery_template";
const DELIVERY_COLS: &str = "delivery_id, region, subscription_id, topic_name, kind, message_id, \
     subject, message, message_attributes, created_ms, attempts, next_attempt_ms, failed, last_error";

fn topic_from(r: &Row<'_>) -> rusqlite::Result<TopicRecord> {
    Ok(TopicRecord {
        region: r.get(0)?,
        name: r.get(1)?,
        display_name: r.get(2)?,
        policy: r.get(3)?,
        delivery_policy: r.get(4)?,
        created_ms: r.get(5)?,
    })
}

fn sub_from(r: &Row<'_>) -> rusqlite::Result<SubscriptionRecord> {
    Ok(SubscriptionRecord {
        region: r.get(0)?,
        subscription_id: r.get(1)?,
        topic_name: r.get(2)?,
        protocol: r.get(3)?,
        endpoint: r.get(4)?,
        confirmed: r.get(5)?,
        token: r.get(6)?,
        raw_message_delivery: r.get(7)?,
        base_url: r.get(8)?,
        created_ms: r.get(9)?,
        delivery_template: r.get(10)?,
    })
}

fn delivery_from(r: &Row<'_>) -> rusqlite::Result<DeliveryRecord> {
    Ok(DeliveryRecord {
        delivery_id: r.get(0)?,
        region: r.get(1)?,
        subscription_id: r.get(2)?,
        topic_name: r.get(3)?,
        kind: r.get(4)?,
        message_id: r.get(5)?,
        subject: r.get(6)?,
        message: r.get(7)?,
        message_attributes: r.get(8)?,
        created_ms: r.get(9)?,
        attempts: r.get(10)?,
        next_attempt_ms: r.get(11)?,
        failed: r.get(12)?,
        last_error: r.get(13)?,
    })
}

fn topic_exists(conn: &Connection, region: &str, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sns_topics WHERE region = ?1 AND name = ?2",
        params![region, name],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
}

/// Write one delivery per confirmed subscription of `m`'s topic; `None` when it has no topic.
pub(super) fn publish_in(
    conn: &Connection,
    m: &PublishedMessage,
) -> rusqlite::Result<Option<usize>> {
    if !topic_exists(conn, &m.region, &m.topic_name)? {
        return Ok(None);
    }
    let n = conn.execute(
        &format!(
            "INSERT INTO sns_deliveries ({DELIVERY_COLS}, lease_owner, lease_until_ms) \
             SELECT ?3 || ':' || subscription_id, region, subscription_id, topic_name, ?4, ?3, \
             ?5, ?6, ?7, ?8, 0, ?8, 0, '', NULL, 0 FROM sns_subscriptions \
             WHERE region = ?1 AND topic_name = ?2 AND confirmed = 1"
        ),
        params![
            m.region,
            m.topic_name,
            m.message_id,
            NOTIFICATION,
            m.subject,
            m.message,
            m.message_attributes,
            m.published_ms
        ],
    )?;
    Ok(Some(n))
}

fn insert_delivery(conn: &Connection, d: &DeliveryRecord) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO sns_deliveries ({DELIVERY_COLS}, lease_owner, lease_until_ms) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,NULL,0)"
        ),
        params![
            d.delivery_id,
            d.region,
            d.subscription_id,
            d.topic_name,
            d.kind,
            d.message_id,
            d.subject,
            d.message,
            d.message_attributes,
            d.created_ms,
            d.attempts,
            d.next_attempt_ms,
            d.failed,
            d.last_error
        ],
    )?;
    Ok(())
}

impl TopicStore for SqliteStore {
    fn create_topic(&self, t: &TopicRecord, tags: &[(String, String)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if topic_exists(&tx, &t.region, &t.name)? {
            return Err(StoreError::AlreadyExists(format!("topic {}", t.name)));
        }
        tx.execute(
            &format!("INSERT INTO sns_topics ({TOPIC_COLS}) VALUES (?1,?2,?3,?4,?5,?6)"),
            params![
                t.region,
                t.name,
                t.display_name,
                t.policy,
                t.delivery_policy,
                t.created_ms
            ],
        )?;
        put_tags(&tx, &t.region, TOPIC_TAG_TYPE, &t.name, tags)?;
        tx.commit()?;
        Ok(())
    }

    fn get_topic(&self, region: &str, name: &str) -> Result<Option<TopicRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {TOPIC_COLS} FROM sns_topics WHERE region = ?1 AND name = ?2"),
                    params![region, name],
                    topic_from,
                )
                .optional()?)
        })
    }

    fn list_topics(&self, region: &str) -> Result<Vec<TopicRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TOPIC_COLS} FROM sns_topics WHERE region = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map(params![region], topic_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn set_topic_attribute(
        &self,
        region: &str,
        name: &str,
        attribute: TopicAttribute,
        value: &str,
    ) -> Result<bool> {
        let column = match attribute {
            TopicAttribute::DisplayName => "display_name",
            TopicAttribute::Policy => "policy",
            TopicAttribute::DeliveryPolicy => "delivery_policy",
        };
        let n = self.conn().execute(
            &format!("UPDATE sns_topics SET {column} = ?3 WHERE region = ?1 AND name = ?2"),
            params![region, name, value],
        )?;
        Ok(n == 1)
    }

    fn delete_topic(&self, region: &str, name: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // Subscriptions and their deliveries go with the topic (ON DELETE CASCADE).
        let n = tx.execute(
            "DELETE FROM sns_topics WHERE region = ?1 AND name = ?2",
            params![region, name],
        )?;
        tx.execute(
            "DELETE FROM tags WHERE region = ?1 AND resource_type = ?2 AND resource_id = ?3",
            params![region, TOPIC_TAG_TYPE, name],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    fn add_subscription(
        &self,
        s: &SubscriptionRecord,
        confirmation: Option<&DeliveryRecord>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if !topic_exists(&tx, &s.region, &s.topic_name)? {
            return Err(StoreError::NotFound(format!("topic {}", s.topic_name)));
        }
        let taken = tx
            .query_row(
                "SELECT 1 FROM sns_subscriptions WHERE region = ?1 AND topic_name = ?2 \
                 AND protocol = ?3 AND endpoint = ?4",
                params![s.region, s.topic_name, s.protocol, s.endpoint],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if taken {
            return Err(StoreError::AlreadyExists(format!(
                "subscription of {} to {}",
                s.endpoint, s.topic_name
            )));
        }
        tx.execute(
            &format!("INSERT INTO sns_subscriptions ({SUB_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"),
            params![
                s.region,
                s.subscription_id,
                s.topic_name,
                s.protocol,
                s.endpoint,
                s.confirmed,
                s.token,
                s.raw_message_delivery,
                s.base_url,
                s.created_ms,
                s.delivery_template
            ],
        )?;
        if let Some(d) = confirmation {
            insert_delivery(&tx, d)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn queue_delivery(&self, d: &DeliveryRecord) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM sns_subscriptions WHERE region = ?1 AND subscription_id = ?2",
                params![d.region, d.subscription_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if exists {
            insert_delivery(&tx, d)?;
        }
        tx.commit()?;
        Ok(exists)
    }

    fn get_subscription(&self, region: &str, id: &str) -> Result<Option<SubscriptionRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {SUB_COLS} FROM sns_subscriptions \
                         WHERE region = ?1 AND subscription_id = ?2"
                    ),
                    params![region, id],
                    sub_from,
                )
                .optional()?)
        })
    }

    fn list_subscriptions(
        &self,
        region: &str,
        topic: Option<&str>,
    ) -> Result<Vec<SubscriptionRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SUB_COLS} FROM sns_subscriptions \
                 WHERE region = ?1 AND (?2 IS NULL OR topic_name = ?2) \
                 ORDER BY topic_name, created_ms, subscription_id"
            ))?;
            let rows = stmt.query_map(params![region, topic], sub_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn confirm_subscription(
        &self,
        region: &str,
        topic: &str,
        token: &str,
    ) -> Result<Option<SubscriptionRecord>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE sns_subscriptions SET confirmed = 1 \
             WHERE region = ?1 AND topic_name = ?2 AND token = ?3",
            params![region, topic, token],
        )?;
        let sub = tx
            .query_row(
                &format!(
                    "SELECT {SUB_COLS} FROM sns_subscriptions \
                     WHERE region = ?1 AND topic_name = ?2 AND token = ?3"
                ),
                params![region, topic, token],
                sub_from,
            )
            .optional()?;
        tx.commit()?;
        Ok(sub)
    }

    fn set_raw_message_delivery(&self, region: &str, id: &str, raw: bool) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE sns_subscriptions SET raw_message_delivery = ?3 \
             WHERE region = ?1 AND subscription_id = ?2",
            params![region, id, raw],
        )?;
        Ok(n == 1)
    }

    fn set_delivery_template(&self, region: &str, id: &str, template: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE sns_subscriptions SET delivery_template = ?3 \
             WHERE region = ?1 AND subscription_id = ?2",
            params![region, id, template],
        )?;
        Ok(n == 1)
    }

    fn delete_subscription(&self, region: &str, id: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM sns_subscriptions WHERE region = ?1 AND subscription_id = ?2",
            params![region, id],
        )?;
        Ok(n == 1)
    }

    fn publish(&self, m: &PublishedMessage) -> Result<Option<usize>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = publish_in(&tx, m)?;
        tx.commit()?;
        Ok(n)
    }

    fn publish_from_events(
        &self,
        consumer: &str,
        from_seq: i64,
        to_seq: i64,
        now_ms: i64,
        messages: &[PublishedMessage],
        failures: &[RuleTargetFailure],
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if !super::event_outbox::move_cursor(&tx, consumer, from_seq, to_seq, now_ms)? {
            return Ok(false);
        }
        for m in messages {
            publish_in(&tx, m)?;
        }
        for f in failures {
            super::rule_failures::insert_in(&tx, f)?;
        }
        tx.commit()?;
        Ok(true)
    }

    fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let claimed = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {DELIVERY_COLS} FROM sns_deliveries WHERE failed = 0 \
                 AND next_attempt_ms <= ?1 AND (lease_owner IS NULL OR lease_until_ms < ?1) \
                 ORDER BY created_ms, delivery_id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![now_ms, limit as i64], delivery_from)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        for d in &claimed {
            tx.execute(
                "UPDATE sns_deliveries SET lease_owner = ?2, lease_until_ms = ?3 \
                 WHERE delivery_id = ?1",
                params![d.delivery_id, owner, until_ms],
            )?;
        }
        tx.commit()?;
        Ok(claimed)
    }

    fn postpone_delivery(
        &self,
        delivery_id: &str,
        owner: &str,
        next_attempt_ms: i64,
    ) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE sns_deliveries SET next_attempt_ms = ?3, lease_owner = NULL, \
             lease_until_ms = 0 WHERE delivery_id = ?1 AND lease_owner = ?2",
            params![delivery_id, owner, next_attempt_ms],
        )?;
        Ok(n == 1)
    }

    fn claim_subscription_deliveries(
        &self,
        region: &str,
        subscription_id: &str,
        created_to_ms: i64,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let claimed = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {DELIVERY_COLS} FROM sns_deliveries WHERE region = ?1 \
                 AND subscription_id = ?2 AND kind = ?7 AND failed = 0 AND created_ms <= ?3 \
                 AND (lease_owner IS NULL OR lease_owner = ?4 OR lease_until_ms < ?5) \
                 ORDER BY created_ms, delivery_id LIMIT ?6"
            ))?;
            let rows = stmt.query_map(
                params![
                    region,
                    subscription_id,
                    created_to_ms,
                    owner,
                    now_ms,
                    limit as i64,
                    NOTIFICATION
                ],
                delivery_from,
            )?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        for d in &claimed {
            tx.execute(
                "UPDATE sns_deliveries SET lease_owner = ?2, lease_until_ms = ?3 \
                 WHERE delivery_id = ?1",
                params![d.delivery_id, owner, until_ms],
            )?;
        }
        tx.commit()?;
        Ok(claimed)
    }

    fn finish_delivery(&self, delivery_id: &str, owner: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM sns_deliveries WHERE delivery_id = ?1 AND lease_owner = ?2",
            params![delivery_id, owner],
        )?;
        Ok(n == 1)
    }

    fn retry_delivery(
        &self,
        delivery_id: &str,
        owner: &str,
        next_attempt_ms: Option<i64>,
        error: &str,
    ) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE sns_deliveries SET attempts = attempts + 1, \
             next_attempt_ms = COALESCE(?3, next_attempt_ms), failed = ?4, last_error = ?5, \
             lease_owner = NULL, lease_until_ms = 0 \
             WHERE delivery_id = ?1 AND lease_owner = ?2",
            params![
                delivery_id,
                owner,
                next_attempt_ms,
                next_attempt_ms.is_none(),
                error
            ],
        )?;
        Ok(n == 1)
    }

    fn redrive_deliveries(&self, region: &str, topic: Option<&str>, now_ms: i64) -> Result<usize> {
        let n = self.conn().execute(
            "UPDATE sns_deliveries SET failed = 0, attempts = 0, next_attempt_ms = ?3, \
             lease_owner = NULL, lease_until_ms = 0 \
             WHERE region = ?1 AND failed = 1 AND (?2 IS NULL OR topic_name = ?2)",
            params![region, topic, now_ms],
        )?;
        Ok(n)
    }

    fn list_deliveries(&self, region: &str) -> Result<Vec<DeliveryRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {DELIVERY_COLS} FROM sns_deliveries WHERE region = ?1 \
                 ORDER BY created_ms, delivery_id"
            ))?;
            let rows = stmt.query_map(params![region], delivery_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
