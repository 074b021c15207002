-- Why an SNS delivery's last attempt failed, shown with dead letters (SQLite migration 31).
ALTER TABLE sns_deliveries ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
