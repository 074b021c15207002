-- A subscription's template (Bosun's BosunTemplate* attributes) as JSON text, '' for AWS's mail
-- and http bodies (SQLite migration 21).
ALTER TABLE sns_subscriptions ADD COLUMN delivery_template TEXT NOT NULL DEFAULT '';
