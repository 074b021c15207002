-- An email subscription's mail template (Bosun's BosunMail* attributes) as JSON text, '' for
-- AWS's mail (SQLite migration 21).
ALTER TABLE sns_subscriptions ADD COLUMN mail_template TEXT NOT NULL DEFAULT '';
