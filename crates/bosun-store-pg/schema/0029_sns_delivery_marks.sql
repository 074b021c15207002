-- Marks of SNS subscriptions' rate limits (a count per window) and dedupe keys (the delivery
-- holding each), deleted with their subscription (SQLite migration 29).
CREATE TABLE sns_delivery_marks (
    region TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    mark TEXT NOT NULL,
    holder TEXT NOT NULL,
    count BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (region, subscription_id, mark),
    FOREIGN KEY (region, subscription_id) REFERENCES sns_subscriptions(region, subscription_id) ON DELETE CASCADE
);
CREATE INDEX sns_delivery_marks_expiry ON sns_delivery_marks (expires_ms);
