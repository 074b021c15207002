-- SendCommand's NotificationConfig (with ServiceRoleArn) kept with its command as JSON text,
-- '' for none (SQLite migration 20).
ALTER TABLE commands ADD COLUMN notification TEXT NOT NULL DEFAULT '';
