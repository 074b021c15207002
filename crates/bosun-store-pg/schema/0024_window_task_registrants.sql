-- Who registered each maintenance window task: an AUTOMATION task's runbook runs as them
-- (SQLite migration 24).
ALTER TABLE maintenance_window_tasks ADD COLUMN registered_by TEXT NOT NULL DEFAULT '';
