-- Each node's ping status as last announced by an event (SQLite migration 27); empty until its
-- first report.
ALTER TABLE instances ADD COLUMN reported_ping_status TEXT NOT NULL DEFAULT '';
