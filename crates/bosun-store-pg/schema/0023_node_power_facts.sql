-- What nodes report for waking and restarting them (issue 16; SQLite migration 23): their
-- network interfaces as JSON text (name, MAC, IPv4 addresses with prefix) and boot id.
ALTER TABLE instances ADD COLUMN network_interfaces TEXT NOT NULL DEFAULT '[]';
ALTER TABLE instances ADD COLUMN boot_id TEXT NOT NULL DEFAULT '';
