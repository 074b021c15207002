//! SNS-compatible topics on PostgreSQL ([`bosun_store::TopicStore`]).
//!
//! Rules for READ COMMITTED: a topic creation inserts with `ON CONFLICT DO NOTHING` (one of two
//! racing creations wins); a subscription and a publish lock the topic's row `FOR SHARE`, so a
//! concurrent deletion either waits for them or they see the topic gone; a publish's
//! `INSERT … SELECT` reads the confirmed subscriptions once. Deliveries are claimed with
//! `FOR UPDATE SKIP LOCKED`, so concurrent replicas never block on or take the same row, and a
//! sender only finishes or retries a row whose lease it still holds.

use bosun_store::{
    DeliveryRecord, PublishedMessage, Result, RuleTargetFailure, StoreError, SubscriptionRecord,
    TopicAttribute, TopicRecord, TopicStore, NOTIFICATION, TOPIC_TAG_TYPE,
};
use tokio_postgres::Row;

use super::tags::{delete_tags, put_tags};
use crate::{PgError, PgStore, Transaction};

const TOPIC_COLS: &str = "region, name, display_name, policy, delivery_policy, created_ms";
const SUB_COLS: &str = "region, subscription_id, topic_name, protocol, endpoint, confirmed, \
                        token, raw_message_delivery, base_url, created_ms, delivery_template";
const DELIVERY_COLS: &str = "delivery_id, region, subscription_id, topic_name, kind, message_id, \
     subject, message, message_attributes, created_ms, attempts, next_attempt_ms, failed, last_error";

fn topic_from(r: &Row) -> TopicRecord {
    TopicRecord {
        region: r.get(0),
        name: r.get(1),
        display_name: r.get(2),
        policy: r.get(3),
        delivery_policy: r.get(4),
        created_ms: r.get(5),
    }
}

fn sub_from(r: &Row) -> SubscriptionRecord {
    SubscriptionRecord {
        region: r.get(0),
        subscription_id: r.get(1),
        topic_name: r.get(2),
        protocol: r.get(3),
        endpoint: r.get(4),
        confirmed: r.get(5),
        token: r.get(6),
        raw_message_delivery: r.get(7),
        base_url: r.get(8),
        created_ms: r.get(9),
        delivery_template: r.get(10),
    }
}

/// Claimed rows in the queue's order (`UPDATE … RETURNING` gives them in no order).
fn oldest_first(mut claimed: Vec<DeliveryRecord>) -> Vec<DeliveryRecord> {
    claimed.sort_by(|a, b| {
        (a.created_ms, a.delivery_id.as_bytes()).cmp(&(b.created_ms, b.delivery_id.as_bytes()))
    });
    claimed
}

fn delivery_from(r: &Row) -> DeliveryRecord {
    DeliveryRecord {
        delivery_id: r.get(0),
        region: r.get(1),
        subscription_id: r.get(2),
        topic_name: r.get(3),
        kind: r.get(4),
        message_id: r.get(5),
        subject: r.get(6),
        message: r.get(7),
        message_attributes: r.get(8),
        created_ms: r.get(9),
        attempts: r.get(10),
        next_attempt_ms: r.get(11),
        failed: r.get(12),
        last_error: r.get(13),
    }
}

/// Write one delivery per confirmed subscription of `m`'s topic; `None` when it has no topic.
pub(super) async fn publish_in(
    tx: &Transaction<'_>,
    m: &PublishedMessage,
) -> std::result::Result<Option<usize>, PgError> {
    if !share_topic(tx, &m.region, &m.topic_name).await? {
        return Ok(None);
    }
    let n = tx
        .execute(
            &format!(
                "INSERT INTO sns_deliveries ({DELIVERY_COLS}, lease_owner, lease_until_ms) \
                 SELECT $3 || ':' || subscription_id, region, subscription_id, topic_name, \
                 $4, $3, $5, $6, $7, $8, 0, $8, FALSE, '', NULL, 0 FROM sns_subscriptions \
                 WHERE region = $1 AND topic_name = $2 AND confirmed"
            ),
            &[
                &m.region,
                &m.topic_name,
                &m.message_id,
                &NOTIFICATION,
                &m.subject,
                &m.message,
                &m.message_attributes,
                &m.published_ms,
            ],
        )
        .await?;
    Ok(Some(n as usize))
}

/// Lock the topic's row against deletion until the transaction ends; `false` when it is gone.
async fn share_topic(
    tx: &Transaction<'_>,
    region: &str,
    name: &str,
) -> std::result::Result<bool, PgError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM sns_topics WHERE region = $1 AND name = $2 FOR SHARE",
            &[&region, &name],
        )
        .await?
        .is_some())
}

async fn insert_delivery(
    tx: &Transaction<'_>,
    d: &DeliveryRecord,
) -> std::result::Result<(), PgError> {
    tx.execute(
        &format!(
            "INSERT INTO sns_deliveries ({DELIVERY_COLS}, lease_owner, lease_until_ms) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,NULL,0)"
        ),
        &[
            &d.delivery_id,
            &d.region,
            &d.subscription_id,
            &d.topic_name,
            &d.kind,
            &d.message_id,
            &d.subject,
            &d.message,
            &d.message_attributes,
            &d.created_ms,
            &d.attempts,
            &d.next_attempt_ms,
            &d.failed,
            &d.last_error,
        ],
    )
    .await?;
    Ok(())
}

impl TopicStore for PgStore {
    fn create_topic(&self, t: &TopicRecord, tags: &[(String, String)]) -> Result<()> {
        Ok(self.transaction(async |tx| {
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO sns_topics ({TOPIC_COLS}) VALUES ($1,$2,$3,$4,$5,$6) \
                         ON CONFLICT (region, name) DO NOTHING"
                    ),
                    &[
                        &t.region,
                        &t.name,
                        &t.display_name,
                        &t.policy,
                        &t.delivery_policy,
                        &t.created_ms,
                    ],
                )
                .await?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!("topic {}", t.name)).into());
            }
            put_tags(tx, &t.region, TOPIC_TAG_TYPE, &t.name, tags).await?;
            Ok(())
        })?)
    }

    fn get_topic(&self, region: &str, name: &str) -> Result<Option<TopicRecord>> {
        Ok(self.with_client(async |c| {
            let row = c
                .query_opt(
                    &format!("SELECT {TOPIC_COLS} FROM sns_topics WHERE region = $1 AND name = $2"),
                    &[&region, &name],
                )
                .await?;
            Ok(row.as_ref().map(topic_from))
        })?)
    }

    fn list_topics(&self, region: &str) -> Result<Vec<TopicRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {TOPIC_COLS} FROM sns_topics WHERE region = $1 \
                         ORDER BY name COLLATE \"C\""
                    ),
                    &[&region],
                )
                .await?;
            Ok(rows.iter().map(topic_from).collect())
        })?)
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
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    &format!("UPDATE sns_topics SET {column} = $3 WHERE region = $1 AND name = $2"),
                    &[&region, &name, &value],
                )
                .await?;
            Ok(n == 1)
        })?)
    }

    fn delete_topic(&self, region: &str, name: &str) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            // Subscriptions and their deliveries go with the topic (ON DELETE CASCADE).
            let n = tx
                .execute(
                    "DELETE FROM sns_topics WHERE region = $1 AND name = $2",
                    &[&region, &name],
                )
                .await?;
            delete_tags(tx, region, TOPIC_TAG_TYPE, name).await?;
            Ok(n == 1)
        })?)
    }

    fn add_subscription(
        &self,
        s: &SubscriptionRecord,
        confirmation: Option<&DeliveryRecord>,
    ) -> Result<()> {
        Ok(self.transaction(async |tx| {
            if !share_topic(tx, &s.region, &s.topic_name).await? {
                return Err(StoreError::NotFound(format!("topic {}", s.topic_name)).into());
            }
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO sns_subscriptions ({SUB_COLS}) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) \
                     ON CONFLICT (region, topic_name, protocol, endpoint) DO NOTHING"
                    ),
                    &[
                        &s.region,
                        &s.subscription_id,
                        &s.topic_name,
                        &s.protocol,
                        &s.endpoint,
                        &s.confirmed,
                        &s.token,
                        &s.raw_message_delivery,
                        &s.base_url,
                        &s.created_ms,
                        &s.delivery_template,
                    ],
                )
                .await?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!(
                    "subscription of {} to {}",
                    s.endpoint, s.topic_name
                ))
                .into());
            }
            if let Some(d) = confirmation {
                insert_delivery(tx, d).await?;
            }
            Ok(())
        })?)
    }

    fn queue_delivery(&self, d: &DeliveryRecord) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            // Lock the subscription's row so a concurrent Unsubscribe waits for this insert.
            let exists = tx
                .query_opt(
                    "SELECT 1 FROM sns_subscriptions WHERE region = $1 AND subscription_id = $2 \
                     FOR SHARE",
                    &[&d.region, &d.subscription_id],
                )
                .await?
                .is_some();
            if exists {
                insert_delivery(tx, d).await?;
            }
            Ok(exists)
        })?)
    }

    fn get_subscription(&self, region: &str, id: &str) -> Result<Option<SubscriptionRecord>> {
        Ok(self.with_client(async |c| {
            let row = c
                .query_opt(
                    &format!(
                        "SELECT {SUB_COLS} FROM sns_subscriptions \
                         WHERE region = $1 AND subscription_id = $2"
                    ),
                    &[&region, &id],
                )
                .await?;
            Ok(row.as_ref().map(sub_from))
        })?)
    }

    fn list_subscriptions(
        &self,
        region: &str,
        topic: Option<&str>,
    ) -> Result<Vec<SubscriptionRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {SUB_COLS} FROM sns_subscriptions \
                         WHERE region = $1 AND ($2::TEXT IS NULL OR topic_name = $2) \
                         ORDER BY topic_name COLLATE \"C\", created_ms, \
                         subscription_id COLLATE \"C\""
                    ),
                    &[&region, &topic],
                )
                .await?;
            Ok(rows.iter().map(sub_from).collect())
        })?)
    }

    fn confirm_subscription(
        &self,
        region: &str,
        topic: &str,
        token: &str,
    ) -> Result<Option<SubscriptionRecord>> {
        Ok(self.with_client(async |c| {
            let row = c
                .query_opt(
                    &format!(
                        "UPDATE sns_subscriptions SET confirmed = TRUE \
                         WHERE region = $1 AND topic_name = $2 AND token = $3 \
                         RETURNING {SUB_COLS}"
                    ),
                    &[&region, &topic, &token],
                )
                .await?;
            Ok(row.as_ref().map(sub_from))
        })?)
    }

    fn set_raw_message_delivery(&self, region: &str, id: &str, raw: bool) -> Result<bool> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "UPDATE sns_subscriptions SET raw_message_delivery = $3 \
                     WHERE region = $1 AND subscription_id = $2",
                    &[&region, &id, &raw],
                )
                .await?;
            Ok(n == 1)
        })?)
    }

    fn set_delivery_template(&self, region: &str, id: &str, template: &str) -> Result<bool> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "UPDATE sns_subscriptions SET delivery_template = $3 \
                     WHERE region = $1 AND subscription_id = $2",
                    &[&region, &id, &template],
                )
                .await?;
            Ok(n == 1)
        })?)
    }

    fn delete_subscription(&self, region: &str, id: &str) -> Result<bool> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "DELETE FROM sns_subscriptions WHERE region = $1 AND subscription_id = $2",
                    &[&region, &id],
                )
                .await?;
            Ok(n == 1)
        })?)
    }

    fn publish(&self, m: &PublishedMessage) -> Result<Option<usize>> {
        Ok(self.transaction(async |tx| publish_in(tx, m).await)?)
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
        Ok(self.transaction(async |tx| {
            if !super::event_outbox::move_cursor(tx, consumer, from_seq, to_seq, now_ms).await? {
                return Ok(false);
            }
            for m in messages {
                publish_in(tx, m).await?;
            }
            for f in failures {
                super::rule_failures::insert_in(tx, f).await?;
            }
            Ok(true)
        })?)
    }

    fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>> {
        let limit = limit as i64;
        Ok(self.transaction(async |tx| {
            let rows = tx
                .query(
                    &format!(
                        "UPDATE sns_deliveries SET lease_owner = $1, lease_until_ms = $3 \
                         WHERE delivery_id IN (SELECT delivery_id FROM sns_deliveries \
                         WHERE NOT failed AND next_attempt_ms <= $2 \
                         AND (lease_owner IS NULL OR lease_until_ms < $2) \
                         ORDER BY created_ms, delivery_id COLLATE \"C\" LIMIT $4 \
                         FOR UPDATE SKIP LOCKED) \
                         AND NOT failed AND (lease_owner IS NULL OR lease_until_ms < $2) \
                         RETURNING {DELIVERY_COLS}"
                    ),
                    &[&owner, &now_ms, &until_ms, &limit],
                )
                .await?;
            Ok(oldest_first(rows.iter().map(delivery_from).collect()))
        })?)
    }

    fn postpone_delivery(
        &self,
        delivery_id: &str,
        owner: &str,
        next_attempt_ms: i64,
    ) -> Result<bool> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "UPDATE sns_deliveries SET next_attempt_ms = $3, lease_owner = NULL, \
                     lease_until_ms = 0 WHERE delivery_id = $1 AND lease_owner = $2",
                    &[&delivery_id, &owner, &next_attempt_ms],
                )
                .await?;
            Ok(n == 1)
        })?)
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
        let limit = limit as i64;
        Ok(self.transaction(async |tx| {
            let rows = tx
                .query(
                    &format!(
                        "UPDATE sns_deliveries SET lease_owner = $4, lease_until_ms = $6 \
                         WHERE delivery_id IN (SELECT delivery_id FROM sns_deliveries \
                         WHERE region = $1 AND subscription_id = $2 AND kind = $8 \
                         AND NOT failed AND created_ms <= $3 \
                         AND (lease_owner IS NULL OR lease_owner = $4 OR lease_until_ms < $5) \
                         ORDER BY created_ms, delivery_id COLLATE \"C\" LIMIT $7 \
                         FOR UPDATE SKIP LOCKED) \
                         AND NOT failed \
                         AND (lease_owner IS NULL OR lease_owner = $4 OR lease_until_ms < $5) \
                         RETURNING {DELIVERY_COLS}"
                    ),
                    &[
                        &region,
                        &subscription_id,
                        &created_to_ms,
                        &owner,
                        &now_ms,
                        &until_ms,
                        &limit,
                        &NOTIFICATION,
                    ],
                )
                .await?;
            Ok(oldest_first(rows.iter().map(delivery_from).collect()))
        })?)
    }

    fn finish_delivery(&self, delivery_id: &str, owner: &str) -> Result<bool> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "DELETE FROM sns_deliveries WHERE delivery_id = $1 AND lease_owner = $2",
                    &[&delivery_id, &owner],
                )
                .await?;
            Ok(n == 1)
        })?)
    }

    fn retry_delivery(
        &self,
        delivery_id: &str,
        owner: &str,
        next_attempt_ms: Option<i64>,
        error: &str,
    ) -> Result<bool> {
        let failed = next_attempt_ms.is_none();
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "UPDATE sns_deliveries SET attempts = attempts + 1, \
                     next_attempt_ms = COALESCE($3, next_attempt_ms), failed = $4, \
                     last_error = $5, lease_owner = NULL, lease_until_ms = 0 \
                     WHERE delivery_id = $1 AND lease_owner = $2",
                    &[&delivery_id, &owner, &next_attempt_ms, &failed, &error],
                )
                .await?;
            Ok(n == 1)
        })?)
    }

    fn redrive_deliveries(&self, region: &str, topic: Option<&str>, now_ms: i64) -> Result<usize> {
        Ok(self.with_client(async |c| {
            let n = c
                .execute(
                    "UPDATE sns_deliveries SET failed = FALSE, attempts = 0, next_attempt_ms = $3, \
                     lease_owner = NULL, lease_until_ms = 0 \
                     WHERE region = $1 AND failed AND ($2::TEXT IS NULL OR topic_name = $2)",
                    &[&region, &topic, &now_ms],
                )
                .await?;
            Ok(n as usize)
        })?)
    }

    fn list_deliveries(&self, region: &str) -> Result<Vec<DeliveryRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {DELIVERY_COLS} FROM sns_deliveries WHERE region = $1 \
                         ORDER BY created_ms, delivery_id COLLATE \"C\""
                    ),
                    &[&region],
                )
                .await?;
            Ok(rows.iter().map(delivery_from).collect())
        })?)
    }
}
