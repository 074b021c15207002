-- SNS-compatible topics: topics, subscriptions, and the delivery queue leased by the delivery
-- task (SQLite migration 17).
CREATE TABLE sns_topics (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    policy TEXT NOT NULL,
    delivery_policy TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE sns_subscriptions (
    region TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    topic_name TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    confirmed BOOLEAN NOT NULL,
    token TEXT NOT NULL,
    raw_message_delivery BOOLEAN NOT NULL,
    base_url TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (region, subscription_id),
    UNIQUE (region, topic_name, protocol, endpoint),
    FOREIGN KEY (region, topic_name) REFERENCES sns_topics(region, name) ON DELETE CASCADE
);
CREATE INDEX sns_subscriptions_by_topic ON sns_subscriptions (region, topic_name);
CREATE TABLE sns_deliveries (
    delivery_id TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    topic_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    subject TEXT,
    message TEXT NOT NULL,
    message_attributes TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    failed BOOLEAN NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT NOT NULL,
    FOREIGN KEY (region, subscription_id) REFERENCES sns_subscriptions(region, subscription_id) ON DELETE CASCADE
);
CREATE INDEX sns_deliveries_due ON sns_deliveries (failed, next_attempt_ms);
